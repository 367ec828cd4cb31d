//! Administration: users (create, edit, a new access code, deactivate),
//! service norms, focus areas and ministries.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use doorbraak_core::{Level, Role};
use doorbraak_engine::{EngineError, UserInput, UserRecord};
use maud::{Markup, html};

use crate::cases::{area_name, parse_id};
use crate::ctx::{Ctx, Posted, Viewer};
use crate::errors::{self, engine_error_page, refusal_nl, validation_nl};
use crate::form::FormData;
use crate::layout::{self, FieldAttrs, FieldErrors, csrf_field, notice, page, respond};
use crate::nl;
use crate::signin::param;

fn admin(ctx: &Ctx) -> Result<Viewer, Response> {
    let v = ctx.require()?.clone();
    if v.user().role != Role::Administrator {
        return Err(layout::message_page(
            ctx,
            StatusCode::FORBIDDEN,
            "Alleen voor beheerders",
            "Deze pagina is voor de beheerders van Doorbraak.",
        ));
    }
    Ok(v)
}

fn user_labels(f: &str) -> String {
    match f {
        "name" => "Naam",
        "role" => "Rol",
        "areas" => "Focusgebieden",
        "ministry" => "Ministerie",
        "email" => "E-mailadres",
        "days" => "Dagen",
        "code" => "Code",
        _ => "Formulier",
    }
    .to_owned()
}

/// The user form's fields, filled from `form` (or from `user` the first time).
fn user_fields(ctx: &Ctx, form: &FormData, errors: &FieldErrors) -> Markup {
    let e = &ctx.web.engine;
    let roles: Vec<(String, String)> = Role::ALL
        .iter()
        .map(|r| (r.as_str().to_owned(), nl::role(*r).to_owned()))
        .collect();
    let ministries: Vec<(String, String)> = e
        .ministries()
        .into_iter()
        .map(|m| (m.code, m.name))
        .collect();
    let area_err = layout::error_of(errors, "areas");
    html! {
        (layout::text_field("name", "Naam", None, form.get("name"), errors, FieldAttrs::TEXT))
        (layout::text_field("email", "E-mailadres", Some("Voor berichten en om in te loggen met een link."), form.get("email"), errors, FieldAttrs { autocomplete: Some("email"), ..FieldAttrs::TEXT.optional().kind("email") }))
        (layout::select_field("role", "Rol", None, &roles, form.get("role"), errors, true))
        (layout::select_field("ministry", "Ministerie", Some("Voor rijksvertegenwoordigers en analisten."), &ministries, form.get("ministry"), errors, false))
        fieldset.field.has-error[area_err.is_some()] id="veld-areas" {
            legend { "Focusgebieden" }
            p.hint { "Voor professionals, het programmabureau, de secretaris van de alliantie en rijksvertegenwoordigers." }
            @if let Some(m) = area_err { p.error { span.visually-hidden { "Fout: " } (m) } }
            div.choices.columns {
                @for a in e.focus_areas() {
                    div.choice {
                        input type="checkbox" name="areas" id={ "gebied-" (a.code) } value=(a.code) checked[form.has("areas", &a.code)];
                        label for={ "gebied-" (a.code) } { (a.name) }
                    }
                }
            }
        }
    }
}

fn input_of(form: &FormData) -> Result<UserInput, FieldErrors> {
    let role = form
        .get("role")
        .parse::<Role>()
        .map_err(|_| vec![("role".to_owned(), "Kies een rol".to_owned())])?;
    Ok(UserInput {
        name: form.get("name").to_owned(),
        role,
        areas: form.all("areas").into_iter().map(str::to_owned).collect(),
        ministry: form.opt("ministry").map(str::to_owned),
        email: form.opt("email").map(str::to_owned),
    })
}

fn form_of(u: &UserRecord) -> FormData {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("name", &u.name);
    s.append_pair("role", u.role.as_str());
    if let Some(m) = &u.ministry {
        s.append_pair("ministry", m);
    }
    if let Some(e) = &u.email {
        s.append_pair("email", e);
    }
    for a in &u.areas {
        s.append_pair("areas", a);
    }
    FormData::parse(s.finish().as_bytes())
}

fn engine_field_errors(err: &EngineError) -> Option<FieldErrors> {
    match err {
        EngineError::Validation { field, message } => {
            Some(vec![(field.clone(), validation_nl(message))])
        }
        EngineError::PersonalData { field } => {
            Some(vec![(field.clone(), errors::BSN_HELP.to_owned())])
        }
        _ => None,
    }
}

