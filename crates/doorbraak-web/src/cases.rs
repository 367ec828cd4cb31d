//! Cases: the lists (my cases, my queue), submitting a case, one case with
//! its steps and the actions the caller may take.

use std::collections::HashMap;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use doorbraak_core::{
    Case, CaseAction, CaseState, DecisionDates, Level, Outcome, PolicyDomain, Principal, Role,
    RuleScope, SubmitInput, Urgency, handled_level, holder_role, is_overdue,
};
use doorbraak_engine::{BarrierChoice, CaseQuery, CommandInput, EngineError, StoredEvent};
use maud::{Markup, html};

use crate::ctx::{Ctx, Posted, Viewer};
use crate::errors::{self, BSN_HELP, engine_error_page, form_field, refusal_nl, validation_nl};
use crate::form::{FormData, parse_amount, parse_count, parse_date};
use crate::layout::{self, FieldAttrs, FieldErrors, csrf_field, field_id, notice, page, respond};
use crate::nl;
use crate::signin::param;

pub fn parse_id(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok().filter(|n| *n > 0)
}

/// The filters of the case list, as query parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    All,
    New,
    Mine,
    Waiting,
    Overdue,
    Open,
    Done,
}

impl Filter {
    const ALL: [Filter; 7] = [
        Filter::New,
        Filter::Mine,
        Filter::Waiting,
        Filter::Overdue,
        Filter::Open,
        Filter::Done,
        Filter::All,
    ];
    fn key(self) -> &'static str {
        match self {
            Filter::All => "alle",
            Filter::New => "nieuw",
            Filter::Mine => "mijn",
            Filter::Waiting => "wacht",
            Filter::Overdue => "te-laat",
            Filter::Open => "open",
            Filter::Done => "afgerond",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Filter::All => "Alle",
            Filter::New => "Nieuw",
            Filter::Mine => "Opgepakt door mij",
            Filter::Waiting => "Wacht op informatie",
            Filter::Overdue => "Te laat",
            Filter::Open => "Lopend",
            Filter::Done => "Afgerond",
        }
    }
    fn parse(s: &str) -> Option<Filter> {
        Filter::ALL.into_iter().find(|f| f.key() == s)
    }
    /// The filters that make sense for a role.
    fn offered(p: &Principal) -> Vec<Filter> {
        match handled_level(p.role) {
            Some(_) => Filter::ALL.to_vec(),
            None => vec![
                Filter::Open,
                Filter::Waiting,
                Filter::Overdue,
                Filter::Done,
                Filter::All,
            ],
        }
    }
    fn query(self, p: &Principal, now: doorbraak_core::Timestamp) -> CaseQuery {
        let open: Vec<CaseState> = CaseState::ALL
            .iter()
            .copied()
            .filter(|s| s.is_open())
            .collect();
        match self {
            Filter::All => CaseQuery::default(),
            Filter::New => CaseQuery {
                states: handled_level(p.role)
                    .map(|l| vec![l.state()])
                    .unwrap_or(open),
                unassigned: true,
                ..CaseQuery::default()
            },
            Filter::Mine => CaseQuery {
                assignee: Some(p.id),
                ..CaseQuery::default()
            },
            Filter::Waiting => CaseQuery {
                states: vec![CaseState::AwaitingInformation],
                ..CaseQuery::default()
            },
            Filter::Overdue => CaseQuery {
                overdue_at: Some(now),
                ..CaseQuery::default()
            },
            Filter::Open => CaseQuery {
                states: open,
                ..CaseQuery::default()
            },
            Filter::Done => CaseQuery {
                states: CaseState::ALL
                    .iter()
                    .copied()
                    .filter(|s| !s.is_open())
                    .collect(),
                ..CaseQuery::default()
            },
        }
    }
}

/// Who holds a case now, in words.
pub fn holder_text(case: &Case) -> String {
    match holder_role(&case.status) {
        Some(Role::Professional) => "De indiener (er is een vraag gesteld)".to_owned(),
        Some(r) => nl::role(r).to_owned(),
        None => "Niemand: de zaak is afgerond".to_owned(),
    }
}

/// The deadline in words, with how far off or how late it is.
pub fn deadline_text(ctx: &Ctx, case: &Case) -> Markup {
    let now = ctx.web.engine.now();
    let s = &case.status;
    html! {
        @if s.state == CaseState::AwaitingInformation {
            span { "De klok staat stil tot de indiener antwoordt" }
        } @else if let Some(d) = s.deadline {
            @if s.state.is_open() {
                time datetime=(nl::iso_date(d)) { (nl::day(d)) }
                @if is_overdue(s, now) {
                    " " strong.badge.late { (nl::days(now - d)) " te laat" }
                } @else {
                    " (nog " (nl::days(d - now)) ")"
                }
            } @else {
                "–"
            }
        } @else {
            "–"
        }
    }
}

fn case_table(ctx: &Ctx, cases: &[Case], caption: &str) -> Markup {
    let areas: HashMap<String, String> = ctx
        .web
        .engine
        .focus_areas()
        .into_iter()
        .map(|a| (a.code, a.name))
        .collect();
    html! {
        div.table-wrap {
            table {
                caption { (caption) }
                thead { tr {
                    th scope="col" { "Kenmerk" }
                    th scope="col" { "Titel" }
                    th scope="col" { "Gebied" }
                    th scope="col" { "Waar" }
                    th scope="col" { "Aan zet" }
                    th scope="col" { "Deadline" }
                } }
                tbody {
                    @for c in cases {
                        tr {
                            td { a href={ "/zaken/" (c.id) } { (c.facts.reference) } }
                            td {
                                (c.facts.title)
                                @if c.facts.urgency == Urgency::Urgent { " " span.badge { "Spoed" } }
                            }
                            td { (areas.get(&c.facts.focus_area).map_or(c.facts.focus_area.as_str(), String::as_str)) }
                            td { (mini_ladder(c)) (nl::state(c.status.state)) }
                            td { (holder_text(c)) }
                            td { (deadline_text(ctx, c)) }
                        }
                    }
                }
            }
        }
    }
}

