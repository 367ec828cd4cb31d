//! The page shell every page shares, and the pieces forms are built from.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use doorbraak_core::{Level, MeetingScope, Role, StatisticsScope, meeting_scope, statistics_scope};
use maud::{DOCTYPE, Markup, html};

use crate::ctx::Ctx;
use crate::nl;

/// Field errors of a form: (field name, message in Dutch).
pub type FieldErrors = Vec<(String, String)>;

fn nav_items(ctx: &Ctx) -> Vec<(&'static str, &'static str)> {
    let Some(v) = &ctx.viewer else {
        return Vec::new();
    };
    let p = v.principal();
    let mut items = vec![("/", "Start")];
    match p.role {
        Role::Professional => {
            items.push(("/zaken", "Mijn zaken"));
            items.push(("/zaken/nieuw", "Nieuwe zaak"));
        }
        Role::ProgrammeBureau
        | Role::AllianceSecretary
        | Role::NationalRepresentative
        | Role::BreakthroughSecretariat => items.push(("/zaken", "Wachtrij")),
        Role::MinistryAnalyst | Role::Administrator => items.push(("/zaken", "Zaken")),
    }
    let meets = [Level::Alliance, Level::BreakthroughMeeting]
        .iter()
        .any(|l| meeting_scope(&p, *l) != MeetingScope::Nothing);
    if meets {
        items.push(("/vergaderingen", "Vergaderingen"));
    }
    items.push(("/knelpunten", "Knelpunten"));
    items.push(("/eerdere-antwoorden", "Eerdere antwoorden"));
    if statistics_scope(&p) != StatisticsScope::Nothing {
        items.push(("/statistiek", "Statistiek"));
    }
    items.push(("/vastlopers", "Vastlopers"));
    if p.role == Role::Administrator {
        items.push(("/beheer", "Beheer"));
    }
    items
}

fn is_current(ctx: &Ctx, href: &str) -> bool {
    let path = ctx.path.split('?').next().unwrap_or("/");
    if href == "/" {
        return path == "/";
    }
    if href == "/zaken" {
        return path == "/zaken" || (path.starts_with("/zaken/") && path != "/zaken/nieuw");
    }
    path == href || path.starts_with(&format!("{href}/"))
}

/// A whole page: header with navigation, the content, a footer.
pub fn page(ctx: &Ctx, title: &str, content: Markup) -> Markup {
    let items = nav_items(ctx);
    html! {
        (DOCTYPE)
        html lang="nl" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Doorbraak" }
                link rel="stylesheet" href={ "/static/app.css?v=" (crate::stylesheet_version()) };
            }
            body {
                a.skip href="#inhoud" { "Naar de inhoud" }
                header.site {
                    div.bar {
                        a.brand href="/" { "Doorbraak" }
                        @if let Some(v) = &ctx.viewer {
                            div.who {
                                a href="/mijn-gegevens" { (v.user().name) } span { " · " (nl::role(v.user().role)) }
                                form method="post" action="/uitloggen" {
                                    input type="hidden" name="csrf" value=(ctx.csrf());
                                    button.link type="submit" { "Uitloggen" }
                                }
                            }
                        }
                    }
                    @if !items.is_empty() {
                        nav aria-label="Hoofdmenu" {
                            ul {
                                @for (href, label) in &items {
                                    li {
                                        @if is_current(ctx, href) {
                                            a href=(href) aria-current="page" { (label) }
                                        } @else {
                                            a href=(href) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                main id="inhoud" tabindex="-1" {
                    (content)
                }
                footer.site {
                    p {
                        "Doorbraak helpt professionals in de twintig focusgebieden als een regel hen tegenhoudt. "
                        a href="/toegankelijkheid" { "Toegankelijkheid" }
                    }
                }
            }
        }
    }
}

/// A page as a response.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// A page with one message (errors, refusals).
pub fn message_page(ctx: &Ctx, status: StatusCode, title: &str, text: &str) -> Response {
    respond(
        status,
        page(
            ctx,
            title,
            html! {
                h1 { (title) }
                p { (text) }
                p { a href="/" { "Naar de startpagina" } }
            },
        ),
    )
}

/// The box at the top of a form that lists its errors, each a link to
/// its field.
pub fn error_summary(errors: &FieldErrors, labels: &dyn Fn(&str) -> String) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.error-summary role="alert" aria-labelledby="fouten-titel" tabindex="-1" {
                h2 id="fouten-titel" { "Er ging iets mis" }
                ul {
                    @for (field, message) in errors {
                        li { a href={ "#" (field_id(field)) } { (labels(field)) ": " (message) } }
                    }
                }
            }
        }
    }
}

/// The element id of a form field (`rule.citation` → `veld-rule-citation`).
pub fn field_id(name: &str) -> String {
    format!("veld-{}", name.replace('.', "-"))
}

pub fn error_of<'a>(errors: &'a FieldErrors, name: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|(f, _)| f == name)
        .map(|(_, m)| m.as_str())
}

