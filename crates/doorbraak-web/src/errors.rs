//! Refusals and errors in Dutch, and the error pages (404, 500, 503).
//!
//! The engine's refusals carry English text for the API. The pages say the
//! same in Dutch: a table of the refusals people meet on the pages, and for
//! anything else a plain sentence per error code. No page ever shows a
//! stack trace or an internal message.

use axum::http::StatusCode;
use axum::response::Response;
use doorbraak_engine::EngineError;

use crate::ctx::Ctx;
use crate::layout;

/// A validation message in Dutch.
pub fn validation_nl(message: &str) -> String {
    let number = |m: &str| -> String {
        m.split_whitespace()
            .find_map(|w| w.parse::<u64>().ok())
            .map_or_else(String::new, |n| crate::nl::grouped(n as i64))
    };
    let m = message;
    if m.contains("must not be empty") {
        "Vul dit in".to_owned()
    } else if m.contains("must be at least") && m.contains("characters") {
        format!("Schrijf ten minste {} tekens", number(m))
    } else if m.contains("must be at most") && m.contains("characters") {
        format!("Schrijf ten hoogste {} tekens", number(m))
    } else if m.contains("control characters") {
        "Hier staan tekens in die niet zijn toegestaan".to_owned()
    } else if m.contains("BWBR") {
        "Een BWB-nummer is BWBR met zeven cijfers, zoals op wetten.overheid.nl (bijvoorbeeld BWBR0015703)".to_owned()
    } else if m.contains("is taken") {
        "Deze code is al in gebruik".to_owned()
    } else if m.contains("focus area") {
        "Kies een focusgebied uit de lijst".to_owned()
    } else if m.contains("does not provide national representatives") {
        "Dit ministerie levert geen rijksvertegenwoordigers".to_owned()
    } else if m.contains("ministry") {
        "Kies een ministerie uit de lijst".to_owned()
    } else if m.contains("is required") {
        "Maak een keuze".to_owned()
    } else if m.contains("policy domain") {
        "Kies ten minste één beleidsterrein".to_owned()
    } else if m.contains("must be between 0 and") {
        "Vul een aantal in tussen 0 en 10.000.000".to_owned()
    } else if m.contains("two decimals") {
        "Een bedrag heeft ten hoogste twee cijfers achter de komma".to_owned()
    } else if m.contains("must not be negative") {
        "Een bedrag kan niet negatief zijn".to_owned()
    } else if m.contains("is too large") {
        "Dit bedrag is te groot".to_owned()
    } else if m.contains("e-mail address such as") {
        "Vul een e-mailadres in zoals naam@organisatie.nl".to_owned()
    } else if m.contains("address of another user") {
        "Dit e-mailadres hoort al bij een andere gebruiker".to_owned()
    } else if m.contains("merged into itself") {
        "Een zaak kan niet met zichzelf worden samengevoegd".to_owned()
    } else if m.contains("not a case you can merge into") {
        "Met deze zaak kunt u niet samenvoegen: controleer het kenmerk".to_owned()
    } else if m.contains("national rule can only be changed structurally") {
        "Een landelijke regel verandert structureel pas bij de rijksvertegenwoordiger of het doorbraakoverleg. Zet de zaak door".to_owned()
    } else if m.contains("does not apply to the outcome") {
        "Deze datum hoort niet bij deze uitkomst: laat hem leeg".to_owned()
    } else if m.contains("only given with the outcome FUNDING_UNLOCKED") {
        "Een bedrag vult u alleen in bij de uitkomst \u{201c}Er is geld vrijgemaakt\u{201d}"
            .to_owned()
    } else if m.contains("required when funding is unlocked") {
        "Vul het bedrag in dat is vrijgemaakt".to_owned()
    } else if m.contains("when does the changed rule take effect") {
        "Vul in vanaf wanneer de gewijzigde regel geldt".to_owned()
    } else if m.contains("must be more than zero") {
        "Vul een bedrag in dat groter is dan nul".to_owned()
    } else if m.contains("after the end of the experiment") {
        "De evaluatie is uiterlijk op de einddatum van het experiment".to_owned()
    } else if m.contains("must lie in the future") {
        "Kies een moment in de toekomst".to_owned()
    } else if m.contains("programme bureau member works in at least one") {
        "Een medewerker van het programmabureau werkt in ten minste één focusgebied".to_owned()
    } else if m.contains("alliance secretary serves exactly one") {
        "Een secretaris van de alliantie hoort bij precies één focusgebied".to_owned()
    } else if m.contains("national representative sits in at least one") {
        "Een rijksvertegenwoordiger zit in ten minste één focusgebied".to_owned()
    } else if m.contains("this role belongs to a ministry") {
        "Deze rol hoort bij een ministerie: kies het ministerie".to_owned()
    } else if m.contains("this role is national") {
        "Deze rol is landelijk en heeft geen focusgebieden".to_owned()
    } else if m.contains("your own administrator role") {
        "U kunt uw eigen beheerdersrol niet afnemen".to_owned()
    } else if m.contains("deactivate yourself") {
        "U kunt uzelf niet uitschakelen".to_owned()
    } else if m.contains("required for an alliance meeting") {
        "Kies het focusgebied van de alliantie".to_owned()
    } else if m.contains("the breakthrough meeting is national") {
        "Het doorbraakoverleg is landelijk: kies geen focusgebied".to_owned()
    } else {
        "Dit is niet goed ingevuld".to_owned()
    }
}