/// The four levels in a row, the case's own marked: the ladder at a
/// glance in a list. The text beside it says the same in words.
fn mini_ladder(case: &Case) -> Markup {
    let s = &case.status;
    html! {
        span.mini-ladder aria-hidden="true" {
            @for l in Level::ALL {
                @let here = s.level == *l;
                @let passed = *l < s.level || *l <= s.highest_level;
                span.rung.here[here].passed[passed && !here] title=(nl::level(*l)) {}
            }
        }
    }
}

/// `GET /zaken`: my cases (professional), my queue (handlers), or every
/// case in scope; `?ref=` opens a case by its reference.
pub async fn list(ctx: Ctx) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    let p = v.principal();
    let e = &ctx.web.engine;
    if let Some(r) = param(&ctx, "ref").filter(|r| !r.trim().is_empty()) {
        return match e.case_by_reference(&p, &r).await {
            Ok(Some(c)) => Redirect::to(&format!("/zaken/{}", c.id)).into_response(),
            Ok(None) => layout::message_page(
                &ctx,
                StatusCode::NOT_FOUND,
                "Zaak niet gevonden",
                "Er is geen zaak met dit kenmerk die u mag zien. Controleer het kenmerk, bijvoorbeeld ZDO-2026-0042.",
            ),
            Err(err) => engine_error_page(&ctx, &err),
        };
    }
    let offered = Filter::offered(&p);
    let default = if handled_level(p.role).is_some() {
        Filter::New
    } else {
        Filter::Open
    };
    let filter = param(&ctx, "filter")
        .and_then(|f| Filter::parse(&f))
        .filter(|f| offered.contains(f))
        .unwrap_or(default);
    let by_deadline = param(&ctx, "sorteer").as_deref() == Some("deadline");
    let area = param(&ctx, "gebied").filter(|a| p.areas.contains(a));
    let mut query = filter.query(&p, e.now());
    query.by_deadline = by_deadline;
    if let Some(a) = &area {
        query.areas = vec![a.clone()];
    }
    let after = if by_deadline {
        None
    } else {
        param(&ctx, "na").and_then(|s| parse_id(&s))
    };
    let page_result = match e.list_cases(&p, &query, after, 50).await {
        Ok(x) => x,
        Err(err) => return engine_error_page(&ctx, &err),
    };
    let title = match p.role {
        Role::Professional => "Mijn zaken",
        r if handled_level(r).is_some() => "Wachtrij",
        _ => "Zaken",
    };
    let link = |f: Filter, sort: bool, na: Option<i64>| -> String {
        let mut s = format!("/zaken?filter={}", f.key());
        if sort {
            s.push_str("&sorteer=deadline");
        }
        if let Some(a) = &area {
            s.push_str("&gebied=");
            s.push_str(a);
        }
        if let Some(n) = na {
            s.push_str(&format!("&na={n}"));
        }
        s
    };
    let body = html! {
        h1 { (title) }
        @if p.role == Role::Professional {
            p { a.button href="/zaken/nieuw" { "Nieuwe zaak indienen" } }
        }
        form.filters method="get" action="/zaken" {
            fieldset {
                legend { "Welke zaken" }
                div.choices.inline {
                    @for f in &offered {
                        div.choice {
                            input type="radio" name="filter" id={ "filter-" (f.key()) } value=(f.key()) checked[*f == filter];
                            label for={ "filter-" (f.key()) } { (f.label()) }
                        }
                    }
                }
            }
            @if p.areas.len() > 1 {
                div.field {
                    label for="veld-gebied" { "Focusgebied" }
                    select id="veld-gebied" name="gebied" {
                        option value="" { "Al mijn gebieden" }
                        @for a in &p.areas {
                            option value=(a) selected[area.as_deref() == Some(a.as_str())] { (area_name(&ctx, a)) }
                        }
                    }
                }
            }
            div.field {
                label for="veld-sorteer" { "Sorteren" }
                select id="veld-sorteer" name="sorteer" {
                    option value="nieuwste" selected[!by_deadline] { "Nieuwste eerst" }
                    option value="deadline" selected[by_deadline] { "Eerste deadline eerst" }
                }
            }
            button type="submit" { "Toon zaken" }
        }
        form.inline-search method="get" action="/zaken" role="search" {
            div.field {
                label for="veld-ref" { "Zoek op kenmerk" }
                input id="veld-ref" name="ref" type="text" placeholder="ZDO-2026-0042" autocomplete="off";
            }
            button type="submit" { "Zoeken" }
        }
        @if page_result.cases.is_empty() {
            p.empty { "Geen zaken gevonden bij \u{201c}" (filter.label()) "\u{201d}." }
        } @else {
            (case_table(&ctx, &page_result.cases, &format!("{title}: {}", filter.label().to_lowercase())))
        }
        @if page_result.has_next && !by_deadline {
            @if let Some(last) = page_result.cases.last() {
                p { a href=(link(filter, false, Some(last.id))) { "Volgende zaken" } }
            }
        }
    };
    respond(StatusCode::OK, page(&ctx, title, body))
}

pub fn area_name(ctx: &Ctx, code: &str) -> String {
    ctx.web
        .engine
        .focus_area(code)
        .map_or_else(|| code.to_owned(), |a| a.name)
}

pub fn ministry_name(ctx: &Ctx, code: &str) -> String {
    ctx.web
        .engine
        .ministry(code)
        .map_or_else(|| code.to_owned(), |m| m.name)
}

// ---------------------------------------------------------------- submit

fn submit_labels(field: &str) -> String {
    match field {
        "title" => "Titel",
        "description" => "Wat is er aan de hand",
        "focusArea" => "Focusgebied",
        "domains" => "Beleidsterreinen",
        "rule.citation" => "Welke regel",
        "rule.bwbId" => "BWB-nummer",
        "rule.scope" => "Soort regel",
        "rule.owningMinistry" => "Ministerie van de regel",
        "desiredAction" => "Wat wilt u doen",
        "householdsAffected" => "Aantal huishoudens",
        "estimatedCost" => "Geschatte kosten",
        "urgency" => "Spoed",
        _ => "Formulier",
    }
    .to_owned()
}

fn options<T: Copy>(
    all: &[T],
    value: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
) -> Vec<(String, String)> {
    all.iter()
        .map(|x| (value(*x).to_owned(), label(*x).to_owned()))
        .collect()
}

