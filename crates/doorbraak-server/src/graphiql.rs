//! GraphiQL, served entirely by this binary: the page and its starter are
//! ours (`assets/`), GraphiQL and React come from the npm registry at build
//! time (`build.rs`). A strict Content-Security-Policy keeps the page on
//! this origin.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const PAGE: &str = include_str!("../assets/graphiql.html");
const START_JS: &str = include_str!("../assets/graphiql-start.js");
const START_CSS: &str = include_str!("../assets/graphiql-start.css");
const GRAPHIQL_JS: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/graphiql-assets/graphiql.min.js"));
const GRAPHIQL_CSS: &[u8] = include_bytes!(concat!(
    env!("OUT_DIR"),
    "/graphiql-assets/graphiql.min.css"
));
const REACT_JS: &[u8] = include_bytes!(concat!(
    env!("OUT_DIR"),
    "/graphiql-assets/react.production.min.js"
));
const REACT_DOM_JS: &[u8] = include_bytes!(concat!(
    env!("OUT_DIR"),
    "/graphiql-assets/react-dom.production.min.js"
));

/// Nothing leaves this origin. GraphiQL's editor sets inline styles, so
/// styles (only) may be inline.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

fn with_csp(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    r
}

/// `GET /graphql` from a browser.
pub fn page() -> Response {
    with_csp(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response())
}

/// `GET /graphiql/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind): (&'static [u8], &str) = match file.as_str() {
        "graphiql.min.js" => (GRAPHIQL_JS, "text/javascript; charset=utf-8"),
        "graphiql.min.css" => (GRAPHIQL_CSS, "text/css; charset=utf-8"),
        "react.production.min.js" => (REACT_JS, "text/javascript; charset=utf-8"),
        "react-dom.production.min.js" => (REACT_DOM_JS, "text/javascript; charset=utf-8"),
        "start.js" => (START_JS.as_bytes(), "text/javascript; charset=utf-8"),
        "start.css" => (START_CSS.as_bytes(), "text/css; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    with_csp(
        (
            [
                (header::CONTENT_TYPE, kind),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            body,
        )
            .into_response(),
    )
}