/// A text field with its label, hint and error.
pub fn text_field(
    name: &str,
    label: &str,
    hint: Option<&str>,
    value: &str,
    errors: &FieldErrors,
    attrs: FieldAttrs,
) -> Markup {
    text_field_id(&field_id(name), name, label, hint, value, errors, attrs)
}

/// [`text_field`] with its own element id (two forms on a page may have
/// fields of the same name).
pub fn text_field_id(
    id: &str,
    name: &str,
    label: &str,
    hint: Option<&str>,
    value: &str,
    errors: &FieldErrors,
    attrs: FieldAttrs,
) -> Markup {
    let id = id.to_owned();
    let err = error_of(errors, name);
    let described = described_by(&id, hint.is_some(), err.is_some());
    html! {
        div.field.has-error[err.is_some()] {
            label for=(id) { (label) @if !attrs.required { span.optional { " (niet verplicht)" } } }
            @if let Some(h) = hint { p.hint id={ (id) "-hint" } { (h) } }
            @if let Some(e) = err { p.error id={ (id) "-fout" } { span.visually-hidden { "Fout: " } (e) } }
            @if attrs.multiline {
                textarea id=(id) name=(name) rows="5" required[attrs.required]
                    aria-invalid=[err.map(|_| "true")] aria-describedby=[described.as_deref()] { (value) }
            } @else {
                input id=(id) name=(name) type=(attrs.kind) value=(value) required[attrs.required]
                    inputmode=[attrs.inputmode] autocomplete=[attrs.autocomplete]
                    aria-invalid=[err.map(|_| "true")] aria-describedby=[described.as_deref()];
            }
        }
    }
}