fn submit_form(ctx: &Ctx, v: &Viewer, form: &FormData, errors: &FieldErrors) -> Markup {
    let p = v.principal();
    let e = &ctx.web.engine;
    let areas: Vec<(String, String)> = e
        .focus_areas()
        .into_iter()
        .filter(|a| p.areas.is_empty() || p.areas.contains(&a.code))
        .map(|a| (a.code, a.name))
        .collect();
    let area_value = if form.get("focusArea").is_empty() && areas.len() == 1 {
        areas[0].0.clone()
    } else {
        form.get("focusArea").to_owned()
    };
    let ministries: Vec<(String, String)> = e
        .ministries()
        .into_iter()
        .map(|m| (m.code, m.name))
        .collect();
    let domain_err = layout::error_of(errors, "domains");
    let urgent = form.get("urgency") == "URGENT";
    html! {
        (layout::error_summary(errors, &submit_labels))
        form.case-form method="post" action="/zaken/nieuw" novalidate {
            (csrf_field(ctx))
            fieldset {
                legend { h2 { "De regel die u tegenhoudt" } }
                (layout::text_field("rule.citation", "Welke regel houdt u tegen?", Some("Noem de wet of regeling en het artikel, bijvoorbeeld \u{201c}Participatiewet, artikel 31\u{201d}."), form.get("rule.citation"), errors, FieldAttrs::TEXT))
                (layout::select_field("rule.scope", "Soort regel", None, &options(RuleScope::ALL, RuleScope::as_str, nl::scope), form.get("rule.scope"), errors, true))
                (layout::select_field("rule.owningMinistry", "Ministerie van de regel", Some("Weet u het niet? Laat het leeg."), &ministries, form.get("rule.owningMinistry"), errors, false))
                (layout::text_field("rule.bwbId", "BWB-nummer", Some("Staat op wetten.overheid.nl, bijvoorbeeld BWBR0015703."), form.get("rule.bwbId"), errors, FieldAttrs::TEXT.optional()))
            }
            fieldset {
                legend { h2 { "De situatie" } }
                (layout::text_field("title", "Titel", Some("Een korte zin, bijvoorbeeld \u{201c}Bijverdienen van een jongere telt als inkomen van het gezin\u{201d}."), form.get("title"), errors, FieldAttrs::TEXT))
                (layout::text_field("description", "Wat is er aan de hand?", Some("Beschrijf de situatie zonder namen, adressen of burgerservicenummers."), form.get("description"), errors, FieldAttrs::TEXT.multiline()))
                (layout::text_field("desiredAction", "Wat wilt u doen, en wat lukt niet?", None, form.get("desiredAction"), errors, FieldAttrs::TEXT.multiline()))
                (layout::select_field("focusArea", "Focusgebied", None, &areas, &area_value, errors, true))
                fieldset.field.has-error[domain_err.is_some()] id=(field_id("domains")) aria-describedby=[domain_err.map(|_| "veld-domains-fout")] {
                    legend { "Beleidsterreinen" }
                    p.hint { "Kies alles wat past." }
                    @if let Some(m) = domain_err { p.error id="veld-domains-fout" { span.visually-hidden { "Fout: " } (m) } }
                    div.choices {
                        @for d in PolicyDomain::ALL {
                            div.choice {
                                input type="checkbox" name="domains" id={ "domein-" (d.as_str()) } value=(d.as_str()) checked[form.has("domains", d.as_str())];
                                label for={ "domein-" (d.as_str()) } { (nl::domain(*d)) }
                            }
                        }
                    }
                }
                (layout::text_field("householdsAffected", "Aantal huishoudens", Some("Hoeveel huishoudens hebben hier last van, ongeveer?"), form.get("householdsAffected"), errors, FieldAttrs::TEXT.optional().numeric("numeric")))
                (layout::text_field("estimatedCost", "Geschatte kosten in euro", Some("Bijvoorbeeld 12.500,50"), form.get("estimatedCost"), errors, FieldAttrs::TEXT.optional().numeric("decimal")))
                div.choice {
                    input type="checkbox" name="urgency" id="veld-urgency" value="URGENT" checked[urgent];
                    label for="veld-urgency" { "Dit heeft spoed" }
                }
            }
            button type="submit" { "Zaak indienen" }
        }
    }
}

/// `GET /zaken/nieuw`: first the rule, with what was decided before about
/// it ("misschien kan het al"), then the form.
pub async fn new_page(ctx: Ctx) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    if v.user().role != Role::Professional {
        return layout::message_page(
            &ctx,
            StatusCode::FORBIDDEN,
            "Alleen professionals dienen zaken in",
            "Zaken worden ingediend door de professional die tegen de regel aanloopt.",
        );
    }
    let rule = param(&ctx, "regel").unwrap_or_default();
    let rule = rule.trim();
    let step2 = param(&ctx, "stap").as_deref() == Some("2") || !rule.is_empty();
    let hits = if rule.chars().count() >= 3 {
        match ctx.web.engine.precedents(&v.principal(), rule, 5).await {
            Ok(h) => h,
            Err(e) => return engine_error_page(&ctx, &e),
        }
    } else {
        Vec::new()
    };
    let mut form = FormData::default();
    if !rule.is_empty() {
        form = FormData::parse(
            format!(
                "rule.citation={}",
                form_urlencoded::byte_serialize(rule.as_bytes()).collect::<String>()
            )
            .as_bytes(),
        );
    }
    let body = html! {
        h1 { "Nieuwe zaak indienen" }
        section aria-labelledby="stap1" {
            h2 id="stap1" { "Stap 1: misschien kan het al" }
            p { "Vaak is er al eerder over dezelfde regel besloten. Zoek eerst of er een antwoord is." }
            form method="get" action="/zaken/nieuw" role="search" {
                div.field {
                    label for="veld-regel" { "Welke regel houdt u tegen?" }
                    p.hint id="veld-regel-hint" { "Bijvoorbeeld \u{201c}Participatiewet artikel 31\u{201d} of \u{201c}kostendelersnorm\u{201d}." }
                    input id="veld-regel" name="regel" type="text" value=(rule) aria-describedby="veld-regel-hint";
                }
                button type="submit" { "Zoek eerdere antwoorden" }
            }
            @if !rule.is_empty() {
                @if hits.is_empty() {
                    p { "Er is nog niets besloten over \u{201c}" (rule) "\u{201d}. Dien de zaak hieronder in." }
                } @else {
                    h3 { "Misschien kan het al" }
                    p { "Hierover is eerder besloten. Lees of uw situatie erop lijkt. Dan hoeft u misschien geen zaak in te dienen." }
                    (precedent_list(&ctx, &hits))
                }
            }
            @if !step2 {
                p { a href="/zaken/nieuw?stap=2" { "Sla over en vul het formulier in" } }
            }
        }
        @if step2 {
            section aria-labelledby="stap2" {
                h2 id="stap2" { "Stap 2: uw zaak" }
                (submit_form(&ctx, &v, &form, &Vec::new()))
            }
        }
    };
    respond(StatusCode::OK, page(&ctx, "Nieuwe zaak", body))
}

