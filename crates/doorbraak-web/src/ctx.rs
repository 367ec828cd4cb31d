//! Who is asking, and whether a posted form may be trusted.
//!
//! [`Ctx`] is extracted for every page: the session behind the cookie, if
//! any. [`Posted`] is extracted for every form post: it refuses a body that
//! is not a form, a post from another origin, and a form without the right
//! CSRF token (the session's, or before sign-in the token of the
//! `doorbraak_csrf` cookie, so a sign-in form cannot be forged either).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use doorbraak_core::Principal;
use doorbraak_engine::{Session, UserRecord};

use crate::form::FormData;
use crate::{Web, layout};

/// The session cookie.
pub const SESSION_COOKIE: &str = "doorbraak_sessie";
/// The CSRF cookie of forms shown before sign-in.
pub const CSRF_COOKIE: &str = "doorbraak_csrf";
/// Largest form body accepted.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub session: Session,
    pub cookie: String,
}

impl Viewer {
    pub fn user(&self) -> &UserRecord {
        &self.session.user
    }
    pub fn principal(&self) -> Principal {
        self.session.user.principal()
    }
}

/// What every page handler gets: the application and the viewer.
#[derive(Clone)]
pub struct Ctx {
    pub web: Web,
    pub viewer: Option<Viewer>,
    /// The path and query asked for (to come back to after sign-in).
    pub path: String,
    /// The CSRF token of the `doorbraak_csrf` cookie, when the browser sent one.
    pub anon_csrf: Option<String>,
}

impl Ctx {
    /// The viewer, or a redirect to the sign-in page that comes back here.
    pub fn require(&self) -> Result<&Viewer, Response> {
        match &self.viewer {
            Some(v) => Ok(v),
            None => Err(Redirect::to(&format!(
                "/inloggen?terug={}",
                form_urlencoded::byte_serialize(self.path.as_bytes()).collect::<String>()
            ))
            .into_response()),
        }
    }
    /// The CSRF token forms on this page must carry.
    pub fn csrf(&self) -> &str {
        match (&self.viewer, &self.anon_csrf) {
            (Some(v), _) => &v.session.csrf_token,
            (None, Some(t)) => t,
            (None, None) => "",
        }
    }
}

/// Reads one cookie from the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<Web> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Ctx, Response> {
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let anon_csrf = cookie(&parts.headers, CSRF_COOKIE)
            .filter(|t| {
                t.len() == 43
                    && t.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .map(str::to_owned);
        let mut ctx = Ctx {
            web: web.clone(),
            viewer: None,
            path,
            anon_csrf,
        };
        if let Some(value) = cookie(&parts.headers, SESSION_COOKIE) {
            match web.engine.session(value).await {
                Ok(Some(session)) => {
                    ctx.viewer = Some(Viewer {
                        session,
                        cookie: value.to_owned(),
                    });
                }
                Ok(None) => {}
                Err(e) => return Err(crate::errors::engine_error_page(&ctx, &e)),
            }
        }
        Ok(ctx)
    }
}

/// A posted form whose origin and CSRF token were checked.
pub struct Posted {
    pub ctx: Ctx,
    pub form: FormData,
}

/// Is the post from our own pages? Browsers send `Origin` with every form
/// post; a post without it (an old browser, a script) still needs the CSRF
/// token.
fn same_origin(web: &Web, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if origin == web.options.public_origin() {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (host, origin.split_once("://")) {
        (Some(h), Some((scheme, rest))) => (scheme == "http" || scheme == "https") && rest == h,
        _ => false,
    }
}

/// Compares two tokens in time that does not depend on where they differ.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && !a.is_empty()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl FromRequest<Web> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, web: &Web) -> Result<Posted, Response> {
        let (mut parts, body) = req.into_parts();
        let ctx = Ctx::from_request_parts(&mut parts, web).await?;
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';').next().is_some_and(|t| {
                    t.trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                })
            });
        if !is_form {
            return Err(layout::message_page(
                &ctx,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Dit formulier kan niet worden verwerkt",
                "De pagina stuurde iets anders dan een formulier. Ga terug en probeer het opnieuw.",
            ));
        }
        if !same_origin(web, &parts.headers) {
            return Err(layout::message_page(
                &ctx,
                StatusCode::FORBIDDEN,
                "Dit formulier komt niet van Doorbraak",
                "Om u te beschermen verwerken we alleen formulieren van onze eigen pagina's. Open Doorbraak zelf en probeer het opnieuw.",
            ));
        }
        let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
            Ok(b) => b,
            Err(_) => {
                return Err(layout::message_page(
                    &ctx,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Het formulier is te groot",
                    "Maak de tekst korter en probeer het opnieuw.",
                ));
            }
        };
        let form = FormData::parse(&bytes);
        if !same_token(form.get("csrf"), ctx.csrf()) {
            return Err(layout::message_page(
                &ctx,
                StatusCode::FORBIDDEN,
                "Het formulier is verlopen",
                "Laad de pagina opnieuw en vul het formulier nog een keer in. Dit beschermt u tegen misbruik door andere websites.",
            ));
        }
        Ok(Posted { ctx, form })
    }
}
