//! A ministry's dashboard: its barriers, time per level, outcomes and euros
//! unlocked, experiments to evaluate, the CSV download and the report.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Europe::Amsterdam;
use doorbraak_core::{
    PolicyDomain, StatisticsScope, Timestamp, evaluation_due_by, may_read_statistics,
    statistics_scope,
};
use doorbraak_engine::{BarrierQuery, MinistryStatistics, StatFilter};
use maud::{Markup, html};

use crate::cases::{area_name, ministry_name};
use crate::chart::{self, Bar};
use crate::ctx::{Ctx, Viewer};
use crate::errors::engine_error_page;
use crate::form::parse_date;
use crate::layout::{self, FieldAttrs, FieldErrors, page, respond};
use crate::nl;
use crate::register::barrier_table;
use crate::signin::param;

/// Midnight in Amsterdam at the start of a day, as an instant.
fn start_of(d: NaiveDate) -> Option<Timestamp> {
    Amsterdam
        .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// The filters of the page: ministry, period (`van`, `tot` inclusive),
/// area and domain; with errors for dates that cannot be read.
struct Filters {
    ministry: String,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    area: Option<String>,
    domain: Option<PolicyDomain>,
    errors: FieldErrors,
}

impl Filters {
    fn read(ctx: &Ctx, v: &Viewer) -> Option<Filters> {
        let p = v.principal();
        let e = &ctx.web.engine;
        let ministry = match statistics_scope(&p) {
            StatisticsScope::Nothing => return None,
            StatisticsScope::Ministry(m) => m,
            StatisticsScope::All => param(ctx, "ministerie")
                .filter(|m| e.ministry(m).is_some())
                .or_else(|| e.ministries().first().map(|m| m.code.clone()))?,
        };
        let mut errors = FieldErrors::new();
        let mut date = |name: &str| match param(ctx, name).filter(|s| !s.trim().is_empty()) {
            None => None,
            Some(raw) => match parse_date(&raw) {
                Ok(d) => Some(d),
                Err(m) => {
                    errors.push((name.to_owned(), m.to_owned()));
                    None
                }
            },
        };
        let from = date("van");
        let to = date("tot");
        Some(Filters {
            ministry,
            from,
            to,
            area: param(ctx, "gebied").filter(|a| e.focus_area(a).is_some()),
            domain: param(ctx, "terrein").and_then(|d| d.parse().ok()),
            errors,
        })
    }
    fn stat_filter(&self) -> StatFilter {
        StatFilter {
            from: self.from.and_then(start_of),
            to: self.to.and_then(|d| d.succ_opt()).and_then(start_of),
            area: self.area.clone(),
            domain: self.domain,
        }
    }
    fn query_string(&self) -> String {
        let mut s = format!("ministerie={}", self.ministry);
        if let Some(d) = self.from {
            s.push_str(&format!("&van={d}"));
        }
        if let Some(d) = self.to {
            s.push_str(&format!("&tot={d}"));
        }
        if let Some(a) = &self.area {
            s.push_str(&format!("&gebied={a}"));
        }
        if let Some(d) = self.domain {
            s.push_str(&format!("&terrein={}", d.as_str()));
        }
        s
    }
}

fn filter_form(ctx: &Ctx, v: &Viewer, f: &Filters, action: &str) -> Markup {
    let e = &ctx.web.engine;
    let p = v.principal();
    let ministries: Vec<(String, String)> = e
        .ministries()
        .into_iter()
        .filter(|m| may_read_statistics(&p, &m.code))
        .map(|m| (m.code, m.name))
        .collect();
    let areas: Vec<(String, String)> = e
        .focus_areas()
        .into_iter()
        .map(|a| (a.code, a.name))
        .collect();
    let domains: Vec<(String, String)> = PolicyDomain::ALL
        .iter()
        .map(|d| (d.as_str().to_owned(), nl::domain(*d).to_owned()))
        .collect();
    let date_value = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    html! {
        (layout::error_summary(&f.errors, &|n| if n == "van" { "Vanaf".to_owned() } else { "Tot en met".to_owned() }))
        form.filters method="get" action=(action) {
            @if ministries.len() > 1 {
                (layout::select_field("ministerie", "Ministerie", None, &ministries, &f.ministry, &Vec::new(), true))
            } @else {
                input type="hidden" name="ministerie" value=(f.ministry);
            }
            (layout::text_field("van", "Vanaf", None, &date_value(f.from), &f.errors, FieldAttrs::TEXT.optional().kind("date")))
            (layout::text_field("tot", "Tot en met", None, &date_value(f.to), &f.errors, FieldAttrs::TEXT.optional().kind("date")))
            (layout::select_field("gebied", "Focusgebied", None, &areas, f.area.as_deref().unwrap_or(""), &Vec::new(), false))
            (layout::select_field("terrein", "Beleidsterrein", None, &domains, f.domain.map_or("", |d| d.as_str()), &Vec::new(), false))
            button type="submit" { "Toon cijfers" }
        }
    }
}

fn totals(s: &MinistryStatistics) -> Markup {
    html! {
        ul.totals {
            li { span.figure { (s.barriers_reported) } " knelpunten gemeld" }
            li { span.figure { (s.barriers_decided) } " met een doorbraak besloten" }
            li { span.figure { (s.barriers_implemented) } " ingevoerd" }
            li { span.figure { (s.barriers_refused) } " zonder doorbraak" }
            li { span.figure { (s.cases_total) } " zaken, in " (s.areas_affected) " gebieden" }
            li { span.figure { (nl::euros_cents(s.funds_unlocked_cents)) } " vrijgemaakt" }
        }
    }
}

fn charts(s: &MinistryStatistics) -> Markup {
    let mut levels = Vec::new();
    for d in &s.level_durations {
        if let Some(m) = d.median_days {
            levels.push(Bar {
                label: format!("{}: mediaan", nl::level(d.level)),
                value: m,
                shown: format!("{} dagen", nl::decimal1(m)),
            });
        }
        if let Some(p90) = d.p90_days {
            levels.push(Bar {
                label: format!("{}: 90e percentiel", nl::level(d.level)),
                value: p90,
                shown: format!("{} dagen", nl::decimal1(p90)),
            });
        }
    }
    let outcomes: Vec<Bar> = s
        .outcomes
        .iter()
        .map(|(o, n)| Bar {
            label: o
                .map_or("Gesloten zonder doorbraak", nl::outcome)
                .to_owned(),
            value: *n as f64,
            shown: n.to_string(),
        })
        .collect();
    let months = &s.funds_by_month;
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
    ];
    let funds: Vec<Bar> = months
        .iter()
        .map(|((y, m), c)| Bar {
            label: format!("{} {y}", MONTHS[(*m as usize).saturating_sub(1) % 12]),
            value: *c as f64,
            shown: nl::euros_cents(*c),
        })
        .collect();
    html! {
        div.charts {
            (chart::bars("tijd", "Tijd per niveau (in dagen, zonder wachttijd op de indiener)", ("Niveau", "Dagen"), &levels))
            (chart::bars("uitkomsten", "Uitkomsten van besloten zaken", ("Uitkomst", "Zaken"), &outcomes))
            (chart::bars("geld", "Vrijgemaakt geld per maand", ("Maand", "Bedrag"), &funds))
        }
    }
}

