//! Meetings of the alliance and the breakthrough meeting: the agenda,
//! decisions item by item, closing, and the agenda document.

use std::collections::HashMap;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Europe::Amsterdam;
use doorbraak_core::{Case, Level, MeetingScope, may_run_meetings, meeting_scope};
use doorbraak_engine::{AgendaItemRecord, EngineError, MeetingRecord, MeetingStatus, Onward};
use maud::{Markup, html};

use crate::cases::{area_name, parse_id};
use crate::ctx::{Ctx, Posted, Viewer};
use crate::errors::{self, engine_error_page, refusal_nl};
use crate::layout::{self, FieldAttrs, FieldErrors, csrf_field, notice, page, respond};
use crate::nl;
use crate::signin::param;

fn meeting_title(ctx: &Ctx, m: &MeetingRecord) -> String {
    match (&m.level, &m.focus_area) {
        (Level::Alliance, Some(a)) => format!(
            "Alliantie {} – {}",
            area_name(ctx, a),
            nl::datetime(m.scheduled_at)
        ),
        _ => format!("{} – {}", nl::level(m.level), nl::datetime(m.scheduled_at)),
    }
}

/// The meetings a person may run: (level, area).
fn runnable(ctx: &Ctx, v: &Viewer) -> Vec<(Level, Option<String>)> {
    let p = v.principal();
    let mut out = Vec::new();
    for a in ctx.web.engine.focus_areas() {
        if may_run_meetings(&p, Level::Alliance, Some(&a.code)) {
            out.push((Level::Alliance, Some(a.code)));
        }
    }
    if may_run_meetings(&p, Level::BreakthroughMeeting, None) {
        out.push((Level::BreakthroughMeeting, None));
    }
    out
}

fn schedule_form(
    ctx: &Ctx,
    v: &Viewer,
    form: &crate::form::FormData,
    errors: &FieldErrors,
) -> Markup {
    let choices: Vec<(String, String)> = runnable(ctx, v)
        .into_iter()
        .map(|(l, a)| match a {
            Some(a) => (
                format!("ALLIANCE:{a}"),
                format!("Alliantie {}", area_name(ctx, &a)),
            ),
            None => (l.as_str().to_owned(), nl::level(l).to_owned()),
        })
        .collect();
    let selected = if form.get("soort").is_empty() {
        choices.first().map(|c| c.0.clone()).unwrap_or_default()
    } else {
        form.get("soort").to_owned()
    };
    html! {
        @if !choices.is_empty() {
            section aria-labelledby="plannen" {
                h2 id="plannen" { "Vergadering plannen" }
                (layout::error_summary(errors, &|f| match f { "scheduledAt" => "Datum en tijd".to_owned(), _ => "Vergadering".to_owned() }))
                form method="post" action="/vergaderingen" novalidate {
                    (csrf_field(ctx))
                    (layout::select_field("soort", "Welke vergadering", None, &choices, &selected, errors, true))
                    (layout::text_field("scheduledAt", "Datum en tijd", Some("Tijd in Nederland."), form.get("scheduledAt"), errors, FieldAttrs::TEXT.kind("datetime-local")))
                    button type="submit" { "Plan vergadering" }
                }
            }
        }
    }
}

async fn list_page(
    ctx: &Ctx,
    v: &Viewer,
    status: StatusCode,
    form: &crate::form::FormData,
    errors: &FieldErrors,
) -> Response {
    let p = v.principal();
    let e = &ctx.web.engine;
    let mut sections = Vec::new();
    for level in [Level::Alliance, Level::BreakthroughMeeting] {
        if meeting_scope(&p, level) == MeetingScope::Nothing {
            continue;
        }
        match e.meetings(&p, level, None, None, 100).await {
            Ok((mut rows, _)) => {
                rows.sort_by_key(|m| (m.status != MeetingStatus::Open, m.scheduled_at));
                sections.push((level, rows));
            }
            Err(err) => return engine_error_page(ctx, &err),
        }
    }
    let body = html! {
        h1 { "Vergaderingen" }
        @if param(ctx, "gelukt").is_some() { (notice("De vergadering is gepland. Zaken die op dit niveau wachten, staan al op de agenda.")) }
        @if sections.is_empty() {
            p { "U neemt geen deel aan vergaderingen." }
        }
        @for (level, rows) in &sections {
            section {
                h2 { (nl::level(*level)) }
                @if rows.is_empty() {
                    p.empty { "Er zijn nog geen vergaderingen." }
                } @else {
                    ul.cards {
                        @for m in rows {
                            li.card {
                                a href={ "/vergaderingen/" (m.id) } { (meeting_title(ctx, m)) }
                                " " span.badge { @if m.status == MeetingStatus::Open { "Open" } @else { "Gesloten" } }
                            }
                        }
                    }
                }
            }
        }
        (schedule_form(ctx, v, form, errors))
    };
    respond(status, page(ctx, "Vergaderingen", body))
}

