//! The *vastlopers* overview for the periodic review: cases past their
//! deadline, per area and nationally, how long overdue, at which level and
//! held by which role. Everyone sees the stuck cases in their own scope.
//! It prints cleanly (the stylesheet has a print layout).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::Response;
use doorbraak_core::{Case, Level};
use doorbraak_engine::CaseQuery;
use maud::html;

use crate::cases::{area_name, holder_text};
use crate::ctx::Ctx;
use crate::errors::engine_error_page;
use crate::layout::{page, respond};
use crate::nl;

/// At most this many stuck cases are listed (pages of 100).
const MAX_LISTED: usize = 2_000;

/// `GET /vastlopers`.
pub async fn overview(ctx: Ctx) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    let p = v.principal();
    let e = &ctx.web.engine;
    let now = e.now();
    let q = CaseQuery {
        overdue_at: Some(now),
        ..CaseQuery::default()
    };
    let mut stuck: Vec<Case> = Vec::new();
    let mut after = None;
    let mut more = true;
    while more && stuck.len() < MAX_LISTED {
        match e.list_cases(&p, &q, after, 100).await {
            Ok(page) => {
                more = page.has_next;
                after = page.cases.last().map(|c| c.id);
                stuck.extend(page.cases);
            }
            Err(err) => return engine_error_page(&ctx, &err),
        }
    }
    let overdue_days = |c: &Case| c.status.deadline.map_or(0, |d| (now - d).num_days());
    stuck.sort_by_key(|c| std::cmp::Reverse(overdue_days(c)));
    let mut by_area: BTreeMap<String, Vec<&Case>> = BTreeMap::new();
    for c in &stuck {
        by_area
            .entry(c.facts.focus_area.clone())
            .or_default()
            .push(c);
    }
    let mut by_level: BTreeMap<Level, usize> = BTreeMap::new();
    for c in &stuck {
        *by_level.entry(c.status.level).or_default() += 1;
    }
    let body = html! {
        h1 { "Vastlopers" }
        p.lead { "Zaken die over hun deadline zijn, op " (nl::datetime(now)) ". Voor het periodieke overleg over vastgelopen zaken." }
        p.no-print { "Tip: druk deze pagina af of bewaar hem als PDF via het afdrukmenu van uw browser." }
        @if stuck.is_empty() {
            p.empty { "Er zijn geen vastgelopen zaken. Mooi." }
        } @else {
            section aria-labelledby="landelijk" {
                h2 id="landelijk" { "Landelijk" }
                div.table-wrap {
                    table {
                        caption { "Vastgelopen zaken per niveau" }
                        thead { tr { th scope="col" { "Niveau" } th scope="col" class="num" { "Zaken" } } }
                        tbody {
                            @for (l, n) in &by_level { tr { th scope="row" { (nl::level(*l)) } td.num { (n) } } }
                            tr.total { th scope="row" { "Totaal" } td.num { (stuck.len()) } }
                        }
                    }
                }
                @if stuck.len() >= MAX_LISTED { p { "Alleen de eerste " (MAX_LISTED) " zaken staan hieronder." } }
            }
            @for (area, cases) in &by_area {
                section aria-labelledby={ "gebied-" (area) } {
                    h2 id={ "gebied-" (area) } { (area_name(&ctx, area)) " (" (cases.len()) ")" }
                    div.table-wrap {
                        table {
                            caption { "Vastgelopen zaken in " (area_name(&ctx, area)) }
                            thead { tr {
                                th scope="col" { "Kenmerk" }
                                th scope="col" { "Titel" }
                                th scope="col" { "Niveau" }
                                th scope="col" { "Aan zet" }
                                th scope="col" class="num" { "Dagen te laat" }
                            } }
                            tbody {
                                @for c in cases {
                                    tr {
                                        td { a href={ "/zaken/" (c.id) } { (c.facts.reference) } }
                                        td { (c.facts.title) }
                                        td { (nl::level(c.status.level)) }
                                        td { (holder_text(c)) }
                                        td.num { (overdue_days(c)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    respond(StatusCode::OK, page(&ctx, "Vastlopers", body))
}
