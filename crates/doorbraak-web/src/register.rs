//! The barrier register and the search of earlier answers.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use doorbraak_core::{BarrierStatus, may_record_implementation};
use doorbraak_engine::{BarrierQuery, BarrierRecord, EngineError};
use maud::{Markup, html};

use crate::cases::{area_name, ministry_name, parse_id, precedent_list};
use crate::ctx::{Ctx, Posted, Viewer};
use crate::errors::{self, engine_error_page, refusal_nl, validation_nl};
use crate::form::parse_date;
use crate::layout::{self, FieldAttrs, FieldErrors, csrf_field, notice, page, respond};
use crate::nl;
use crate::signin::param;

pub fn barrier_table(ctx: &Ctx, rows: &[(BarrierRecord, usize, usize)], caption: &str) -> Markup {
    html! {
        div.table-wrap {
            table {
                caption { (caption) }
                thead { tr {
                    th scope="col" { "Regel" }
                    th scope="col" { "Ministerie" }
                    th scope="col" { "Status" }
                    th scope="col" class="num" { "Zaken" }
                    th scope="col" class="num" { "Gebieden" }
                } }
                tbody {
                    @for (b, cases, areas) in rows {
                        tr {
                            td { a href={ "/knelpunten/" (b.id) } { (b.citation) } }
                            td { (ministry_name(ctx, &b.owning_ministry)) }
                            td { (nl::barrier_status(b.status)) }
                            td.num { (cases) }
                            td.num { (areas) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /knelpunten`: the register, filtered by ministry, status and area.
pub async fn list(ctx: Ctx) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    let p = v.principal();
    let e = &ctx.web.engine;
    let ministry = param(&ctx, "ministerie").filter(|m| e.ministry(m).is_some());
    let status = param(&ctx, "status").and_then(|s| s.parse::<BarrierStatus>().ok());
    let area = param(&ctx, "gebied").filter(|a| e.focus_area(a).is_some());
    let q = BarrierQuery {
        ministry: ministry.clone(),
        status,
        area: area.clone(),
        evaluation_due_by: None,
    };
    let after = param(&ctx, "na").and_then(|s| parse_id(&s));
    let (rows, more) = match e.barriers(&p, &q, after, 50).await {
        Ok(x) => x,
        Err(err) => return engine_error_page(&ctx, &err),
    };
    let cases = match e.barrier_cases(&p, &rows).await {
        Ok(x) => x,
        Err(err) => return engine_error_page(&ctx, &err),
    };
    let counted: Vec<(BarrierRecord, usize, usize)> = rows
        .iter()
        .map(|b| {
            let cs = cases.get(&b.id).map_or(&[][..], Vec::as_slice);
            let mut areas: Vec<&str> = cs.iter().map(|c| c.focus_area.as_str()).collect();
            areas.sort_unstable();
            areas.dedup();
            (b.clone(), cs.len(), areas.len())
        })
        .collect();
    let ministries: Vec<(String, String)> = e
        .ministries()
        .into_iter()
        .map(|m| (m.code, m.name))
        .collect();
    let areas: Vec<(String, String)> = e
        .focus_areas()
        .into_iter()
        .map(|a| (a.code, a.name))
        .collect();
    let statuses: Vec<(String, String)> = BarrierStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), nl::barrier_status(*s).to_owned()))
        .collect();
    let none = FieldErrors::new();
    let next = rows.last().map(|b| {
        let mut s = format!("/knelpunten?na={}", b.id);
        for (k, val) in [("ministerie", &ministry), ("gebied", &area)] {
            if let Some(x) = val {
                s.push_str(&format!("&{k}={x}"));
            }
        }
        if let Some(st) = status {
            s.push_str(&format!("&status={}", st.as_str()));
        }
        s
    });
    let body = html! {
        h1 { "Knelpunten" }
        p { "Het register van regels die professionals tegenhouden, en wat eraan is gedaan." }
        form.filters method="get" action="/knelpunten" {
            (layout::select_field("ministerie", "Ministerie", None, &ministries, ministry.as_deref().unwrap_or(""), &none, false))
            (layout::select_field("status", "Status", None, &statuses, status.map_or("", |s| s.as_str()), &none, false))
            (layout::select_field("gebied", "Focusgebied", None, &areas, area.as_deref().unwrap_or(""), &none, false))
            button type="submit" { "Filter" }
        }
        @if counted.is_empty() {
            p.empty { "Geen knelpunten gevonden." }
        } @else {
            (barrier_table(&ctx, &counted, "Knelpunten in het register"))
        }
        @if more { @if let Some(n) = &next { p { a href=(n) { "Volgende knelpunten" } } } }
    };
    respond(StatusCode::OK, page(&ctx, "Knelpunten", body))
}

async fn detail_page(
    ctx: &Ctx,
    v: &Viewer,
    id: &str,
    status: StatusCode,
    top: Option<Markup>,
    errors: &FieldErrors,
) -> Response {
    let p = v.principal();
    let e = &ctx.web.engine;
    let Some(id) = parse_id(id) else {
        return errors::not_found_page(ctx);
    };
    let b = match e.barrier(&p, id).await {
        Ok(Some(b)) => b,
        Ok(None) => return errors::not_found_page(ctx),
        Err(err) => return engine_error_page(ctx, &err),
    };
    let cases = match e.barrier_cases(&p, std::slice::from_ref(&b)).await {
        Ok(mut m) => m.remove(&b.id).unwrap_or_default(),
        Err(err) => return engine_error_page(ctx, &err),
    };
    let may_implement = may_record_implementation(&p, &b.owning_ministry)
        && b.status == BarrierStatus::BreakthroughDecided;
    let body = html! {
        @if let Some(t) = top { (t) }
        @if param(ctx, "gelukt").is_some() { (notice("Vastgelegd: de wijziging is ingevoerd.")) }
        p.breadcrumb { a href="/knelpunten" { "Knelpunten" } " › " (b.citation) }
        h1 { (b.citation) }
        dl.facts {
            dt { "Status" } dd { (nl::barrier_status(b.status)) }
            dt { "Ministerie" } dd { (ministry_name(ctx, &b.owning_ministry)) }
            dt { "Soort regel" } dd { (nl::scope(b.scope)) }
            @if let Some(bwb) = &b.bwb_id { dt { "BWB-nummer" } dd { (bwb) } }
            @if let Some(o) = b.decision_outcome { dt { "Besluit" } dd { (nl::outcome(o)) @if let Some(t) = b.decided_at { " (" (nl::day(t)) ")" } } }
            @if let Some(d) = b.effective_from { dt { "Geldt vanaf" } dd { (nl::date(d)) } }
            @if let Some(d) = b.experiment_ends { dt { "Experiment tot" } dd { (nl::date(d)) } }
            @if let Some(d) = b.evaluation_date { dt { "Evaluatie" } dd { (nl::date(d)) } }
            @if let Some(d) = b.in_force_on { dt { "Ingevoerd op" } dd { (nl::date(d)) } }
        }
        @if let Some(n) = &b.decision_note { h2 { "Toelichting bij het besluit" } (layout::paragraphs(n)) }
        @if let Some(n) = &b.implementation_note { h2 { "Over de invoering" } (layout::paragraphs(n)) }
        h2 { "Zaken bij dit knelpunt" }
        @if cases.is_empty() {
            p.empty { "U ziet hier geen zaken." }
        } @else {
            div.table-wrap {
                table {
                    caption { "Zaken bij dit knelpunt" }
                    thead { tr { th scope="col" { "Kenmerk" } th scope="col" { "Gebied" } th scope="col" { "Waar" } th scope="col" { "Uitkomst" } } }
                    tbody {
                        @for c in &cases {
                            tr {
                                td { (c.reference) }
                                td { (area_name(ctx, &c.focus_area)) }
                                td { (nl::state(c.state)) }
                                td { (c.outcome.map_or("–", nl::outcome)) }
                            }
                        }
                    }
                }
            }
        }
        @if may_implement {
            section aria-labelledby="invoering" {
                h2 id="invoering" { "Invoering vastleggen" }
                (layout::error_summary(errors, &|f| if f == "inForceOn" { "Datum".to_owned() } else { "Toelichting".to_owned() }))
                form method="post" action={ "/knelpunten/" (b.id) "/ingevoerd" } novalidate {
                    (csrf_field(ctx))
                    (layout::text_field("inForceOn", "Ingevoerd op", None, "", errors, FieldAttrs::TEXT.kind("date")))
                    (layout::text_field("note", "Toelichting", Some("Wat is er veranderd, en waar staat het?"), "", errors, FieldAttrs::TEXT.multiline()))
                    button type="submit" { "Invoering vastleggen" }
                }
            }
        }
    };
    respond(status, page(ctx, &b.citation, body))
}

/// `GET /knelpunten/{id}`.
pub async fn detail(ctx: Ctx, Path(id): Path<String>) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    detail_page(&ctx, &v, &id, StatusCode::OK, None, &Vec::new()).await
}

/// `POST /knelpunten/{id}/ingevoerd` with `inForceOn` and `note`.
pub async fn implemented(Path(id): Path<String>, Posted { ctx, form }: Posted) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    let Some(bid) = parse_id(&id) else {
        return errors::not_found_page(&ctx);
    };
    let date = match parse_date(form.get("inForceOn")) {
        Ok(d) => d,
        Err(m) => {
            let errors = vec![("inForceOn".to_owned(), m.to_owned())];
            return detail_page(
                &ctx,
                &v,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                &errors,
            )
            .await;
        }
    };
    match ctx
        .web
        .engine
        .record_implementation(&v.principal(), bid, date, form.get("note"))
        .await
    {
        Ok(_) => Redirect::to(&format!("/knelpunten/{bid}?gelukt=1")).into_response(),
        Err(EngineError::Validation { field, message }) => {
            let errors = vec![(field, validation_nl(&message))];
            detail_page(
                &ctx,
                &v,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                &errors,
            )
            .await
        }
        Err(EngineError::PersonalData { field }) => {
            let errors = vec![(field, errors::BSN_HELP.to_owned())];
            detail_page(
                &ctx,
                &v,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                &errors,
            )
            .await
        }
        Err(err @ (EngineError::Forbidden(_) | EngineError::InvalidTransition(_))) => {
            let top = html! { div.error-summary role="alert" { h2 { "Dit kan niet" } p { (refusal_nl(&err)) } } };
            detail_page(
                &ctx,
                &v,
                &id,
                errors::status_of(&err),
                Some(top),
                &Vec::new(),
            )
            .await
        }
        Err(err) => engine_error_page(&ctx, &err),
    }
}

/// `GET /eerdere-antwoorden?q=`: what was decided before about a rule.
pub async fn precedents(ctx: Ctx) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    let q = param(&ctx, "q").unwrap_or_default();
    let q = q.trim();
    let (hits, problem) = if q.is_empty() {
        (Vec::new(), None)
    } else {
        match ctx.web.engine.precedents(&v.principal(), q, 20).await {
            Ok(h) => (h, None),
            Err(EngineError::Validation { .. }) => (
                Vec::new(),
                Some("Typ ten minste één woord van twee letters of meer."),
            ),
            Err(err) => return engine_error_page(&ctx, &err),
        }
    };
    let errors: FieldErrors = problem
        .map(|m| vec![("q".to_owned(), m.to_owned())])
        .unwrap_or_default();
    let body = html! {
        h1 { "Eerdere antwoorden" }
        p { "Wat is er eerder besloten over een regel? Zoek op de naam van de wet, een artikel of een woord." }
        form method="get" action="/eerdere-antwoorden" role="search" {
            (layout::text_field("q", "Zoek", Some("Bijvoorbeeld \u{201c}kostendelersnorm\u{201d} of \u{201c}Participatiewet artikel 31\u{201d}."), q, &errors, FieldAttrs::TEXT.kind("search")))
            button type="submit" { "Zoeken" }
        }
        @if !q.is_empty() && problem.is_none() {
            @if hits.is_empty() {
                p.empty { "Geen eerdere antwoorden gevonden voor \u{201c}" (q) "\u{201d}." }
            } @else {
                h2 { (hits.len()) " eerdere antwoorden" }
                (precedent_list(&ctx, &hits))
            }
        }
    };
    respond(
        if problem.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        page(&ctx, "Eerdere antwoorden", body),
    )
}