fn described_by(id: &str, hint: bool, err: bool) -> Option<String> {
    let mut parts = Vec::new();
    if hint {
        parts.push(format!("{id}-hint"));
    }
    if err {
        parts.push(format!("{id}-fout"));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// How a text field behaves.
#[derive(Debug, Clone, Copy)]
pub struct FieldAttrs {
    pub required: bool,
    pub multiline: bool,
    pub kind: &'static str,
    pub inputmode: Option<&'static str>,
    pub autocomplete: Option<&'static str>,
}

impl FieldAttrs {
    pub const TEXT: FieldAttrs = FieldAttrs {
        required: true,
        multiline: false,
        kind: "text",
        inputmode: None,
        autocomplete: Some("off"),
    };
    pub const fn optional(self) -> FieldAttrs {
        FieldAttrs {
            required: false,
            ..self
        }
    }
    pub const fn multiline(self) -> FieldAttrs {
        FieldAttrs {
            multiline: true,
            ..self
        }
    }
    pub const fn kind(self, kind: &'static str) -> FieldAttrs {
        FieldAttrs { kind, ..self }
    }
    pub const fn numeric(self, mode: &'static str) -> FieldAttrs {
        FieldAttrs {
            inputmode: Some(mode),
            ..self
        }
    }
}

/// A select with its label and error; `options` are (value, label).
pub fn select_field(
    name: &str,
    label: &str,
    hint: Option<&str>,
    options: &[(String, String)],
    selected: &str,
    errors: &FieldErrors,
    required: bool,
) -> Markup {
    select_field_id(
        &field_id(name),
        name,
        label,
        hint,
        options,
        selected,
        errors,
        required,
    )
}

/// [`select_field`] with its own element id.
#[allow(clippy::too_many_arguments)]
pub fn select_field_id(
    id: &str,
    name: &str,
    label: &str,
    hint: Option<&str>,
    options: &[(String, String)],
    selected: &str,
    errors: &FieldErrors,
    required: bool,
) -> Markup {
    let id = id.to_owned();
    let err = error_of(errors, name);
    let described = described_by(&id, hint.is_some(), err.is_some());
    html! {
        div.field.has-error[err.is_some()] {
            label for=(id) { (label) @if !required { span.optional { " (niet verplicht)" } } }
            @if let Some(h) = hint { p.hint id={ (id) "-hint" } { (h) } }
            @if let Some(e) = err { p.error id={ (id) "-fout" } { span.visually-hidden { "Fout: " } (e) } }
            select id=(id) name=(name) required[required]
                aria-invalid=[err.map(|_| "true")] aria-describedby=[described.as_deref()] {
                @if !required || selected.is_empty() { option value="" { "Kies…" } }
                @for (value, text) in options {
                    option value=(value) selected[value == selected] { (text) }
                }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf()); }
}

/// A notice at the top of a page (after a redirect).
pub fn notice(text: &str) -> Markup {
    html! { div.notice role="status" { p { (text) } } }
}

/// `GET /toegankelijkheid`: the accessibility statement.
pub async fn accessibility(ctx: Ctx) -> Response {
    respond(
        StatusCode::OK,
        page(
            &ctx,
            "Toegankelijkheid",
            html! {
                h1 { "Toegankelijkheidsverklaring" }
                p { "Doorbraak wil dat iedereen deze website kan gebruiken: op een computer, een tablet of een telefoon, met een toetsenbord, een schermlezer of vergroting." }
                h2 { "Welke norm" }
                p { "De pagina's voldoen aan " abbr title="Web Content Accessibility Guidelines" { "WCAG" } " 2.1 op niveau AA. Dat is de wettelijke norm voor websites van de overheid (EN 301 549)." }
                h2 { "Hoe we dat controleren" }
                ul {
                    li { "Bij elke wijziging controleert een automatische test elke pagina in elke toestand met axe-core, ook formulieren die fouten tonen. Die test vindt geen overtredingen." }
                    li { "De test doorloopt een zaak over de hele ladder alleen met de pagina's, ook zonder JavaScript, in de browser Chromium." }
                    li { "Alles werkt met alleen het toetsenbord. Elke pagina begint met een link \u{201c}Naar de inhoud\u{201d}." }
                    li { "De pagina's werken op een scherm van 360 pixels breed." }
                    li { "Grafieken staan er ook als tabel, met dezelfde cijfers." }
                }
                p { "Automatische tests vinden niet alles. Een onderzoek door een deskundige met gebruikers van hulpmiddelen is nog niet gedaan; dat staat gepland." }
                h2 { "Iets werkt niet?" }
                p { "Meld het bij de beheerder van Doorbraak in uw focusgebied. We antwoorden binnen vijf werkdagen." }
                p { "Deze verklaring is opgesteld op " (nl::date(chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default())) "." }
            },
        ),
    )
}

/// Marks up a preformatted block of text the user typed: paragraphs kept.
pub fn paragraphs(text: &str) -> Markup {
    html! {
        @for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
            p.user-text {
                @for (i, line) in para.lines().enumerate() {
                    @if i > 0 { br; }
                    (line)
                }
            }
        }
    }
}
