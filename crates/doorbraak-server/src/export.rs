//! Downloads: the barrier register as CSV, a meeting's agenda as a document.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use doorbraak_engine::{BarrierQuery, EngineError, Onward, UserRecord};
use doorbraak_graphql::ErrorCode;

use crate::http::{AppState, authenticate, engine_error_response, error_response};

async fn who(st: &AppState, headers: &HeaderMap) -> Result<UserRecord, Response> {
    match authenticate(&st.engine, headers).await? {
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

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a
/// tab or carriage return in front) gets a `'` in front, so it shows as
/// text. Quoting is the `csv` writer's.
fn defused(v: &str) -> std::borrow::Cow<'_, str> {
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{v}"))
    } else {
        std::borrow::Cow::Borrowed(v)
    }
}

/// `GET /export/barriers.csv`: the register as the caller may see it.
/// UTF-8 with a byte-order mark and `;` between fields, so that it opens
/// cleanly in a spreadsheet set to Dutch (where `,` is the decimal sign).
pub async fn barriers_csv(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let user = match who(&st, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let p = user.principal();
    let mut out = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::from("\u{feff}".as_bytes()));
    let head = [
        "id",
        "citation",
        "bwb_id",
        "scope",
        "owning_ministry",
        "status",
        "decision_outcome",
        "decided_at",
        "effective_from",
        "experiment_ends",
        "evaluation_date",
        "in_force_on",
        "cases",
        "areas",
    ];
    if let Err(e) = out.write_record(head) {
        return internal(EngineError::Internal(format!("cannot write CSV: {e}")));
    }
    let mut after = None;
    loop {
        let (rows, more) = match st
            .engine
            .barriers(&p, &BarrierQuery::default(), after, 100)
            .await
        {
            Ok(x) => x,
            Err(e) => return internal(e),
        };
        let cases = match st.engine.barrier_cases(&p, &rows).await {
            Ok(c) => c,
            Err(e) => return internal(e),
        };
        for b in &rows {
            let linked = cases.get(&b.id).map(Vec::as_slice).unwrap_or_default();
            let mut areas: Vec<&str> = linked.iter().map(|c| c.focus_area.as_str()).collect();
            areas.sort_unstable();
            areas.dedup();
            let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
            let fields = [
                b.id.to_string(),
                b.citation.clone(),
                b.bwb_id.clone().unwrap_or_default(),
                b.scope.as_str().to_owned(),
                b.owning_ministry.clone(),
                b.status.as_str().to_owned(),
                b.decision_outcome
                    .map(|o| o.as_str().to_owned())
                    .unwrap_or_default(),
                b.decided_at
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                date(b.effective_from),
                date(b.experiment_ends),
                date(b.evaluation_date),
                date(b.in_force_on),
                linked.len().to_string(),
                areas.join(" "),
            ];
            if let Err(e) = out.write_record(fields.iter().map(|f| defused(f).into_owned())) {
                return internal(EngineError::Internal(format!("cannot write CSV: {e}")));
            }
        }
        if !more {
            break;
        }
        after = rows.last().map(|b| b.id);
    }
    let body = match out.into_inner() {
        Ok(b) => b,
        Err(e) => return internal(EngineError::Internal(format!("cannot write CSV: {e}"))),
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

#[cfg(test)]
mod tests {
    use super::defused;

    #[test]
    fn cells_are_defused_and_quoted() {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let cells = [
            "=SUM(A1:A9)",
            "+31 6",
            "-1",
            "@cmd",
            "a;b",
            "zei \"ja\"",
            "regel\nnieuw",
            "Wet art. 3",
        ];
        w.write_record(cells.iter().map(|c| defused(c).into_owned()))
            .unwrap();
        let line = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(
            line,
            "'=SUM(A1:A9);'+31 6;'-1;'@cmd;\"a;b\";\"zei \"\"ja\"\"\";\"regel\nnieuw\";Wet art. 3\r\n"
        );
    }
}