/// `GET /vergaderingen`.
pub async fn list(ctx: Ctx) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    list_page(
        &ctx,
        &v,
        StatusCode::OK,
        &crate::form::FormData::default(),
        &Vec::new(),
    )
    .await
}

/// `POST /vergaderingen`: schedule one (`soort`, `scheduledAt`).
pub async fn schedule(Posted { ctx, form }: Posted) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    let (level, area) = match form.get("soort").split_once(':') {
        Some(("ALLIANCE", a)) => (Level::Alliance, Some(a.to_owned())),
        _ => (Level::BreakthroughMeeting, None),
    };
    let at = NaiveDateTime::parse_from_str(form.get("scheduledAt").trim(), "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|t| Amsterdam.from_local_datetime(&t).earliest())
        .map(|t| t.with_timezone(&chrono::Utc));
    let Some(at) = at else {
        let errors = vec![(
            "scheduledAt".to_owned(),
            "Vul een datum en tijd in, bijvoorbeeld 10-12-2026 14:00".to_owned(),
        )];
        return list_page(&ctx, &v, StatusCode::UNPROCESSABLE_ENTITY, &form, &errors).await;
    };
    match ctx
        .web
        .engine
        .schedule_meeting(&v.principal(), level, area.as_deref(), at)
        .await
    {
        Ok(m) => Redirect::to(&format!("/vergaderingen/{}?gelukt=gepland", m.id)).into_response(),
        Err(EngineError::Validation { field, message }) => {
            let f = if field == "scheduledAt" {
                field
            } else {
                "soort".to_owned()
            };
            let errors = vec![(f, errors::validation_nl(&message))];
            list_page(&ctx, &v, StatusCode::UNPROCESSABLE_ENTITY, &form, &errors).await
        }
        Err(err) => engine_error_page(&ctx, &err),
    }
}

struct Loaded {
    meeting: MeetingRecord,
    items: Vec<AgendaItemRecord>,
    cases: HashMap<i64, Case>,
}

async fn load(ctx: &Ctx, v: &Viewer, id: &str) -> Result<Loaded, Response> {
    let p = v.principal();
    let e = &ctx.web.engine;
    let Some(id) = parse_id(id) else {
        return Err(errors::not_found_page(ctx));
    };
    let meeting = match e.meeting(&p, id).await {
        Ok(Some(m)) => m,
        Ok(None) => return Err(errors::not_found_page(ctx)),
        Err(err) => return Err(engine_error_page(ctx, &err)),
    };
    let items = e
        .agenda(&p, &[id])
        .await
        .map_err(|err| engine_error_page(ctx, &err))?;
    let ids: Vec<i64> = items.iter().map(|i| i.case_id).collect();
    let cases = e
        .cases_by_ids(&p, &ids)
        .await
        .map_err(|err| engine_error_page(ctx, &err))?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    Ok(Loaded {
        meeting,
        items,
        cases,
    })
}

fn onward_text(i: &AgendaItemRecord) -> Option<&'static str> {
    match i.onward {
        Onward::Stayed => None,
        Onward::To(_) => Some("Doorgeschoven naar de volgende vergadering"),
        Onward::AwaitingMeeting => Some("Doorgeschoven: wacht op een nieuwe vergadering"),
    }
}

