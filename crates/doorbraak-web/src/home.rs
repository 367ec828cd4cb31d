//! The start page: what needs the signed-in person now.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use doorbraak_core::{
    BarrierStatus, CaseState, Role, StatisticsScope, evaluation_due_by, handled_level,
    statistics_scope,
};
use doorbraak_engine::{BarrierQuery, CaseQuery};
use maud::{Markup, html};

use crate::ctx::{Ctx, Posted};
use crate::errors::engine_error_page;
use crate::layout::{page, respond};
use crate::nl;

struct Tile {
    count: usize,
    more: bool,
    label: &'static str,
    href: String,
}

fn tiles(t: &[Tile]) -> Markup {
    html! {
        ul.tiles {
            @for x in t {
                li { a href=(x.href) { span.figure { (x.count) @if x.more { "+" } } span.label { (x.label) } } }
            }
        }
    }
}

/// `GET /`.
pub async fn start(ctx: Ctx) -> Response {
    let Some(v) = ctx.viewer.clone() else {
        return Redirect::to("/inloggen").into_response();
    };
    let p = v.principal();
    let e = &ctx.web.engine;
    let now = e.now();
    let pr = &p;
    let count = |q: CaseQuery| async move {
        e.list_cases(pr, &q, None, 99)
            .await
            .map(|page| (page.cases, page.has_next))
    };
    let mut body: Vec<Markup> = Vec::new();
    let greeting = html! {
        h1 { "Welkom, " (v.user().name) }
        p.lead { (nl::role(v.user().role)) @if !v.user().areas.is_empty() { " · " (v.user().areas.join(", ")) } }
    };
    body.push(greeting);
    match v.user().role {
        Role::Professional => {
            let (waiting, _) = match count(CaseQuery {
                states: vec![CaseState::AwaitingInformation],
                ..CaseQuery::default()
            })
            .await
            {
                Ok(x) => x,
                Err(err) => return engine_error_page(&ctx, &err),
            };
            let open: Vec<CaseState> = CaseState::ALL
                .iter()
                .copied()
                .filter(|s| s.is_open())
                .collect();
            let (running, more) = match count(CaseQuery {
                states: open,
                ..CaseQuery::default()
            })
            .await
            {
                Ok(x) => x,
                Err(err) => return engine_error_page(&ctx, &err),
            };
            let (decided, _) = match count(CaseQuery {
                states: vec![CaseState::Resolved, CaseState::ClosedNoBreakthrough],
                ..CaseQuery::default()
            })
            .await
            {
                Ok(x) => x,
                Err(err) => return engine_error_page(&ctx, &err),
            };
            body.push(html! {
                p { a.button href="/zaken/nieuw" { "Nieuwe zaak indienen" } }
                @if !waiting.is_empty() {
                    section.attention aria-labelledby="vragen" {
                        h2 id="vragen" { "Er is een vraag aan u" }
                        p { "Zolang u niet antwoordt, staat de klok stil." }
                        ul {
                            @for c in &waiting {
                                li { a href={ "/zaken/" (c.id) } { (c.facts.reference) " " (c.facts.title) } }
                            }
                        }
                    }
                }
                (tiles(&[
                    Tile { count: running.len(), more, label: "lopende zaken", href: "/zaken?filter=open".into() },
                    Tile { count: decided.len(), more: false, label: "besloten zaken", href: "/zaken?filter=afgerond".into() },
                ]))
            });
        }
        role => {
            if let Some(level) = handled_level(role) {
                let queries = [
                    (
                        CaseQuery {
                            states: vec![level.state()],
                            unassigned: true,
                            ..CaseQuery::default()
                        },
                        "nieuw in de wachtrij",
                        "nieuw",
                    ),
                    (
                        CaseQuery {
                            assignee: Some(p.id),
                            ..CaseQuery::default()
                        },
                        "opgepakt door mij",
                        "mijn",
                    ),
                    (
                        CaseQuery {
                            states: vec![CaseState::AwaitingInformation],
                            ..CaseQuery::default()
                        },
                        "wachten op informatie",
                        "wacht",
                    ),
                    (
                        CaseQuery {
                            overdue_at: Some(now),
                            ..CaseQuery::default()
                        },
                        "te laat",
                        "te-laat",
                    ),
                ];
                let mut t = Vec::new();
                let mut first_new = Vec::new();
                for (i, (q, label, key)) in queries.into_iter().enumerate() {
                    let (cases, more) = match count(q).await {
                        Ok(x) => x,
                        Err(err) => return engine_error_page(&ctx, &err),
                    };
                    if i == 0 {
                        first_new = cases.iter().take(5).cloned().collect();
                    }
                    t.push(Tile {
                        count: cases.len(),
                        more,
                        label,
                        href: format!("/zaken?filter={key}"),
                    });
                }
                body.push(html! {
                    (tiles(&t))
                    @if !first_new.is_empty() {
                        h2 { "Als eerste oppakken" }
                        ul {
                            @for c in &first_new {
                                li { a href={ "/zaken/" (c.id) } { (c.facts.reference) " " (c.facts.title) } }
                            }
                        }
                    }
                });
            }
            if let StatisticsScope::Ministry(m) = statistics_scope(&p) {
                let today = nl::local_date(now);
                let due = BarrierQuery {
                    ministry: Some(m.clone()),
                    evaluation_due_by: Some(evaluation_due_by(today)),
                    ..BarrierQuery::default()
                };
                let open = BarrierQuery {
                    ministry: Some(m.clone()),
                    status: Some(BarrierStatus::Open),
                    ..BarrierQuery::default()
                };
                let (due, _) = match e.barriers(&p, &due, None, 99).await {
                    Ok(x) => x,
                    Err(err) => return engine_error_page(&ctx, &err),
                };
                let (open, more) = match e.barriers(&p, &open, None, 99).await {
                    Ok(x) => x,
                    Err(err) => return engine_error_page(&ctx, &err),
                };
                body.push(html! {
                    h2 { "Uw ministerie" }
                    (tiles(&[
                        Tile { count: open.len(), more, label: "open knelpunten", href: format!("/knelpunten?ministerie={m}&status=OPEN") },
                        Tile { count: due.len(), more: false, label: "experimenten om te evalueren", href: "/statistiek".into() },
                    ]))
                    p { a href="/statistiek" { "Naar de statistiek" } }
                });
            }
            if role == Role::Administrator {
                body.push(html! {
                    h2 { "Beheer" }
                    p { a href="/beheer" { "Gebruikers, servicenormen, focusgebieden en ministeries" } }
                });
            }
        }
    }
    body.push(html! {
        h2 { "Ook handig" }
        ul {
            li { a href="/eerdere-antwoorden" { "Eerdere antwoorden zoeken" } }
            li { a href="/knelpunten" { "Het register van knelpunten" } }
            li { a href="/vastlopers" { "Vastgelopen zaken" } }
        }
    });
    respond(
        StatusCode::OK,
        page(&ctx, "Start", html! { @for b in &body { (b) } }),
    )
}