async fn overview_page(
    ctx: &Ctx,
    v: &Viewer,
    status: StatusCode,
    new_user: (&FormData, &FieldErrors),
    other: Option<(&str, &FieldErrors)>,
) -> Response {
    let e = &ctx.web.engine;
    let users = match e.all_users(v.user()).await {
        Ok(u) => u,
        Err(err) => return engine_error_page(ctx, &err),
    };
    let requests = match e.access_requests(&v.principal()).await {
        Ok(r) => r,
        Err(err) => return engine_error_page(ctx, &err),
    };
    let policy = e.policy();
    let other_errors = |which: &str| -> FieldErrors {
        match other {
            Some((w, errs)) if w == which => errs.clone(),
            _ => Vec::new(),
        }
    };
    let (form, errors) = new_user;
    let norm_errors = other_errors("normen");
    let area_errors = other_errors("gebieden");
    let ministry_errors = other_errors("ministeries");
    let body = html! {
        h1 { "Beheer" }
        @if let Some(g) = param(ctx, "gelukt") {
            (notice(match g.as_str() { "norm" => "De servicenorm is aangepast.", "gebied" => "Het focusgebied is toegevoegd.", "ministerie" => "Het ministerie is toegevoegd.", _ => "Gelukt." }))
        }
        section aria-labelledby="gebruikers" {
            h2 id="gebruikers" { "Gebruikers" }
            div.table-wrap {
                table {
                    caption { (users.len()) " gebruikers" }
                    thead { tr { th scope="col" { "Naam" } th scope="col" { "Rol" } th scope="col" { "Gebieden" } th scope="col" { "Ministerie" } th scope="col" { "Actief" } } }
                    tbody {
                        @for u in &users {
                            tr {
                                td { a href={ "/beheer/gebruikers/" (u.id) } { (u.name) } }
                                td { (nl::role(u.role)) }
                                td { (u.areas.join(", ")) }
                                td { (u.ministry.as_deref().unwrap_or("")) }
                                td { @if u.active { "Ja" } @else { "Nee" } }
                            }
                        }
                    }
                }
            }
            details.action open[!errors.is_empty()] {
                summary { "Gebruiker toevoegen" }
                (layout::error_summary(errors, &user_labels))
                form method="post" action="/beheer/gebruikers" novalidate {
                    (csrf_field(ctx))
                    (user_fields(ctx, form, errors))
                    button type="submit" { "Gebruiker toevoegen" }
                }
            }
        }
        @if !requests.is_empty() {
            section aria-labelledby="aanvragen" {
                h2 id="aanvragen" { "Aanvragen voor toegang" }
                p { "Deze mensen logden in via hun organisatie, maar hebben nog geen gebruiker. Maak een gebruiker met hun e-mailadres; bij de volgende keer inloggen worden ze gekoppeld." }
                div.table-wrap {
                    table {
                        caption { (requests.len()) " aanvragen" }
                        thead { tr { th scope="col" { "Naam" } th scope="col" { "E-mailadres" } th scope="col" { "Wanneer" } } }
                        tbody {
                            @for r in &requests {
                                tr {
                                    td { (r.name.as_deref().unwrap_or("–")) }
                                    td { (r.email.as_deref().unwrap_or("–")) }
                                    td { (nl::datetime(r.at)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="normen" {
            h2 id="normen" { "Servicenormen" }
            p { "Hoeveel dagen een niveau heeft voor een zaak, en of de zaak daarna vanzelf doorgaat." }
            (layout::error_summary(&norm_errors, &user_labels))
            div.table-wrap {
                table {
                    caption { "Servicenormen per niveau" }
                    thead { tr { th scope="col" { "Niveau" } th scope="col" class="num" { "Dagen" } th scope="col" { "Vanzelf door" } th scope="col" { "Aanpassen" } } }
                    tbody {
                        @for (i, l) in Level::ALL.iter().enumerate() {
                            tr {
                                th scope="row" { (nl::level(*l)) }
                                td.num { (policy.norm_days[i]) }
                                td { @if policy.auto_escalate[i] { "Ja" } @else { "Nee" } }
                                td {
                                    form.inline method="post" action="/beheer/normen" novalidate {
                                        (csrf_field(ctx))
                                        input type="hidden" name="level" value=(l.as_str());
                                        label for={ "dagen-" (l.as_str()) } { "Dagen voor " (nl::level(*l).to_lowercase()) }
                                        input.short id={ "dagen-" (l.as_str()) } name="days" type="text" inputmode="numeric" value=(policy.norm_days[i]);
                                        span.choice {
                                            input type="checkbox" id={ "auto-" (l.as_str()) } name="auto" value="1" checked[policy.auto_escalate[i]];
                                            label for={ "auto-" (l.as_str()) } { "Vanzelf door" }
                                        }
                                        button type="submit" { "Opslaan" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="gebieden" {
            h2 id="gebieden" { "Focusgebieden" }
            p { (e.focus_areas().iter().map(|a| format!("{} ({})", a.name, a.code)).collect::<Vec<_>>().join(", ")) }
            (code_name_form(ctx, "gebied", "/beheer/gebieden", "Focusgebied toevoegen", "Drie letters, bijvoorbeeld ZDO.", &area_errors, html! {}))
        }
        section aria-labelledby="ministeries" {
            h2 id="ministeries" { "Ministeries" }
            p { (e.ministries().iter().map(|m| format!("{} ({})", m.name, m.code)).collect::<Vec<_>>().join(", ")) }
            (code_name_form(ctx, "ministerie", "/beheer/ministeries", "Ministerie toevoegen", "Twee tot acht letters, bijvoorbeeld SZW.", &ministry_errors, html! {
                div.choice {
                    input type="checkbox" id="ministerie-rv" name="representative" value="1";
                    label for="ministerie-rv" { "Levert rijksvertegenwoordigers" }
                }
            }))
        }
    };
    respond(status, page(ctx, "Beheer", body))
}

/// The form that adds a focus area or a ministry: a code and a name.
fn code_name_form(
    ctx: &Ctx,
    prefix: &str,
    action: &str,
    title: &str,
    code_hint: &str,
    errors: &FieldErrors,
    extra: Markup,
) -> Markup {
    let of =
        |name: &str| -> FieldErrors { errors.iter().filter(|(f, _)| f == name).cloned().collect() };
    html! {
        details.action open[!errors.is_empty()] {
            summary { (title) }
            (layout::error_summary(errors, &|f| if f == "code" { "Code".into() } else { "Naam".into() }))
            form method="post" action=(action) novalidate {
                (csrf_field(ctx))
                (layout::text_field_id(&format!("{prefix}-code"), "code", "Code", Some(code_hint), "", &of("code"), FieldAttrs::TEXT))
                (layout::text_field_id(&format!("{prefix}-naam"), "name", "Naam", None, "", &of("name"), FieldAttrs::TEXT))
                (extra)
                button type="submit" { "Toevoegen" }
            }
        }
    }
}

/// `GET /beheer`.
pub async fn overview(ctx: Ctx) -> Response {
    let v = match admin(&ctx) {
        Ok(v) => v,
        Err(r) => return r,
    };
    overview_page(
        &ctx,
        &v,
        StatusCode::OK,
        (&FormData::default(), &Vec::new()),
        None,
    )
    .await
}

/// The one page that shows a new access code; it is never shown again.
fn code_page(ctx: &Ctx, u: &UserRecord, code: &str, created: bool) -> Response {
    let body = html! {
        h1 { @if created { "Gebruiker toegevoegd" } @else { "Nieuwe toegangscode" } }
        p { "De toegangscode van " strong { (u.name) } " (" (nl::role(u.role)) ") is:" }
        p.code { code { (code) } }
        p { "Geef deze code veilig door. Hij staat nergens opgeslagen en wordt maar één keer getoond. " @if !created { "De oude code werkt niet meer." } }
        p { a href={ "/beheer/gebruikers/" (u.id) } { "Naar de gebruiker" } " · " a href="/beheer" { "Naar beheer" } }
    };
    respond(
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        page(ctx, "Toegangscode", body),
    )
}

/// `POST /beheer/gebruikers`.
pub async fn create_user(Posted { ctx, form }: Posted) -> Response {
    let v = match admin(&ctx) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let input = match input_of(&form) {
        Ok(i) => i,
        Err(errors) => {
            return overview_page(
                &ctx,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                (&form, &errors),
                None,
            )
            .await;
        }
    };
    match ctx.web.engine.create_user_as(v.user(), &input).await {
        Ok((u, code)) => code_page(&ctx, &u, &code, true),
        Err(err) => match engine_field_errors(&err) {
            Some(errors) => {
                overview_page(
                    &ctx,
                    &v,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    (&form, &errors),
                    None,
                )
                .await
            }
            None => engine_error_page(&ctx, &err),
        },
    }
}

async fn user_view(
    ctx: &Ctx,
    v: &Viewer,
    id: &str,
    status: StatusCode,
    form: Option<&FormData>,
    errors: &FieldErrors,
    top: Option<Markup>,
) -> Response {
    let Some(id) = parse_id(id) else {
        return errors::not_found_page(ctx);
    };
    let e = &ctx.web.engine;
    let u = match e.all_users(v.user()).await {
        Ok(all) => match all.into_iter().find(|u| u.id == id) {
            Some(u) => u,
            None => return errors::not_found_page(ctx),
        },
        Err(err) => return engine_error_page(ctx, &err),
    };
    let filled = form.cloned().unwrap_or_else(|| form_of(&u));
    let body = html! {
        @if let Some(t) = top { (t) }
        @if param(ctx, "gelukt").is_some() { (notice("De gegevens zijn opgeslagen.")) }
        p.breadcrumb { a href="/beheer" { "Beheer" } " › " (u.name) }
        h1 { (u.name) }
        p.lead { (nl::role(u.role)) " · " @if u.active { "actief" } @else { "uitgeschakeld" }
            @if !u.areas.is_empty() { " · " (u.areas.iter().map(|a| area_name(ctx, a)).collect::<Vec<_>>().join(", ")) } }
        section aria-labelledby="wijzigen" {
            h2 id="wijzigen" { "Gegevens wijzigen" }
            (layout::error_summary(errors, &user_labels))
            form method="post" action={ "/beheer/gebruikers/" (u.id) } novalidate {
                (csrf_field(ctx))
                (user_fields(ctx, &filled, errors))
                button type="submit" { "Opslaan" }
            }
        }
        section aria-labelledby="code" {
            h2 id="code" { "Toegangscode" }
            p { "Kwijt of misschien gelekt? Geef een nieuwe code. De oude werkt dan niet meer." }
            form method="post" action={ "/beheer/gebruikers/" (u.id) "/code" } {
                (csrf_field(ctx))
                button.secondary type="submit" { "Nieuwe toegangscode geven" }
            }
        }
        section aria-labelledby="actief" {
            h2 id="actief" { @if u.active { "Uitschakelen" } @else { "Weer inschakelen" } }
            form method="post" action={ "/beheer/gebruikers/" (u.id) "/actief" } {
                (csrf_field(ctx))
                @if u.active {
                    input type="hidden" name="active" value="false";
                    p { "Een uitgeschakelde gebruiker kan niet meer inloggen. Wat deze persoon deed, blijft bewaard." }
                    button.danger type="submit" { "Gebruiker uitschakelen" }
                } @else {
                    input type="hidden" name="active" value="true";
                    button.secondary type="submit" { "Gebruiker weer inschakelen" }
                }
            }
        }
    };
    respond(status, page(ctx, &u.name, body))
}

/// `GET /beheer/gebruikers/{id}`.
pub async fn user_page(ctx: Ctx, Path(id): Path<String>) -> Response {
    let v = match admin(&ctx) {
        Ok(v) => v,
        Err(r) => return r,
    };
    user_view(&ctx, &v, &id, StatusCode::OK, None, &Vec::new(), None).await
}

/// `POST /beheer/gebruikers/{id}`: change name, role, areas, ministry, e-mail.
pub async fn update_user(Path(id): Path<String>, Posted { ctx, form }: Posted) -> Response {
    let v = match admin(&ctx) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(uid) = parse_id(&id) else {
        return errors::not_found_page(&ctx);
    };
    let input = match input_of(&form) {
        Ok(i) => i,
        Err(errors) => {
            return user_view(
                &ctx,
                &v,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&form),
                &errors,
                None,
            )
            .await;
        }
    };
    match ctx.web.engine.update_user(v.user(), uid, &input).await {
        Ok(_) => Redirect::to(&format!("/beheer/gebruikers/{uid}?gelukt=1")).into_response(),
        Err(EngineError::NotFound(_)) => errors::not_found_page(&ctx),
        Err(err) => match engine_field_errors(&err) {
            Some(errors) => {
                user_view(
                    &ctx,
                    &v,
                    &id,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(&form),
                    &errors,
                    None,
                )
                .await
            }
            None => engine_error_page(&ctx, &err),
        },
    }
}

/// `POST /beheer/gebruikers/{id}/code`: a new access code.
pub async fn new_code(Path(id): Path<String>, Posted { ctx, .. }: Posted) -> Response {
    let v = match admin(&ctx) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(uid) = parse_id(&id) else {
        return errors::not_found_page(&ctx);
    };
    match ctx.web.engine.issue_token(v.user(), uid).await {
        Ok((u, code)) => code_page(&ctx, &u, &code, false),
        Err(err) => engine_error_page(&ctx, &err),
    }
}

/// `POST /beheer/gebruikers/{id}/actief` with `active=true|false`.
pub async fn set_active(Path(id): Path<String>, Posted { ctx, form }: Posted) -> Response {
    let v = match admin(&ctx) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(uid) = parse_id(&id) else {
        return errors::not_found_page(&ctx);
    };
    let active = form.get("active") == "true";
    match ctx.web.engine.set_user_active(v.user(), uid, active).await {
        Ok(_) => Redirect::to(&format!("/beheer/gebruikers/{uid}?gelukt=1")).into_response(),
        Err(err @ EngineError::Validation { .. }) => {
            let top = html! { div.error-summary role="alert" { p { (refusal_nl(&err)) } } };
            user_view(
                &ctx,
                &v,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                &Vec::new(),
                Some(top),
            )
            .await
        }
        Err(err) => engine_error_page(&ctx, &err),
    }
}

/// `POST /beheer/normen` with `level`, `days`, `auto`.
pub async fn set_norm(Posted { ctx, form }: Posted) -> Response {
    let v = match admin(&ctx) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let none = (&FormData::default(), &Vec::new());
    let Ok(level) = form.get("level").parse::<Level>() else {
        return overview_page(
            &ctx,
            &v,
            StatusCode::UNPROCESSABLE_ENTITY,
            none,
            Some(("normen", &vec![("days".into(), "Kies een niveau".into())])),
        )
        .await;
    };
    let Ok(days) = form.get("days").trim().parse::<i32>() else {
        return overview_page(
            &ctx,
            &v,
            StatusCode::UNPROCESSABLE_ENTITY,
            none,
            Some((
                "normen",
                &vec![(
                    "days".into(),
                    "Vul een aantal dagen in tussen 1 en 365".into(),
                )],
            )),
        )
        .await;
    };
    match ctx
        .web
        .engine
        .set_service_norm(v.user(), level, days, form.get("auto") == "1")
        .await
    {
        Ok(()) => Redirect::to("/beheer?gelukt=norm").into_response(),
        Err(EngineError::Validation { .. }) => {
            overview_page(
                &ctx,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                none,
                Some((
                    "normen",
                    &vec![(
                        "days".into(),
                        "Vul een aantal dagen in tussen 1 en 365".into(),
                    )],
                )),
            )
            .await
        }
        Err(err) => engine_error_page(&ctx, &err),
    }
}

/// After adding a focus area or a ministry: back to the overview, or the
/// form again with the engine's errors next to its fields.
async fn added(
    ctx: &Ctx,
    v: &Viewer,
    result: Result<(), EngineError>,
    done: &str,
    section: &str,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/beheer?gelukt={done}")).into_response(),
        Err(err) => match engine_field_errors(&err) {
            Some(errors) => {
                let none = (&FormData::default(), &Vec::new());
                overview_page(
                    ctx,
                    v,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    none,
                    Some((section, &errors)),
                )
                .await
            }
            None => engine_error_page(ctx, &err),
        },
    }
}

/// `POST /beheer/gebieden` with `code`, `name`.
pub async fn add_area(Posted { ctx, form }: Posted) -> Response {
    let v = match admin(&ctx) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let r = ctx
        .web
        .engine
        .add_focus_area(v.user(), form.get("code"), form.get("name"))
        .await;
    added(&ctx, &v, r, "gebied", "gebieden").await
}

/// `POST /beheer/ministeries` with `code`, `name`, `representative`.
pub async fn add_ministry(Posted { ctx, form }: Posted) -> Response {
    let v = match admin(&ctx) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let r = ctx
        .web
        .engine
        .add_ministry(
            v.user(),
            form.get("code"),
            form.get("name"),
            form.get("representative") == "1",
        )
        .await;
    added(&ctx, &v, r, "ministerie", "ministeries").await
}
