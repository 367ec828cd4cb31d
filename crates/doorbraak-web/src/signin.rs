//! Signing in and out.
//!
//! `/inloggen` offers each way of signing in that is switched on: today the
//! access code (field `token`). Every way ends in [`signed_in`], which
//! starts a session in the database, sets the cookie and goes back to the
//! page the person came for; later ways (an e-mail link, OpenID Connect)
//! only need to prove who the person is and call it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use doorbraak_engine::{EngineError, NewSessionCookie};
use maud::html;
use rand::RngCore;

use crate::ctx::{CSRF_COOKIE, Ctx, Posted, SESSION_COOKIE};
use crate::layout::{self, FieldAttrs, FieldErrors};

/// Where to go after signing in: only a path on this site.
fn safe_return(raw: &str) -> String {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.starts_with("/\\")
        && !raw.chars().any(|c| c.is_control())
        && !raw.starts_with("/inloggen")
        && !raw.starts_with("/uitloggen");
    if ok { raw.to_owned() } else { "/".to_owned() }
}

fn query_param(path: &str, name: &str) -> Option<String> {
    let q = path.split_once('?')?.1;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn new_csrf() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn cookie_header(ctx: &Ctx, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if ctx.web.options.secure() {
        "; Secure"
    } else {
        ""
    };
    let v = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn render(ctx: &Ctx, terug: &str, token_error: Option<&str>, status: StatusCode) -> Response {
    let errors: FieldErrors = token_error
        .map(|e| vec![("token".to_owned(), e.to_owned())])
        .unwrap_or_default();
    let signed_out = query_param(&ctx.path, "uitgelogd").is_some();
    let body = html! {
        h1 { "Inloggen" }
        @if signed_out { (layout::notice("U bent uitgelogd.")) }
        @if let Some(v) = &ctx.viewer {
            p { "U bent ingelogd als " strong { (v.user().name) } ". " a href="/" { "Naar de startpagina" } }
        }
        (layout::error_summary(&errors, &|_| "Toegangscode".to_owned()))
        @if ctx.web.options.oidc.is_some() {
            section aria-labelledby="met-organisatie" {
                h2 id="met-organisatie" { "Via uw organisatie" }
                p { "Werkt u bij een gemeente of een ministerie? Log in zoals u gewend bent." }
                p { a.button href={ "/inloggen/oidc?terug=" (form_urlencoded::byte_serialize(terug.as_bytes()).collect::<String>()) } { "Inloggen via uw organisatie" } }
            }
        }
        section aria-labelledby="met-email" {
            h2 id="met-email" { "Met een link in uw e-mail" }
            p { "Vul het e-mailadres in dat bij Doorbraak bekend is. U krijgt een link om in te loggen. Die werkt 15 minuten en één keer." }
            form method="post" action="/inloggen" novalidate {
                (layout::csrf_field(ctx))
                input type="hidden" name="terug" value=(terug);
                (layout::text_field("email", "E-mailadres", None, "", &Vec::new(),
                    FieldAttrs { autocomplete: Some("email"), ..FieldAttrs::TEXT.kind("email") }))
                button type="submit" { "Stuur mij een link" }
            }
        }
        @if ctx.web.options.access_code_signin {
            section aria-labelledby="met-code" {
                h2 id="met-code" { "Met uw toegangscode" }
                p { "U kreeg een toegangscode van de beheerder van Doorbraak. Die begint met " code { "dbk_" } "." }
                form method="post" action="/inloggen" novalidate {
                    (layout::csrf_field(ctx))
                    input type="hidden" name="terug" value=(terug);
                    (layout::text_field("token", "Toegangscode", Some("Plak de hele code, zonder spaties."), "", &errors,
                        FieldAttrs { autocomplete: Some("current-password"), ..FieldAttrs::TEXT.kind("password") }))
                    button type="submit" { "Inloggen" }
                }
            }
        } @else {
            p { "Inloggen met een toegangscode is uitgeschakeld. Gebruik het inloggen van uw organisatie." }
        }
    };
    layout::respond(status, layout::page(ctx, "Inloggen", body))
}

/// `GET /inloggen`. Before sign-in the form's CSRF token lives in a
/// cookie of its own (made here when the browser has none).
pub async fn page(mut ctx: Ctx) -> Response {
    let fresh = ctx.anon_csrf.is_none() && ctx.viewer.is_none();
    if fresh {
        ctx.anon_csrf = Some(new_csrf());
    }
    let terug = safe_return(&query_param(&ctx.path, "terug").unwrap_or_default());
    let mut r = render(&ctx, &terug, None, StatusCode::OK);
    if fresh {
        r.headers_mut().append(
            header::SET_COOKIE,
            cookie_header(&ctx, CSRF_COOKIE, ctx.csrf(), 3600),
        );
    }
    r
}

/// Starts the session, sets the cookie and goes where the person was going.
pub fn signed_in(ctx: &Ctx, new: &NewSessionCookie, terug: &str) -> Response {
    let mut r = Redirect::to(&safe_return(terug)).into_response();
    let h = r.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookie_header(
            ctx,
            SESSION_COOKIE,
            &new.cookie,
            doorbraak_engine::ABSOLUTE.num_seconds(),
        ),
    );
    h.append(header::SET_COOKIE, cookie_header(ctx, CSRF_COOKIE, "", 0));
    r
}

/// `POST /inloggen` with `token`.
pub async fn with_code(Posted { ctx, form }: Posted) -> Response {
    let terug = safe_return(form.get("terug"));
    if !ctx.web.options.access_code_signin {
        return layout::message_page(
            &ctx,
            StatusCode::FORBIDDEN,
            "Inloggen met een code kan niet",
            "Inloggen met een toegangscode is uitgeschakeld. Gebruik het inloggen van uw organisatie.",
        );
    }
    if form.get("token").is_empty() && form.opt("email").is_some() {
        return email_link_sent(&ctx, form.get("email")).await;
    }
    let code = form.get("token").trim().to_owned();
    if code.is_empty() {
        return render(
            &ctx,
            &terug,
            Some("Vul uw toegangscode in"),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    match ctx.web.engine.sign_in_with_code(&code).await {
        Ok(new) => {
            if let Some(old) = &ctx.viewer {
                // Signing in again replaces the old session.
                let _ = ctx.web.engine.end_session(&old.cookie).await;
            }
            signed_in(&ctx, &new, &terug)
        }
        Err(EngineError::Unauthenticated) => render(
            &ctx,
            &terug,
            Some(
                "Deze toegangscode klopt niet. Controleer de code, of vraag de beheerder om een nieuwe.",
            ),
            StatusCode::UNAUTHORIZED,
        ),
        Err(e) => crate::errors::engine_error_page(&ctx, &e),
    }
}

/// After asking for a link: the same answer whether the address is known
/// or not.
async fn email_link_sent(ctx: &Ctx, email: &str) -> Response {
    if let Err(e) = ctx.web.engine.request_sign_in_link(email).await {
        return crate::errors::engine_error_page(ctx, &e);
    }
    layout::respond(
        StatusCode::OK,
        layout::page(
            ctx,
            "Kijk in uw e-mail",
            html! {
                h1 { "Kijk in uw e-mail" }
                p { "Als dit adres bij Doorbraak bekend is, krijgt u binnen een paar minuten een e-mail met een link om in te loggen. De link werkt 15 minuten en één keer." }
                p { "Geen e-mail gekregen? Kijk ook bij ongewenste e-mail, of vraag de beheerder welk adres bij ons bekend is." }
                p { a href="/inloggen" { "Terug naar inloggen" } }
            },
        ),
    )
}

/// `GET /inloggen/link?code=…`: the page an e-mailed link opens. It signs
/// nobody in and uses nothing up (mail scanners open links); its button
/// does (POST).
pub async fn link_page(mut ctx: Ctx) -> Response {
    let code = query_param(&ctx.path, "code").unwrap_or_default();
    let usable = match ctx.web.engine.sign_in_link_usable(&code).await {
        Ok(u) => u,
        Err(e) => return crate::errors::engine_error_page(&ctx, &e),
    };
    if !usable {
        return layout::message_page(
            &ctx,
            StatusCode::GONE,
            "Deze link werkt niet meer",
            "Een link om in te loggen werkt 15 minuten en één keer. Vraag op de pagina Inloggen een nieuwe link aan.",
        );
    }
    let fresh = ctx.anon_csrf.is_none() && ctx.viewer.is_none();
    if fresh {
        ctx.anon_csrf = Some(new_csrf());
    }
    let body = html! {
        h1 { "Inloggen" }
        p { "Klik op de knop om in te loggen bij Doorbraak." }
        form method="post" action="/inloggen/link" {
            (layout::csrf_field(&ctx))
            input type="hidden" name="code" value=(code);
            button type="submit" { "Inloggen" }
        }
    };
    let mut r = layout::respond(
        StatusCode::OK,
        layout::page(&ctx, "Inloggen met een link", body),
    );
    if fresh {
        r.headers_mut().append(
            header::SET_COOKIE,
            cookie_header(&ctx, CSRF_COOKIE, ctx.csrf(), 3600),
        );
    }
    r
}

/// `POST /inloggen/link` with `code`: uses the link, once.
pub async fn with_link(Posted { ctx, form }: Posted) -> Response {
    match ctx.web.engine.sign_in_with_link(form.get("code")).await {
        Ok(new) => signed_in(&ctx, &new, "/"),
        Err(EngineError::Unauthenticated) => layout::message_page(
            &ctx,
            StatusCode::GONE,
            "Deze link werkt niet meer",
            "Een link om in te loggen werkt 15 minuten en één keer. Vraag op de pagina Inloggen een nieuwe link aan.",
        ),
        Err(e) => crate::errors::engine_error_page(&ctx, &e),
    }
}

/// `GET /inloggen/oidc`: to the provider, with PKCE, state and nonce.
pub async fn oidc_start(ctx: Ctx) -> Response {
    let Some(oidc) = ctx.web.options.oidc.clone() else {
        return crate::errors::not_found_page(&ctx);
    };
    let terug = safe_return(&query_param(&ctx.path, "terug").unwrap_or_default());
    let login = match ctx.web.engine.begin_login(&terug).await {
        Ok(l) => l,
        Err(e) => return crate::errors::engine_error_page(&ctx, &e),
    };
    match oidc
        .authorization_url(&login.state, &login.nonce, &login.verifier)
        .await
    {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "the identity provider cannot be reached");
            layout::message_page(
                &ctx,
                StatusCode::SERVICE_UNAVAILABLE,
                "Inloggen via uw organisatie lukt nu niet",
                "Het inlogsysteem van uw organisatie is nu niet bereikbaar. Probeer het over een paar minuten opnieuw.",
            )
        }
    }
}

fn oidc_refused(ctx: &Ctx) -> Response {
    layout::message_page(
        ctx,
        StatusCode::UNAUTHORIZED,
        "Inloggen is niet gelukt",
        "Het inloggen via uw organisatie kon niet worden afgerond. Begin opnieuw op de pagina Inloggen.",
    )
}

/// `GET /inloggen/oidc/callback`: the provider comes back with a code.
pub async fn oidc_callback(ctx: Ctx) -> Response {
    let Some(oidc) = ctx.web.options.oidc.clone() else {
        return crate::errors::not_found_page(&ctx);
    };
    let (Some(code), Some(state)) = (
        query_param(&ctx.path, "code"),
        query_param(&ctx.path, "state"),
    ) else {
        return oidc_refused(&ctx);
    };
    let (nonce, verifier, terug) = match ctx.web.engine.finish_login(&state).await {
        Ok(Some(x)) => x,
        Ok(None) => return oidc_refused(&ctx),
        Err(e) => return crate::errors::engine_error_page(&ctx, &e),
    };
    let verified = match oidc.complete(&code, &verifier, &nonce).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "an OpenID Connect login was refused");
            return oidc_refused(&ctx);
        }
    };
    let c = &verified.claims;
    let identity = doorbraak_engine::ProvidedIdentity {
        issuer: c.iss.clone(),
        subject: c.sub.clone(),
        email: c.email.clone(),
        email_verified: c.email_verified(),
        name: c.name.clone(),
    };
    let user = match ctx.web.engine.user_for_identity(&identity, true).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            return layout::message_page(
                &ctx,
                StatusCode::FORBIDDEN,
                "U hebt nog geen toegang",
                "Uw organisatie kent u, maar Doorbraak nog niet. Uw aanvraag staat bij de beheerders; zij geven u een rol. Daarna kunt u inloggen.",
            );
        }
        Err(e) => return crate::errors::engine_error_page(&ctx, &e),
    };
    match ctx
        .web
        .engine
        .start_session_with(
            &user,
            doorbraak_engine::SignInMethod::OpenIdConnect,
            c.acr.as_deref(),
            Some(&verified.id_token),
        )
        .await
    {
        Ok(new) => signed_in(&ctx, &new, &terug),
        Err(e) => crate::errors::engine_error_page(&ctx, &e),
    }
}

/// `POST /uitloggen`: ends the session here and drops the cookie; after
/// an OpenID Connect sign-in, at the provider too when it offers that.
pub async fn sign_out(Posted { ctx, .. }: Posted) -> Response {
    if let Some(v) = &ctx.viewer
        && let Err(e) = ctx.web.engine.end_session(&v.cookie).await
    {
        return crate::errors::engine_error_page(&ctx, &e);
    }
    let after = format!("{}/inloggen?uitgelogd=1", ctx.web.options.public_url);
    let provider = match (
        &ctx.web.options.oidc,
        ctx.viewer.as_ref().and_then(|v| v.session.id_token.clone()),
    ) {
        (Some(o), Some(t)) => o.logout_url(&t, &after).await,
        _ => None,
    };
    let mut r =
        Redirect::to(provider.as_deref().unwrap_or("/inloggen?uitgelogd=1")).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(&ctx, SESSION_COOKIE, "", 0),
    );
    r
}

/// The value of a query parameter of the path asked for.
pub fn param(ctx: &Ctx, name: &str) -> Option<String> {
    query_param(&ctx.path, name)
}