pub fn precedent_list(ctx: &Ctx, hits: &[doorbraak_engine::PrecedentHit]) -> Markup {
    html! {
        ul.cards {
            @for h in hits {
                li.card {
                    h4 { (h.citation) }
                    p { strong { (nl::outcome(h.outcome)) } " · " (area_name(ctx, &h.focus_area)) " · " (nl::day(h.resolved_at)) " · " (h.reference) }
                    (layout::paragraphs(&h.explanation))
                }
            }
        }
    }
}

/// Reads the submission form into the engine's input; amounts and numbers
/// that cannot be read become field errors.
fn submission_of(form: &FormData) -> (SubmitInput, FieldErrors) {
    let mut errors = FieldErrors::new();
    let households = match form.opt("householdsAffected") {
        None => None,
        Some(raw) => match parse_count(raw) {
            Ok(n) => Some(n),
            Err(m) => {
                errors.push(("householdsAffected".into(), m.into()));
                None
            }
        },
    };
    let cost = match form.opt("estimatedCost") {
        None => None,
        Some(raw) => match parse_amount(raw) {
            Ok(d) => Some(d),
            Err(m) => {
                errors.push(("estimatedCost".into(), m.into()));
                None
            }
        },
    };
    let domains = form
        .all("domains")
        .iter()
        .filter_map(|d| d.parse::<PolicyDomain>().ok())
        .collect();
    let input = SubmitInput {
        title: form.get("title").to_owned(),
        description: form.get("description").to_owned(),
        focus_area: form.get("focusArea").to_owned(),
        domains,
        rule_citation: form.get("rule.citation").to_owned(),
        rule_bwb_id: form.opt("rule.bwbId").map(str::to_owned),
        rule_scope: form.get("rule.scope").parse::<RuleScope>().ok(),
        rule_owning_ministry: form.opt("rule.owningMinistry").map(str::to_owned),
        desired_action: form.get("desiredAction").to_owned(),
        households_affected: households,
        estimated_cost: cost,
        urgency: if form.get("urgency") == "URGENT" {
            Urgency::Urgent
        } else {
            Urgency::Normal
        },
    };
    (input, errors)
}

/// A field error from an engine refusal, in Dutch.
fn field_error(e: &EngineError) -> Option<(String, String)> {
    match e {
        EngineError::Validation { field, message } => {
            Some((form_field(field), validation_nl(message)))
        }
        EngineError::PersonalData { field } => Some((form_field(field), BSN_HELP.to_owned())),
        EngineError::Forbidden(_) if true => None,
        _ => None,
    }
}

/// `POST /zaken/nieuw`: one post creates the case.
pub async fn submit(Posted { ctx, form }: Posted) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    let p = v.principal();
    let e = &ctx.web.engine;
    let (input, mut errors) = submission_of(&form);
    let mut general = None;
    for problem in e.submission_problems(&p, &input) {
        match field_error(&problem) {
            Some((f, m)) if !errors.iter().any(|(x, _)| *x == f) => errors.push((f, m)),
            Some(_) => {}
            None => general = Some(refusal_nl(&problem)),
        }
    }
    if errors.is_empty() && general.is_none() {
        match e.submit(&p, &input).await {
            Ok(case) => {
                return Redirect::to(&format!("/zaken/{}?gelukt=ingediend", case.id))
                    .into_response();
            }
            Err(err) => match field_error(&err) {
                Some(fe) => errors.push(fe),
                None if matches!(err, EngineError::Forbidden(_)) => {
                    general = Some(refusal_nl(&err))
                }
                None => return engine_error_page(&ctx, &err),
            },
        }
    }
    let order = [
        "rule.citation",
        "rule.scope",
        "rule.owningMinistry",
        "rule.bwbId",
        "title",
        "description",
        "desiredAction",
        "focusArea",
        "domains",
        "householdsAffected",
        "estimatedCost",
    ];
    errors.sort_by_key(|(f, _)| order.iter().position(|o| o == f).unwrap_or(order.len()));
    let body = html! {
        h1 { "Nieuwe zaak indienen" }
        @if let Some(g) = &general { div.error-summary role="alert" { p { (g) } } }
        (submit_form(&ctx, &v, &form, &errors))
    };
    respond(
        StatusCode::UNPROCESSABLE_ENTITY,
        page(&ctx, "Nieuwe zaak: controleer het formulier", body),
    )
}

// ---------------------------------------------------------------- one case

/// The state of an action form shown again after a refusal.
struct Retry {
    action: CaseAction,
    form: FormData,
    errors: FieldErrors,
    message: Option<String>,
}

fn ladder(case: &Case) -> Markup {
    let s = &case.status;
    let now_level = s.state.active_level();
    html! {
        div.ladder-wrap {
            h2 id="ladder-titel" { "Waar is de zaak?" }
            ol.ladder aria-labelledby="ladder-titel" {
                @for l in Level::ALL {
                    @let here = now_level == Some(*l) || (now_level.is_none() && s.level == *l);
                    @let passed = *l < s.level || (*l <= s.highest_level && !here);
                    li.step.here[here].passed[passed && !here] aria-current=[here.then_some("step")] {
                        span.name { (nl::level(*l)) }
                        @if here {
                            span.where { @if s.state.is_open() { "hier is de zaak nu" } @else { "hier is besloten" } }
                        } @else if passed {
                            span.where { "geweest" }
                        }
                    }
                }
            }
        }
    }
}

