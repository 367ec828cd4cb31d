//! Downloads: the barrier register as CSV, a meeting's agenda as a document.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use doorbraak_engine::{BarrierQuery, EngineError, Onward, UserRecord};
use doorbraak_graphql::ErrorCode;

use crate::http::{AppState, authenticate, engine_error_response, error_response};

async fn who(st: &AppState, headers: &HeaderMap) -> Result<UserRecord, Response> {
    match authenticate(st, headers).await? {
        Some(u) => Ok(u),
        None => Err(error_response(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "a valid bearer token is required",
        )),
    }
}

fn internal(e: EngineError) -> Response {
    engine_error_response(e)
}

/// `GET /export/barriers.csv`: the register as the caller may see it
/// (the writer is the engine's, shared with the pages' download).
pub async fn barriers_csv(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let user = match who(&st, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let body = match st
        .engine
        .barriers_csv(&user.principal(), &BarrierQuery::default())
        .await
    {
        Ok(b) => b,
        Err(e) => return internal(e),
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"barriers.csv\"",
            ),
        ],
        body,
    )
        .into_response()
}

/// `GET /meetings/{id}/agenda.md`: the agenda (and the decisions taken) as
/// a plain document for the participants.
pub async fn agenda_document(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let user = match who(&st, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let p = user.principal();
    let not_found = || {
        error_response(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "meeting not found",
        )
    };
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    let m = match st.engine.meeting(&p, id).await {
        Ok(Some(m)) => m,
        Ok(None) => return not_found(),
        Err(e) => return internal(e),
    };
    let items = match st.engine.agenda(&p, &[m.id]).await {
        Ok(i) => i,
        Err(e) => return internal(e),
    };
    let ids: Vec<i64> = items.iter().map(|i| i.case_id).collect();
    let cases = match st.engine.cases_by_ids(&p, &ids).await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let place = match &m.focus_area {
        Some(a) => format!(
            "Alliance {}",
            st.engine.focus_area(a).map_or(a.clone(), |f| f.name)
        ),
        None => "Interdepartmental breakthrough meeting".to_owned(),
    };
    let mut doc = format!(
        "# Agenda: {place}\n\nMeeting {} on {} (UTC), {}.\n\n",
        m.id,
        m.scheduled_at.format("%Y-%m-%d %H:%M"),
        if m.status == doorbraak_engine::MeetingStatus::Open {
            "open"
        } else {
            "closed"
        }
    );
    for (n, item) in items.iter().enumerate() {
        let Some(c) = cases.iter().find(|c| c.id == item.case_id) else {
            continue;
        };
        doc.push_str(&format!(
            "## {}. {} — {}\n\n- Rule: {}{}\n- Focus area: {}\n- What is asked: {}\n",
            n + 1,
            c.facts.reference,
            c.facts.title,
            c.facts.rule.citation,
            c.facts
                .rule
                .bwb_id
                .as_deref()
                .map(|b| format!(" ({b})"))
                .unwrap_or_default(),
            c.facts.focus_area,
            c.facts.desired_action,
        ));
        match (&item.decision, item.onward) {
            (Some(d), _) => doc.push_str(&format!(
                "- Decision: {}{}\n",
                d.as_str(),
                item.note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            )),
            (None, Onward::To(_) | Onward::AwaitingMeeting) => {
                doc.push_str("- Not decided; carried over to the next meeting.\n")
            }
            (None, Onward::Stayed) => doc.push_str("- To decide.\n"),
        }
        doc.push('\n');
    }
    if items.is_empty() {
        doc.push_str("Nothing on the agenda.\n");
    }
    (
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"agenda-{}.md\"", m.id),
            ),
        ],
        doc,
    )
        .into_response()
}