/// The signed-in reader of statistics and their filters, or the page
/// that says the statistics are not for them.
fn reader(ctx: &Ctx, title: &str) -> Result<(Viewer, Filters), Response> {
    let v = ctx.require()?.clone();
    match Filters::read(ctx, &v) {
        Some(f) => Ok((v, f)),
        None => Err(layout::message_page(
            ctx,
            StatusCode::FORBIDDEN,
            title,
            "De statistiek is voor ministeries, rijksvertegenwoordigers en het secretariaat.",
        )),
    }
}

/// `GET /statistiek`.
pub async fn dashboard(ctx: Ctx) -> Response {
    let (v, f) = match reader(&ctx, "Statistiek") {
        Ok(x) => x,
        Err(r) => return r,
    };
    let p = v.principal();
    let e = &ctx.web.engine;
    let s = match e
        .ministry_statistics(&p, &f.ministry, &f.stat_filter())
        .await
    {
        Ok(s) => s,
        Err(err) => return engine_error_page(&ctx, &err),
    };
    let today = nl::local_date(e.now());
    let due = BarrierQuery {
        ministry: Some(f.ministry.clone()),
        evaluation_due_by: Some(evaluation_due_by(today)),
        ..BarrierQuery::default()
    };
    let evaluations = match e.barriers(&p, &due, None, 100).await {
        Ok((rows, _)) => rows,
        Err(err) => return engine_error_page(&ctx, &err),
    };
    let name = ministry_name(&ctx, &f.ministry);
    let qs = f.query_string();
    let body = html! {
        h1 { "Statistiek: " (name) }
        (filter_form(&ctx, &v, &f, "/statistiek"))
        @if let Some(a) = &f.area { p { "Alleen " (area_name(&ctx, a)) "." } }
        (totals(&s))
        (charts(&s))
        section aria-labelledby="per-knelpunt" {
            h2 id="per-knelpunt" { "Per knelpunt" }
            @if s.per_barrier.is_empty() { p.empty { "Nog geen knelpunten." } } @else {
                (barrier_table(&ctx, &s.per_barrier, "Knelpunten van dit ministerie, met de meeste zaken eerst"))
            }
        }
        section aria-labelledby="evaluaties" {
            h2 id="evaluaties" { "Experimenten om te evalueren" }
            @if evaluations.is_empty() { p.empty { "Er hoeft nu geen experiment te worden geëvalueerd." } } @else {
                ul {
                    @for b in &evaluations {
                        li {
                            a href={ "/knelpunten/" (b.id) } { (b.citation) }
                            @if let Some(d) = b.evaluation_date { " – evaluatie " (nl::date(d)) }
                            @if let Some(d) = b.experiment_ends { " – loopt tot " (nl::date(d)) }
                        }
                    }
                }
            }
        }
        section aria-labelledby="downloads" {
            h2 id="downloads" { "Downloaden en rapporteren" }
            ul {
                li { a href={ "/statistiek/knelpunten.csv?" (qs) } download { "Knelpunten als CSV-bestand (voor een spreadsheet)" } }
                li { a href={ "/statistiek/rapport?" (qs) } { "Rapport over deze periode" } }
            }
        }
    };
    respond(
        if f.errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        page(&ctx, "Statistiek", body),
    )
}