fn step_list(
    ctx: &Ctx,
    case: &Case,
    events: &[StoredEvent],
    names: &HashMap<i64, String>,
) -> Markup {
    html! {
        h2 { "Alle stappen" }
        ol.steps {
            @for ev in events.iter().filter(|x| x.case_id == case.id) {
                @let e = &ev.event;
                li {
                    p.step-title { strong { (nl::event(e.action, e.to_state)) } }
                    p.step-meta {
                        time datetime=(e.at.to_rfc3339()) { (nl::datetime(e.at)) }
                        " · " (nl::role(e.actor_role))
                        @if let Some(n) = names.get(&e.actor) { " (" (n) ")" }
                    }
                    @if let Some(note) = &e.note {
                        @if e.action != doorbraak_core::EventAction::LinkBarrier {
                            blockquote { (layout::paragraphs(note)) }
                        }
                    }
                }
            }
        }
        @let _ = ctx;
    }
}

/// The one text field an action asks for: (form field, label, hint).
/// `None` for the actions without one (pick up, release) and for those
/// with more fields (resolve, merge), which have their own form.
pub fn note_of(a: CaseAction) -> Option<(&'static str, &'static str, Option<&'static str>)> {
    match a {
        CaseAction::PickUp | CaseAction::Release | CaseAction::Resolve | CaseAction::Merge => None,
        CaseAction::RequestInformation => Some((
            "question",
            "Uw vraag aan de indiener",
            Some("De klok staat stil tot de indiener antwoordt."),
        )),
        CaseAction::ProvideInformation => Some(("answer", "Uw antwoord", None)),
        CaseAction::Escalate => Some(("motivation", "Waarom moet de zaak hoger op?", None)),
        CaseAction::ReferBack => Some(("motivation", "Waarom gaat de zaak terug?", None)),
        CaseAction::CloseNoBreakthrough => Some((
            "explanation",
            "Uitleg voor de indiener",
            Some("Leg uit waarom er geen doorbraak komt en wat de indiener nog kan doen."),
        )),
        CaseAction::Reject => Some(("reason", "Reden van afwijzen", None)),
        CaseAction::Withdraw => Some(("reason", "Waarom trekt u de zaak in?", None)),
        CaseAction::Contest => Some((
            "reason",
            "Waarom bent u het niet eens met het besluit?",
            None,
        )),
    }
}

fn action_field_id(action: CaseAction, name: &str) -> String {
    format!(
        "veld-{}-{name}",
        action.as_str().to_lowercase().replace('_', "-")
    )
}

fn note_field(
    name: &str,
    label: &str,
    hint: Option<&str>,
    retry: Option<&Retry>,
    action: CaseAction,
) -> Markup {
    let (value, errors) = retry_values(retry, action, name);
    layout::text_field_id(
        &action_field_id(action, name),
        name,
        label,
        hint,
        &value,
        &errors,
        FieldAttrs::TEXT.multiline(),
    )
}

/// Values and errors of one field of a retried action form.
fn retry_values(retry: Option<&Retry>, action: CaseAction, name: &str) -> (String, FieldErrors) {
    match retry {
        Some(r) if r.action == action => (
            r.form.get(name).to_owned(),
            r.errors
                .iter()
                .filter(|(f, _)| f == name)
                .cloned()
                .collect(),
        ),
        _ => (String::new(), Vec::new()),
    }
}

fn action_form(
    ctx: &Ctx,
    case: &Case,
    a: CaseAction,
    retry: Option<&Retry>,
    back: Option<&str>,
) -> Markup {
    let hidden = html! {
        (csrf_field(ctx))
        input type="hidden" name="action" value=(a.as_str());
        input type="hidden" name="version" value=(case.status.version);
        @if let Some(b) = back { input type="hidden" name="terug" value=(b); }
    };
    let mine = retry.filter(|r| r.action == a);
    let message = mine.and_then(|r| r.message.as_deref());
    let target = format!("/zaken/{}/actie", case.id);
    let summary_id = format!("actie-{}-{}", case.id, a.as_str().to_lowercase());
    let fields: Option<Markup> = match a {
        CaseAction::Resolve => Some(resolve_fields(retry, a)),
        CaseAction::Merge => {
            let (value, errors) = retry_values(retry, a, "into");
            Some(layout::text_field_id(
                &action_field_id(a, "into"),
                "into",
                "Kenmerk van de zaak om mee samen te voegen",
                Some("Bijvoorbeeld ZDO-2026-0042."),
                &value,
                &errors,
                FieldAttrs::TEXT,
            ))
        }
        other => note_of(other).map(|(name, label, hint)| note_field(name, label, hint, retry, a)),
    };
    html! {
        @match fields {
            None => {
                form.action-button method="post" action=(target) {
                    (hidden)
                    @if let Some(m) = message { p.error role="alert" { (m) } }
                    button type="submit" { (nl::action(a)) }
                }
            }
            Some(f) => {
                details.action open[mine.is_some()] {
                    summary id=(summary_id) { (nl::action(a)) }
                    form method="post" action=(target) novalidate {
                        (hidden)
                        @if let Some(m) = message { p.error role="alert" { (m) } }
                        (f)
                        button type="submit" { (nl::action(a)) }
                    }
                }
            }
        }
    }
}