/// What to do instead when a text holds a citizen service number.
pub const BSN_HELP: &str = "Hier lijkt een burgerservicenummer (BSN) in te staan. Doorbraak bewaart geen gegevens over inwoners. Beschrijf de regel en de situatie zonder BSN, naam of adres, bijvoorbeeld \u{201c}een moeder van drie kinderen met schulden\u{201d}. Het nummer kunt u bewaren in het dossier van uw eigen organisatie.";

/// A refusal (not tied to one field) in Dutch.
pub fn refusal_nl(e: &EngineError) -> String {
    match e {
        EngineError::Unauthenticated => "U bent niet (meer) ingelogd. Log opnieuw in.".to_owned(),
        EngineError::Forbidden(m) => forbidden_nl(m),
        EngineError::NotFound(_) => "Dit bestaat niet, of u mag het niet zien.".to_owned(),
        EngineError::Validation { message, .. } => validation_nl(message),
        EngineError::InvalidTransition(m) => transition_nl(m),
        EngineError::VersionConflict => "Iemand anders heeft de zaak net gewijzigd. Hieronder ziet u de zaak zoals die nu is. Kijk of uw stap nog nodig is en probeer het opnieuw.".to_owned(),
        EngineError::PersonalData { .. } => BSN_HELP.to_owned(),
        EngineError::Unavailable(_) => "Doorbraak kan de gegevens nu niet bereiken. Probeer het over een paar minuten opnieuw.".to_owned(),
        EngineError::Internal(_) => "Er ging bij ons iets mis. Probeer het opnieuw; blijft het misgaan, meld het dan bij de beheerder.".to_owned(),
    }
}

fn forbidden_nl(m: &str) -> String {
    let table: &[(&str, &str)] = &[
        (
            "focus area you do not work in",
            "Deze zaak hoort bij een focusgebied waarin u niet werkt.",
        ),
        (
            "submit the case in one of your own focus areas",
            "Dien de zaak in bij een van uw eigen focusgebieden.",
        ),
        (
            "only professionals submit cases",
            "Alleen professionals dienen zaken in.",
        ),
        (
            "someone else already holds this case",
            "Iemand anders heeft deze zaak al opgepakt.",
        ),
        (
            "another national representative holds this case",
            "Een andere rijksvertegenwoordiger heeft deze zaak opgepakt.",
        ),
        (
            "pick the case up before acting on it",
            "Pak de zaak eerst op voordat u een stap zet.",
        ),
        (
            "only the one who holds the case can release it",
            "Alleen wie de zaak heeft opgepakt, kan hem teruggeven.",
        ),
        (
            "only the professional who submitted the case",
            "Alleen de professional die de zaak indiende, kan dit doen.",
        ),
        (
            "links cases to barriers",
            "Alleen het programmabureau en de rijksvertegenwoordiger koppelen zaken aan knelpunten.",
        ),
        (
            "owning ministry",
            "Alleen het ministerie van de regel legt vast dat de wijziging is ingevoerd.",
        ),
        (
            "schedule their alliance's meetings",
            "Alleen de secretaris van de alliantie of het secretariaat plant vergaderingen.",
        ),
        (
            "meeting's secretary",
            "Alleen de secretaris van deze vergadering kan dit doen.",
        ),
        ("only administrators", "Alleen beheerders kunnen dit doen."),
    ];
    table
        .iter()
        .find(|(en, _)| m.contains(en))
        .map_or("U mag deze stap niet zetten.", |(_, nl)| nl)
        .to_owned()
}

