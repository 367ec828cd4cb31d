//! Doorbraak's web application: Dutch pages for every role, rendered on
//! the server.
//!
//! Every page works without JavaScript: pages are HTML, forms post and
//! redirect (or, when something is wrong, show the form again with the
//! errors next to their fields and everything typed still in place). The
//! stylesheet is the only asset and the binary serves it; a strict
//! Content-Security-Policy forbids everything else.
//!
//! **API boundary:** the pages call the engine with the signed-in person's
//! rights and repeat no rule: which actions a case offers comes from
//! `available_actions`, who sees a meeting, a barrier or statistics from
//! the core's scope functions, and every refusal from the engine.
//!
//! Paths and form-field names are fixed by API.md ("Web application").

// A handler's early exit is a whole response (a redirect to sign-in, an
// error page); boxing it would only add noise to every handler.
#![allow(clippy::result_large_err)]

mod admin;
mod cases;
mod chart;
mod ctx;
mod errors;
mod form;
mod home;
mod layout;
mod meetings;
mod nl;
pub mod oidc;
mod register;
mod signin;
mod stats;
mod stuck;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use doorbraak_engine::Engine;

pub use ctx::{CSRF_COOKIE, SESSION_COOKIE};
pub use errors::internal_error_html;

/// How the pages are reached and signed in to.
#[derive(Debug, Clone)]
pub struct WebOptions {
    /// The address people reach the service at (`DOORBRAAK_PUBLIC_URL`),
    /// without a trailing slash.
    pub public_url: String,
    /// Whether the access-code form is offered on `/inloggen`.
    pub access_code_signin: bool,
    /// Sign-in through the organisation's identity provider, when configured.
    pub oidc: Option<Arc<oidc::Oidc>>,
}

impl Default for WebOptions {
    fn default() -> Self {
        WebOptions::new("http://127.0.0.1:8080")
    }
}

impl WebOptions {
    pub fn new(public_url: &str) -> WebOptions {
        WebOptions {
            public_url: public_url.trim_end_matches('/').to_owned(),
            access_code_signin: true,
            oidc: None,
        }
    }
    /// Cookies are `Secure` when people reach the service over TLS.
    pub fn secure(&self) -> bool {
        self.public_url.starts_with("https://")
    }
    /// `scheme://host[:port]` of the public address.
    pub fn public_origin(&self) -> &str {
        let after_scheme = self.public_url.find("://").map_or(0, |i| i + 3);
        let end = self.public_url[after_scheme..]
            .find('/')
            .map_or(self.public_url.len(), |i| after_scheme + i);
        &self.public_url[..end]
    }
}

/// The application's shared state.
#[derive(Clone)]
pub struct Web {
    pub(crate) engine: Engine,
    pub(crate) options: Arc<WebOptions>,
}

/// The stylesheet, and the version in its address (a hash of its text),
/// so browsers may keep it for a year and still get a new one at once.
const STYLESHEET: &str = include_str!("../assets/app.css");

fn stylesheet_version() -> &'static str {
    static V: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        use sha2::Digest;
        let d = sha2::Sha256::digest(STYLESHEET.as_bytes());
        d.iter().take(6).map(|b| format!("{b:02x}")).collect()
    })
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// The policy every page is served with: nothing but our own stylesheet,
/// our own forms and our own images; no scripts, no frames, no other host.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn page_headers(
    axum::extract::State(csp): axum::extract::State<Arc<HeaderValue>>,
    mut r: Response,
) -> Response {
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, (*csp).clone());
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Same-origin, so that form posts carry an `Origin` header.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    r
}

/// The pages, to be merged into the service's router.
pub fn router(engine: Engine, options: WebOptions) -> Router {
    // Signing out at the provider is a redirect after a form post, which
    // form-action governs: the provider's origin is allowed then.
    let csp = match &options.oidc {
        Some(o) => CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'",
            &format!("form-action 'self' {}", o.issuer_origin()),
        ),
        None => CONTENT_SECURITY_POLICY.to_owned(),
    };
    let csp = Arc::new(
        HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
    );
    let web = Web {
        engine,
        options: Arc::new(options),
    };
    Router::new()
        .route("/", get(home::start))
        .route("/inloggen", get(signin::page).post(signin::with_code))
        .route(
            "/inloggen/link",
            get(signin::link_page).post(signin::with_link),
        )
        .route("/inloggen/oidc", get(signin::oidc_start))
        .route("/inloggen/oidc/callback", get(signin::oidc_callback))
        .route("/uitloggen", post(signin::sign_out))
        .route(
            "/mijn-gegevens",
            get(home::my_settings).post(home::save_settings),
        )
        .route("/zaken", get(cases::list))
        .route("/zaken/nieuw", get(cases::new_page).post(cases::submit))
        .route("/zaken/{id}", get(cases::detail))
        .route("/zaken/{id}/actie", post(cases::act))
        .route("/zaken/{id}/knelpunt", post(cases::link))
        .route(
            "/vergaderingen",
            get(meetings::list).post(meetings::schedule),
        )
        .route("/vergaderingen/{id}", get(meetings::detail))
        .route("/vergaderingen/{id}/agenda", get(meetings::agenda_document))
        .route("/vergaderingen/{id}/zaak", post(meetings::add_case))
        .route("/vergaderingen/{id}/sluiten", post(meetings::close))
        .route("/knelpunten", get(register::list))
        .route("/knelpunten/{id}", get(register::detail))
        .route("/knelpunten/{id}/ingevoerd", post(register::implemented))
        .route("/eerdere-antwoorden", get(register::precedents))
        .route("/statistiek", get(stats::dashboard))
        .route("/statistiek/knelpunten.csv", get(stats::csv))
        .route("/statistiek/rapport", get(stats::report))
        .route("/vastlopers", get(stuck::overview))
        .route("/beheer", get(admin::overview))
        .route("/beheer/gebruikers", post(admin::create_user))
        .route(
            "/beheer/gebruikers/{id}",
            get(admin::user_page).post(admin::update_user),
        )
        .route("/beheer/gebruikers/{id}/code", post(admin::new_code))
        .route("/beheer/gebruikers/{id}/actief", post(admin::set_active))
        .route("/beheer/normen", post(admin::set_norm))
        .route("/beheer/gebieden", post(admin::add_area))
        .route("/beheer/ministeries", post(admin::add_ministry))
        .route("/toegankelijkheid", get(layout::accessibility))
        .route("/static/app.css", get(stylesheet))
        .fallback(errors::not_found)
        .with_state(web)
        .layer(axum::middleware::map_response_with_state(csp, page_headers))
}