/// `GET /mijn-gegevens`: who the person is here, and whether they want
/// messages that are not essential.
pub async fn my_settings(ctx: Ctx) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    let u = v.user();
    let saved = crate::signin::param(&ctx, "gelukt").is_some();
    let body = html! {
        h1 { "Mijn gegevens" }
        @if saved { (crate::layout::notice("Opgeslagen.")) }
        dl.facts {
            dt { "Naam" } dd { (u.name) }
            dt { "Rol" } dd { (nl::role(u.role)) }
            dt { "E-mailadres" } dd { (u.email.as_deref().unwrap_or("Niet bekend: vraag de beheerder om het toe te voegen.")) }
            dt { "Ingelogd met" } dd {
                (match v.session.method {
                    doorbraak_engine::SignInMethod::AccessCode => "uw toegangscode",
                    doorbraak_engine::SignInMethod::EmailLink => "een link in uw e-mail",
                    doorbraak_engine::SignInMethod::OpenIdConnect => "het inloggen van uw organisatie",
                })
                @if let Some(acr) = &v.session.acr { " (betrouwbaarheidsniveau " (acr) ")" }
            }
        }
        h2 { "Berichten" }
        form method="post" action="/mijn-gegevens" {
            (crate::layout::csrf_field(&ctx))
            fieldset {
                legend { "Welke berichten wilt u krijgen?" }
                div.choices {
                    div.choice {
                        input type="radio" name="berichten" id="berichten-alle" value="alle" checked[u.notify_optional];
                        label for="berichten-alle" { "Alle berichten over mijn zaken en mijn wachtrij" }
                    }
                    div.choice {
                        input type="radio" name="berichten" id="berichten-nodig" value="nodig" checked[!u.notify_optional];
                        label for="berichten-nodig" { "Alleen wat nodig is: een vraag aan mij en het besluit over mijn zaak" }
                    }
                }
            }
            button type="submit" { "Opslaan" }
        }
    };
    respond(StatusCode::OK, page(&ctx, "Mijn gegevens", body))
}

/// `POST /mijn-gegevens` with `berichten=alle|nodig`.
pub async fn save_settings(Posted { ctx, form }: Posted) -> Response {
    let v = match ctx.require() {
        Ok(v) => v.clone(),
        Err(r) => return r,
    };
    match ctx
        .web
        .engine
        .set_notify_optional(&v.principal(), form.get("berichten") != "nodig")
        .await
    {
        Ok(()) => Redirect::to("/mijn-gegevens?gelukt=1").into_response(),
        Err(e) => engine_error_page(&ctx, &e),
    }
}