fn transition_nl(m: &str) -> String {
    let table: &[(&str, &str)] = &[
        (
            "you already hold this case",
            "U hebt deze zaak al opgepakt.",
        ),
        (
            "nobody holds this case",
            "Niemand heeft deze zaak opgepakt.",
        ),
        (
            "decided in its meeting, not picked up",
            "Zaken op dit niveau worden in de vergadering besloten; u pakt ze niet op.",
        ),
        (
            "top of the ladder",
            "Het doorbraakoverleg is het hoogste niveau; hoger kan niet.",
        ),
        (
            "bottom of the ladder",
            "Het programmabureau is het laagste niveau; lager kan niet.",
        ),
        (
            "can only be contested within",
            "Bezwaar kan alleen binnen 30 dagen na het besluit.",
        ),
        (
            "already linked to this barrier",
            "De zaak is al aan dit knelpunt gekoppeld.",
        ),
        (
            "no longer linked to barriers",
            "Een afgeronde zaak kan niet meer worden gekoppeld.",
        ),
        ("the meeting is closed", "De vergadering is al gesloten."),
        (
            "the meeting is already closed",
            "De vergadering is al gesloten.",
        ),
        (
            "not waiting for a meeting of this level",
            "Deze zaak wacht niet op een vergadering van dit niveau en gebied.",
        ),
        (
            "only a barrier with a breakthrough decided",
            "Alleen bij een knelpunt met een besloten doorbraak kan de invoering worden vastgelegd.",
        ),
        (
            "the case to merge into",
            "Met deze zaak kan niet worden samengevoegd: die is al afgerond.",
        ),
    ];
    table
        .iter()
        .find(|(en, _)| m.contains(en))
        .map_or(
            "Deze stap past niet bij waar de zaak nu is. Misschien is de zaak net verder gegaan.",
            |(_, nl)| nl,
        )
        .to_owned()
}

/// The HTTP status that goes with an engine error on a page.
pub fn status_of(e: &EngineError) -> StatusCode {
    match e {
        EngineError::Unauthenticated => StatusCode::UNAUTHORIZED,
        EngineError::Forbidden(_) => StatusCode::FORBIDDEN,
        EngineError::NotFound(_) => StatusCode::NOT_FOUND,
        EngineError::Validation { .. } | EngineError::PersonalData { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        EngineError::InvalidTransition(_) | EngineError::VersionConflict => StatusCode::CONFLICT,
        EngineError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        EngineError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A whole page for an engine error. Internal details go to the log only.
pub fn engine_error_page(ctx: &Ctx, e: &EngineError) -> Response {
    let (status, title) = match e {
        EngineError::NotFound(_) => return not_found_page(ctx),
        EngineError::Unavailable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Doorbraak is even niet bereikbaar",
        ),
        EngineError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Er ging iets mis"),
        _ => (status_of(e), "Dit kan niet"),
    };
    if matches!(e, EngineError::Internal(_) | EngineError::Unavailable(_)) {
        tracing::error!(error = %e, "page failed");
    }
    let mut r = layout::message_page(ctx, status, title, &refusal_nl(e));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("5"),
        );
    }
    r
}

pub fn not_found_page(ctx: &Ctx) -> Response {
    layout::message_page(
        ctx,
        StatusCode::NOT_FOUND,
        "Deze pagina bestaat niet",
        "Misschien is de link oud of verkeerd getypt, of mag u deze pagina niet zien. Ga naar de startpagina en zoek verder vanaf daar.",
    )
}

/// The fallback for every path without a page.
pub async fn not_found(ctx: Ctx) -> Response {
    not_found_page(&ctx)
}

/// The page for a panic caught by the server (500), without any detail.
pub fn internal_error_html() -> String {
    let ctx_free = maud::html! {
        (maud::DOCTYPE)
        html lang="nl" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Er ging iets mis – Doorbraak" }
                link rel="stylesheet" href={ "/static/app.css?v=" (crate::stylesheet_version()) };
            }
            body {
                header.site { div.bar { a.brand href="/" { "Doorbraak" } } }
                main id="inhoud" {
                    h1 { "Er ging iets mis" }
                    p { "Er ging bij ons iets mis. Probeer het opnieuw; blijft het misgaan, meld het dan bij de beheerder." }
                    p { a href="/" { "Naar de startpagina" } }
                }
            }
        }
    };
    ctx_free.into_string()
}

/// Maps an API field name (`input.rule.citation`) to its form field
/// (`rule.citation`).
pub fn form_field(api_field: &str) -> String {
    api_field
        .strip_prefix("input.")
        .unwrap_or(api_field)
        .to_owned()
}