fn resolve_fields(retry: Option<&Retry>, a: CaseAction) -> Markup {
    let get = |n: &str| retry_values(retry, a, n);
    let (outcome, outcome_err) = get("outcome");
    let (funds, funds_err) = get("fundsUnlocked");
    let (from, from_err) = get("effectiveFrom");
    let (ends, ends_err) = get("experimentEnds");
    let (eval, eval_err) = get("evaluationDate");
    let outcomes: Vec<(String, String)> = Outcome::ALL
        .iter()
        .map(|o| (o.as_str().to_owned(), nl::outcome(*o).to_owned()))
        .collect();
    let date = FieldAttrs::TEXT.optional().kind("date");
    html! {
        (layout::select_field_id(&action_field_id(a, "outcome"), "outcome", "Uitkomst", None, &outcomes, &outcome, &outcome_err, true))
        (note_field("explanation", "Uitleg voor de indiener", Some("Wat is besloten, en wat betekent het voor de situatie?"), retry, a))
        (layout::text_field_id(&action_field_id(a, "fundsUnlocked"), "fundsUnlocked", "Vrijgemaakt bedrag in euro", Some("Alleen bij \u{201c}Er is geld vrijgemaakt\u{201d}. Bijvoorbeeld 12.500,50"), &funds, &funds_err, FieldAttrs::TEXT.optional().numeric("decimal")))
        (layout::text_field_id(&action_field_id(a, "effectiveFrom"), "effectiveFrom", "Geldt vanaf", Some("Bij een structurele doorbraak: vanaf wanneer geldt de gewijzigde regel?"), &from, &from_err, date))
        (layout::text_field_id(&action_field_id(a, "experimentEnds"), "experimentEnds", "Experiment loopt tot", Some("Alleen bij een experiment."), &ends, &ends_err, date))
        (layout::text_field_id(&action_field_id(a, "evaluationDate"), "evaluationDate", "Evaluatie op", Some("Alleen bij een experiment."), &eval, &eval_err, date))
    }
}

async fn render_case(
    ctx: &Ctx,
    v: &Viewer,
    id: i64,
    status: StatusCode,
    top: Option<Markup>,
    retry: Option<Retry>,
) -> Response {
    let p = v.principal();
    let e = &ctx.web.engine;
    let case = match e.case(&p, id).await {
        Ok(Some(c)) => c,
        Ok(None) => return errors::not_found_page(ctx),
        Err(err) => return engine_error_page(ctx, &err),
    };
    let events = match e.events_of(&p, &[case.id]).await {
        Ok(x) => x,
        Err(err) => return engine_error_page(ctx, &err),
    };
    let mut ids: Vec<i64> = events.iter().map(|x| x.event.actor).collect();
    ids.push(case.facts.submitted_by);
    if let Some(a) = case.status.assignee {
        ids.push(a);
    }
    ids.sort_unstable();
    ids.dedup();
    let names: HashMap<i64, String> = match e.users(&p, &ids).await {
        Ok(us) => us.into_iter().map(|u| (u.id, u.name)).collect(),
        Err(err) => return engine_error_page(ctx, &err),
    };
    let actions = e.available_actions(&p, &case);
    let may_link = e.may_link(&p, &case);
    let suggestions = if may_link {
        match e.barrier_suggestions(&p, case.id).await {
            Ok(s) => s,
            Err(err) => return engine_error_page(ctx, &err),
        }
    } else {
        Vec::new()
    };
    let barrier = match case.status.barrier {
        Some(b) => e.barrier(&p, b).await.ok().flatten(),
        None => None,
    };
    let items = match e.items_of_cases(&p, &[case.id]).await {
        Ok(x) => x,
        Err(err) => return engine_error_page(ctx, &err),
    };
    let open_item = items
        .iter()
        .find(|i| i.decision.is_none() && i.onward == doorbraak_engine::Onward::Stayed);
    let back = param(ctx, "terug");
    let f = &case.facts;
    let s = &case.status;
    let policy = e.policy();
    let body = html! {
        @if let Some(t) = top { (t) }
        p.breadcrumb { a href="/zaken" { "Zaken" } " › " (f.reference) }
        h1 { (f.title) }
        p.lead { (f.reference) " · " (nl::state(s.state)) @if f.urgency == Urgency::Urgent { " · " span.badge { "Spoed" } } }
        (ladder(&case))
        dl.facts {
            dt { "Aan zet" } dd { (holder_text(&case)) @if let Some(a) = s.assignee { @if let Some(n) = names.get(&a) { " (" (n) ")" } } }
            dt { "Deadline" } dd { (deadline_text(ctx, &case)) }
            dt { "Focusgebied" } dd { (area_name(ctx, &f.focus_area)) }
            dt { "Ingediend" } dd { (nl::datetime(f.created_at)) @if let Some(n) = names.get(&f.submitted_by) { " door " (n) } }
            @if let Some(m) = open_item {
                dt { "Vergadering" } dd { a href={ "/vergaderingen/" (m.meeting_id) } { "Staat op de agenda" } }
            }
            @if let Some(b) = &barrier {
                dt { "Knelpunt" } dd { a href={ "/knelpunten/" (b.id) } { (b.citation) } " (" (nl::barrier_status(b.status)) ")" }
            }
        }
        @if let Some(r) = &s.resolution {
            section.decision aria-labelledby="besluit" {
                h2 id="besluit" { "Het besluit" }
                p { strong { (r.outcome.map_or("Geen doorbraak", nl::outcome)) } " · " (nl::level(r.level)) " · " (nl::day(r.decided_at)) }
                (layout::paragraphs(&r.explanation))
                @if let Some(funds) = r.funds_unlocked { p { "Vrijgemaakt: " (nl::euros_cents(funds.cents())) } }
                @if let Some(d) = r.effective_from { p { "De regel geldt vanaf " (nl::date(d)) "." } }
                @if let Some(d) = r.experiment_ends { p { "Het experiment loopt tot " (nl::date(d)) "." } }
                @if let Some(d) = r.evaluation_date { p { "Evaluatie op " (nl::date(d)) "." } }
                @if actions.contains(&CaseAction::Contest) {
                    p { "Bent u het niet eens met dit besluit? U kunt tot " (policy.contest_window_days) " dagen na het besluit bezwaar maken, tot en met " (nl::day(r.decided_at + chrono::TimeDelta::days(policy.contest_window_days))) "." }
                }
            }
        }
        @if !actions.is_empty() {
            section.actions aria-labelledby="acties" {
                h2 id="acties" { "Wat kunt u doen?" }
                @for a in &actions { (action_form(ctx, &case, *a, retry.as_ref(), back.as_deref())) }
            }
        }
        @if may_link {
            (link_section(ctx, &case, &suggestions, back.as_deref()))
        }
        section aria-labelledby="inhoud-zaak" {
            h2 id="inhoud-zaak" { "De zaak" }
            h3 { "De regel" }
            p { (f.rule.citation) }
            p.meta { (nl::scope(f.rule.scope))
                @if let Some(m) = &f.rule.owning_ministry { " · " (ministry_name(ctx, m)) }
                @if let Some(b) = &f.rule.bwb_id { " · " (b) }
            }
            h3 { "Wat is er aan de hand" }
            (layout::paragraphs(&f.description))
            h3 { "Wat de professional wil doen" }
            (layout::paragraphs(&f.desired_action))
            dl.facts {
                dt { "Beleidsterreinen" } dd { (f.domains.iter().map(|d| nl::domain(*d)).collect::<Vec<_>>().join(", ")) }
                @if let Some(h) = f.households_affected { dt { "Huishoudens" } dd { (nl::grouped(h.into())) } }
                @if let Some(c) = f.estimated_cost { dt { "Geschatte kosten" } dd { (nl::euros_cents(c.cents())) } }
            }
        }
        (step_list(ctx, &case, &events, &names))
    };
    respond(
        status,
        page(ctx, &format!("{} {}", f.reference, f.title), body),
    )
}