async fn detail_page(
    ctx: &Ctx,
    v: &Viewer,
    id: &str,
    status: StatusCode,
    top: Option<Markup>,
) -> Response {
    let Loaded {
        meeting: m,
        items,
        cases,
    } = match load(ctx, v, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let p = v.principal();
    let e = &ctx.web.engine;
    let runs = may_run_meetings(&p, m.level, m.focus_area.as_deref());
    let open = m.status == MeetingStatus::Open;
    let here = format!("/vergaderingen/{}", m.id);
    let (decided, undecided): (Vec<&AgendaItemRecord>, Vec<&AgendaItemRecord>) = items
        .iter()
        .partition(|i| i.decision.is_some() || i.onward != Onward::Stayed);
    let no_errors = FieldErrors::new();
    let body = html! {
        @if let Some(t) = top { (t) }
        @if let Some(g) = param(ctx, "gelukt") {
            (notice(if g == "gesloten" { "De vergadering is gesloten. Zaken zonder besluit gaan mee naar de volgende vergadering." } else { "Gelukt. Het is vastgelegd." }))
        }
        p.breadcrumb { a href="/vergaderingen" { "Vergaderingen" } " › " (nl::day(m.scheduled_at)) }
        h1 { (meeting_title(ctx, &m)) }
        p.lead { @if open { "Open" } @else { "Gesloten" } " · " a href={ (here) "/agenda" } { "Agenda als document" } }
        section aria-labelledby="agenda" {
            h2 id="agenda" { "Agenda" }
            @if undecided.is_empty() {
                p.empty { "Er staan geen zaken meer open op de agenda." }
            }
            ol.agenda {
                @for i in &undecided {
                    @if let Some(c) = cases.get(&i.case_id) {
                        li.card {
                            h3 { a href={ "/zaken/" (c.id) } { (c.facts.reference) " " (c.facts.title) } }
                            p.meta { (nl::state(c.status.state)) " · " (area_name(ctx, &c.facts.focus_area)) }
                            @if open {
                                @let actions = e.available_actions(&p, c);
                                @if actions.is_empty() {
                                    p { "U kunt bij deze zaak nu geen besluit vastleggen." }
                                } @else {
                                    div.item-actions {
                                        @for a in actions {
                                            (item_action(ctx, c, a, &here))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="besluiten" {
            h2 id="besluiten" { "Besluiten" }
            @if decided.is_empty() {
                p.empty { "Nog geen besluiten." }
            } @else {
                div.table-wrap {
                    table {
                        caption { "Besluiten van deze vergadering" }
                        thead { tr { th scope="col" { "Zaak" } th scope="col" { "Besluit" } th scope="col" { "Toelichting" } th scope="col" { "Wanneer" } } }
                        tbody {
                            @for i in &decided {
                                tr {
                                    td { @if let Some(c) = cases.get(&i.case_id) { a href={ "/zaken/" (c.id) } { (c.facts.reference) } } }
                                    td { @if let Some(d) = i.decision { (nl::event(d, cases.get(&i.case_id).map_or(doorbraak_core::CaseState::Resolved, |c| c.status.state))) } @else if let Some(t) = onward_text(i) { (t) } }
                                    td { (i.note.as_deref().unwrap_or("")) }
                                    td { @if let Some(t) = i.decided_at { (nl::datetime(t)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if runs && open {
            section aria-labelledby="beheer-vergadering" {
                h2 id="beheer-vergadering" { "Agenda beheren" }
                form method="post" action={ (here) "/zaak" } novalidate {
                    (csrf_field(ctx))
                    (layout::text_field("reference", "Zaak op de agenda zetten", Some("Kenmerk van een zaak die op dit niveau wacht, bijvoorbeeld ZDO-2026-0042."), "", &no_errors, FieldAttrs::TEXT))
                    button type="submit" { "Op de agenda zetten" }
                }
                form method="post" action={ (here) "/sluiten" } {
                    (csrf_field(ctx))
                    p { "Sluit de vergadering als alle besluiten zijn vastgelegd. Zaken zonder besluit gaan mee naar de volgende vergadering." }
                    button.secondary type="submit" { "Vergadering sluiten" }
                }
            }
        }
    };
    respond(status, page(ctx, &meeting_title(ctx, &m), body))
}

/// One action on an agenda item, a small form that comes back here.
fn item_action(ctx: &Ctx, c: &Case, a: doorbraak_core::CaseAction, back: &str) -> Markup {
    use doorbraak_core::CaseAction as A;
    if matches!(a, A::Resolve | A::Merge) {
        // More fields than fit on an agenda: on the case's own page.
        return html! { p { a href={ "/zaken/" (c.id) "?terug=" (back) } { (nl::action(a)) " (op de pagina van de zaak)" } } };
    }
    let field = crate::cases::note_of(a);
    let id = format!(
        "veld-{}-{}",
        c.id,
        a.as_str().to_lowercase().replace('_', "-")
    );
    html! {
        details.action {
            summary { (nl::action(a)) }
            form method="post" action={ "/zaken/" (c.id) "/actie" } novalidate {
                (csrf_field(ctx))
                input type="hidden" name="action" value=(a.as_str());
                input type="hidden" name="version" value=(c.status.version);
                input type="hidden" name="terug" value=(back);
                @if let Some((name, label, hint)) = field {
                    (layout::text_field_id(&id, name, label, hint, "", &Vec::new(), FieldAttrs::TEXT.multiline()))
                }
                button type="submit" { (nl::action(a)) }
            }
        }
    }
}

/// `GET /vergaderingen/{id}`.
pub async fn detail(ctx: Ctx, Path(id): Path<String>) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    detail_page(&ctx, &v, &id, StatusCode::OK, None).await
}

fn refused(err: &EngineError, title: &str) -> Markup {
    html! { div.error-summary role="alert" { h2 { (title) } p { (refusal_nl(err)) } } }
}

/// `POST /vergaderingen/{id}/zaak` with `reference`.
pub async fn add_case(Path(id): Path<String>, Posted { ctx, form }: Posted) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    let Some(mid) = parse_id(&id) else {
        return errors::not_found_page(&ctx);
    };
    let p = v.principal();
    let e = &ctx.web.engine;
    let case = match e.case_by_reference(&p, form.get("reference")).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            let top = refused(&EngineError::NotFound("case"), "Zaak niet gevonden");
            return detail_page(&ctx, &v, &id, StatusCode::NOT_FOUND, Some(top)).await;
        }
        Err(err) => return engine_error_page(&ctx, &err),
    };
    match e.move_to_meeting(&p, case.id, mid).await {
        Ok(_) => Redirect::to(&format!("/vergaderingen/{mid}?gelukt=toegevoegd")).into_response(),
        Err(err @ (EngineError::Internal(_) | EngineError::Unavailable(_))) => {
            engine_error_page(&ctx, &err)
        }
        Err(err) => {
            let top = refused(&err, "De zaak kan niet op de agenda");
            detail_page(&ctx, &v, &id, errors::status_of(&err), Some(top)).await
        }
    }
}

/// `POST /vergaderingen/{id}/sluiten`.
pub async fn close(Path(id): Path<String>, Posted { ctx, .. }: Posted) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    let Some(mid) = parse_id(&id) else {
        return errors::not_found_page(&ctx);
    };
    match ctx.web.engine.close_meeting(&v.principal(), mid).await {
        Ok(_) => Redirect::to(&format!("/vergaderingen/{mid}?gelukt=gesloten")).into_response(),
        Err(err @ (EngineError::Internal(_) | EngineError::Unavailable(_))) => {
            engine_error_page(&ctx, &err)
        }
        Err(err) => {
            let top = refused(&err, "Sluiten lukte niet");
            detail_page(&ctx, &v, &id, errors::status_of(&err), Some(top)).await
        }
    }
}

/// `GET /vergaderingen/{id}/agenda`: the agenda as a document to print or
/// send round.
pub async fn agenda_document(ctx: Ctx, Path(id): Path<String>) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    let Loaded {
        meeting: m,
        items,
        cases,
    } = match load(&ctx, &v, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let title = format!("Agenda {}", meeting_title(&ctx, &m));
    let body = html! {
        article.document {
            h1 { (title) }
            p { "Vastgesteld op " (nl::datetime(ctx.web.engine.now())) "." }
            ol {
                @for i in &items {
                    @if let Some(c) = cases.get(&i.case_id) {
                        li {
                            h2 { (c.facts.reference) ": " (c.facts.title) }
                            p { strong { "Regel: " } (c.facts.rule.citation) }
                            p { strong { "Gebied: " } (area_name(&ctx, &c.facts.focus_area)) " · " strong { "Stand: " } (nl::state(c.status.state)) }
                            p { strong { "Gevraagd: " } (c.facts.desired_action) }
                            @if let Some(d) = i.decision { p { strong { "Besluit: " } (nl::event(d, c.status.state)) @if let Some(n) = &i.note { ". " (n) } } }
                        }
                    }
                }
            }
            p.no-print { a href={ "/vergaderingen/" (m.id) } { "Terug naar de vergadering" } }
        }
    };
    respond(StatusCode::OK, page(&ctx, &title, body))
}