/// `GET /statistiek/knelpunten.csv`: the register of the ministry (or, for
/// the secretariat, of the ministry chosen), signed in with the session.
pub async fn csv(ctx: Ctx) -> Response {
    let (v, f) = match reader(&ctx, "Downloaden") {
        Ok(x) => x,
        Err(r) => return r,
    };
    let q = BarrierQuery {
        ministry: Some(f.ministry.clone()),
        area: f.area.clone(),
        ..BarrierQuery::default()
    };
    match ctx.web.engine.barriers_csv(&v.principal(), &q).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"knelpunten-{}.csv\"",
                        f.ministry.to_lowercase()
                    ),
                ),
            ],
            body,
        )
            .into_response(),
        Err(err) => engine_error_page(&ctx, &err),
    }
}

/// `GET /statistiek/rapport`: the periodic report, to read or print.
pub async fn report(ctx: Ctx) -> Response {
    let (v, f) = match reader(&ctx, "Rapport") {
        Ok(x) => x,
        Err(r) => return r,
    };
    let p = v.principal();
    let e = &ctx.web.engine;
    let sf = f.stat_filter();
    let s = match e.ministry_statistics(&p, &f.ministry, &sf).await {
        Ok(s) => s,
        Err(err) => return engine_error_page(&ctx, &err),
    };
    let lessons = match e.lessons(&p, &f.ministry, &sf, 50).await {
        Ok(l) => l,
        Err(err) => return engine_error_page(&ctx, &err),
    };
    let period = match (f.from, f.to) {
        (Some(a), Some(b)) => format!("{} tot en met {}", nl::date(a), nl::date(b)),
        (Some(a), None) => format!("vanaf {}", nl::date(a)),
        (None, Some(b)) => format!("tot en met {}", nl::date(b)),
        (None, None) => "alle tijd".to_owned(),
    };
    let name = ministry_name(&ctx, &f.ministry);
    let body = html! {
        article.document {
            h1 { "Rapport doorbraken: " (name) }
            p.lead { "Periode: " (period) ". Opgesteld op " (nl::day(e.now())) "." }
            (filter_form(&ctx, &v, &f, "/statistiek/rapport"))
            (totals(&s))
            (charts(&s))
            h2 { "Wat we leerden" }
            @if lessons.is_empty() { p.empty { "Geen besluiten in deze periode." } }
            @for l in &lessons {
                section.lesson {
                    h3 { (l.citation) }
                    p.meta { (l.case_reference) " · " (l.outcome.map_or("Geen doorbraak", nl::outcome)) " · " (nl::day(l.decided_at)) }
                    (layout::paragraphs(&l.explanation))
                }
            }
        }
    };
    respond(StatusCode::OK, page(&ctx, &format!("Rapport {name}"), body))
}