fn link_section(
    ctx: &Ctx,
    case: &Case,
    suggestions: &[(doorbraak_engine::BarrierRecord, f64)],
    back: Option<&str>,
) -> Markup {
    let ministries: Vec<(String, String)> = ctx
        .web
        .engine
        .ministries()
        .into_iter()
        .map(|m| (m.code, m.name))
        .collect();
    let no_errors = FieldErrors::new();
    html! {
        section aria-labelledby="koppelen" {
            h2 id="koppelen" { "Koppelen aan een knelpunt" }
            p { "Hoort deze zaak bij een regel die vaker knelt? Koppel hem aan het knelpunt in het register." }
            @if !suggestions.is_empty() {
                form method="post" action={ "/zaken/" (case.id) "/knelpunt" } {
                    (csrf_field(ctx))
                    input type="hidden" name="version" value=(case.status.version);
                    @if let Some(b) = back { input type="hidden" name="terug" value=(b); }
                    fieldset {
                        legend { "Knelpunten die erop lijken" }
                        div.choices {
                            @for (i, (b, score)) in suggestions.iter().enumerate() {
                                div.choice {
                                    input type="radio" name="barrierId" id={ "knelpunt-" (b.id) } value=(b.id) checked[i == 0];
                                    label for={ "knelpunt-" (b.id) } { (b.citation) " · " (ministry_name(ctx, &b.owning_ministry)) " · " (nl::barrier_status(b.status)) " (" (format!("{:.0}", score * 100.0)) "% gelijk)" }
                                }
                            }
                        }
                    }
                    button type="submit" { "Koppel aan dit knelpunt" }
                }
            }
            details.action {
                summary { "Nieuw knelpunt aanmaken" }
                form method="post" action={ "/zaken/" (case.id) "/knelpunt" } novalidate {
                    (csrf_field(ctx))
                    input type="hidden" name="version" value=(case.status.version);
                    @if let Some(b) = back { input type="hidden" name="terug" value=(b); }
                    (layout::text_field("citation", "Regel", None, &case.facts.rule.citation, &no_errors, FieldAttrs::TEXT))
                    (layout::text_field("bwbId", "BWB-nummer", None, case.facts.rule.bwb_id.as_deref().unwrap_or(""), &no_errors, FieldAttrs::TEXT.optional()))
                    (layout::select_field("scope", "Soort regel", None, &options(RuleScope::ALL, RuleScope::as_str, nl::scope), case.facts.rule.scope.as_str(), &no_errors, true))
                    (layout::select_field("owningMinistry", "Ministerie van de regel", None, &ministries, case.facts.rule.owning_ministry.as_deref().unwrap_or(""), &no_errors, true))
                    button type="submit" { "Maak knelpunt en koppel" }
                }
            }
        }
    }
}

/// `GET /zaken/{id}`.
pub async fn detail(ctx: Ctx, Path(id): Path<String>) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    let Some(id) = parse_id(&id) else {
        return errors::not_found_page(&ctx);
    };
    let top = param(&ctx, "gelukt").map(|g| {
        notice(match g.as_str() {
            "ingediend" => "Uw zaak is ingediend. U ziet hieronder waar hij is. U hoort het als er iets verandert.",
            "gekoppeld" => "De zaak is gekoppeld aan het knelpunt.",
            _ => "Gelukt. De stap is vastgelegd.",
        })
    });
    render_case(&ctx, &v, id, StatusCode::OK, top, None).await
}

/// Reads an action form into the engine's command.
async fn command_of(
    ctx: &Ctx,
    p: &Principal,
    a: CaseAction,
    form: &FormData,
) -> Result<CommandInput, FieldErrors> {
    let text = |n: &str| form.get(n).to_owned();
    Ok(match a {
        CaseAction::PickUp => CommandInput::PickUp,
        CaseAction::Release => CommandInput::Release,
        CaseAction::RequestInformation => CommandInput::RequestInformation {
            question: text("question"),
        },
        CaseAction::ProvideInformation => CommandInput::ProvideInformation {
            answer: text("answer"),
        },
        CaseAction::Escalate => CommandInput::Escalate {
            motivation: text("motivation"),
        },
        CaseAction::ReferBack => CommandInput::ReferBack {
            motivation: text("motivation"),
        },
        CaseAction::CloseNoBreakthrough => CommandInput::CloseNoBreakthrough {
            explanation: text("explanation"),
        },
        CaseAction::Reject => CommandInput::Reject {
            reason: text("reason"),
        },
        CaseAction::Withdraw => CommandInput::Withdraw {
            reason: text("reason"),
        },
        CaseAction::Contest => CommandInput::Contest {
            reason: text("reason"),
        },
        CaseAction::Merge => {
            let raw = form.get("into").trim();
            let target = match parse_id(raw) {
                Some(id) => Some(id),
                None => match ctx.web.engine.case_by_reference(p, raw).await {
                    Ok(c) => c.map(|c| c.id),
                    Err(_) => None,
                },
            };
            match target {
                Some(into) => CommandInput::Merge { into },
                None => {
                    return Err(vec![(
                        "into".into(),
                        "Er is geen zaak met dit kenmerk die u mag zien".into(),
                    )]);
                }
            }
        }
        CaseAction::Resolve => {
            let mut errors = FieldErrors::new();
            let outcome = match form.get("outcome").parse::<Outcome>() {
                Ok(o) => Some(o),
                Err(_) => {
                    errors.push(("outcome".into(), "Kies een uitkomst".into()));
                    None
                }
            };
            let funds = match form.opt("fundsUnlocked") {
                None => None,
                Some(raw) => match parse_amount(raw) {
                    Ok(d) => Some(d),
                    Err(m) => {
                        errors.push(("fundsUnlocked".into(), m.into()));
                        None
                    }
                },
            };
            let mut date = |n: &str| match form.opt(n) {
                None => None,
                Some(raw) => match parse_date(raw) {
                    Ok(d) => Some(d),
                    Err(m) => {
                        errors.push((n.into(), m.into()));
                        None
                    }
                },
            };
            let dates = DecisionDates {
                effective_from: date("effectiveFrom"),
                experiment_ends: date("experimentEnds"),
                evaluation_date: date("evaluationDate"),
            };
            match outcome {
                Some(outcome) if errors.is_empty() => CommandInput::Resolve {
                    outcome,
                    explanation: text("explanation"),
                    funds_unlocked: funds,
                    dates,
                },
                _ => return Err(errors),
            }
        }
    })
}

/// Where to go after an action: back to the meeting page it came from, or
/// the case.
fn after_action(case_id: i64, back: &str) -> String {
    if back.starts_with("/vergaderingen/")
        && !back.contains("//")
        && !back.chars().any(|c| c.is_control())
    {
        format!("{back}?gelukt=1")
    } else {
        format!("/zaken/{case_id}?gelukt=1")
    }
}

/// `POST /zaken/{id}/actie`: one action, on the version the page showed.
pub async fn act(Path(id): Path<String>, Posted { ctx, form }: Posted) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    let Some(id) = parse_id(&id) else {
        return errors::not_found_page(&ctx);
    };
    let p = v.principal();
    let Ok(action) = form.get("action").parse::<CaseAction>() else {
        return layout::message_page(
            &ctx,
            StatusCode::BAD_REQUEST,
            "Onbekende stap",
            "Deze stap bestaat niet. Ga terug naar de zaak.",
        );
    };
    let Ok(version) = form.get("version").trim().parse::<i32>() else {
        return layout::message_page(
            &ctx,
            StatusCode::BAD_REQUEST,
            "Onbekende versie",
            "Ga terug naar de zaak en probeer het opnieuw.",
        );
    };
    let command = match command_of(&ctx, &p, action, &form).await {
        Ok(c) => c,
        Err(errors) => {
            let retry = Retry {
                action,
                form,
                errors,
                message: None,
            };
            return render_case(
                &ctx,
                &v,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(retry),
            )
            .await;
        }
    };
    match ctx.web.engine.act(&p, id, version, command).await {
        Ok(case) => Redirect::to(&after_action(case.id, form.get("terug"))).into_response(),
        Err(EngineError::NotFound(_)) => errors::not_found_page(&ctx),
        Err(EngineError::VersionConflict) => {
            let top = html! {
                div.error-summary role="alert" {
                    h2 { "De zaak is intussen gewijzigd" }
                    p { (refusal_nl(&EngineError::VersionConflict)) }
                }
            };
            let retry = Retry {
                action,
                form,
                errors: Vec::new(),
                message: Some(
                    "Uw tekst staat er nog. Controleer de zaak en probeer het opnieuw.".into(),
                ),
            };
            render_case(&ctx, &v, id, StatusCode::CONFLICT, Some(top), Some(retry)).await
        }
        Err(err @ (EngineError::Validation { .. } | EngineError::PersonalData { .. })) => {
            let errors = field_error(&err).into_iter().collect();
            let retry = Retry {
                action,
                form,
                errors,
                message: None,
            };
            render_case(
                &ctx,
                &v,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(retry),
            )
            .await
        }
        Err(err @ (EngineError::Forbidden(_) | EngineError::InvalidTransition(_))) => {
            let top = html! {
                div.error-summary role="alert" {
                    h2 { "Deze stap kan niet" }
                    p { (refusal_nl(&err)) }
                }
            };
            render_case(&ctx, &v, id, errors::status_of(&err), Some(top), None).await
        }
        Err(err) => engine_error_page(&ctx, &err),
    }
}

/// `POST /zaken/{id}/knelpunt`: link to a barrier (`barrierId`) or to a new
/// one (`citation`, `bwbId`, `scope`, `owningMinistry`).
pub async fn link(Path(id): Path<String>, Posted { ctx, form }: Posted) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    let Some(id) = parse_id(&id) else {
        return errors::not_found_page(&ctx);
    };
    let Ok(version) = form.get("version").trim().parse::<i32>() else {
        return layout::message_page(
            &ctx,
            StatusCode::BAD_REQUEST,
            "Onbekende versie",
            "Ga terug naar de zaak en probeer het opnieuw.",
        );
    };
    let choice = match form.opt("barrierId").and_then(parse_id) {
        Some(b) => BarrierChoice::Existing(b),
        None => BarrierChoice::New {
            citation: form.get("citation").to_owned(),
            bwb_id: form.opt("bwbId").map(str::to_owned),
            scope: form
                .get("scope")
                .parse::<RuleScope>()
                .unwrap_or(RuleScope::National),
            owning_ministry: form.get("owningMinistry").to_owned(),
        },
    };
    match ctx
        .web
        .engine
        .link_barrier(&v.principal(), id, version, choice, false)
        .await
    {
        Ok((case, _)) => {
            let back = form.get("terug");
            if back.starts_with("/vergaderingen/") {
                Redirect::to(&after_action(case.id, back)).into_response()
            } else {
                Redirect::to(&format!("/zaken/{}?gelukt=gekoppeld", case.id)).into_response()
            }
        }
        Err(EngineError::NotFound(_)) => errors::not_found_page(&ctx),
        Err(err @ (EngineError::Internal(_) | EngineError::Unavailable(_))) => {
            engine_error_page(&ctx, &err)
        }
        Err(err) => {
            let top = html! {
                div.error-summary role="alert" {
                    h2 { "Koppelen lukte niet" }
                    p { (refusal_nl(&err)) }
                }
            };
            render_case(&ctx, &v, id, errors::status_of(&err), Some(top), None).await
        }
    }
}
