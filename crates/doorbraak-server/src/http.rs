//! The HTTP surface: routes, middleware, GraphQL over HTTP and WebSocket.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::parser::types::OperationType;
use async_graphql::{Data, ErrorExtensionValues, ServerError, Variables};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use doorbraak_engine::{Engine, EngineError, UserRecord};
use doorbraak_graphql::{
    DoorbraakSchema, ErrorCode, Guard, Limits, RateKey, build_schema, request_data, sdl,
};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::metrics::Metrics;
use crate::rate_limit::{Limiter, RateLimit};

/// Largest request body accepted (GraphQL documents and variables).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// How long `/readyz` waits for the database before it answers 503.
pub const READY_TIMEOUT: Duration = Duration::from_millis(500);

/// Seconds a client is told to wait (`Retry-After`) when the database is
/// unavailable.
const RETRY_AFTER_UNAVAILABLE: &str = "2";

/// Options of the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    pub rate_limit: RateLimit,
    /// What one GraphQL request may cost, and how long it may run.
    pub limits: Limits,
    /// When set, `/metrics` wants `Authorization: Bearer <this>`.
    pub metrics_token: Option<String>,
    /// The web application's public address and sign-in options.
    pub web: doorbraak_web::WebOptions,
    /// `DOORBRAAK_WEBHOOK_ALLOW_PRIVATE`: callbacks may be registered to
    /// loopback and private addresses.
    pub allow_private_webhooks: bool,
}

/// What every handler shares, behind one reference count: axum clones
/// the state for each request, and a profile had cloning and dropping its
/// six parts at about 1% of the server's CPU.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub(crate) struct Shared {
    pub(crate) engine: Engine,
    schema: DoorbraakSchema,
    metrics: Arc<Metrics>,
    metrics_token: Option<Arc<str>>,
    limits: Arc<Limits>,
    oidc: Option<Arc<doorbraak_web::oidc::Oidc>>,
}

/// The router of the service.
pub fn app(engine: Engine, options: &AppOptions) -> Router {
    let limiter = Arc::new(Limiter::new(options.rate_limit));
    let metrics = Arc::new(Metrics::new(engine.clone()));
    let limits = Arc::new(options.limits.clone());
    let guard = Guard {
        limits: limits.clone(),
        admission: Some(limiter),
        observer: Some(metrics.clone()),
        documents: Arc::default(),
    };
    let state = AppState(Arc::new(Shared {
        schema: build_schema(
            engine.clone(),
            guard,
            doorbraak_graphql::WebhookSettings {
                allow_private: options.allow_private_webhooks,
            },
        ),
        engine,
        metrics,
        metrics_token: options.metrics_token.as_deref().map(Arc::from),
        limits,
        oidc: options.web.oidc.clone(),
    }));
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    let pages = doorbraak_web::router(state.engine.clone(), options.web.clone())
        .layer(CatchPanicLayer::custom(on_page_panic));
    Router::new()
        .route(
            "/graphql",
            get(graphql_get).post(graphql_post).fallback(method_not_allowed),
        )
        .route("/graphql/ws", get(graphql_ws))
        .route("/graphiql/{file}", get(crate::graphiql::asset))
        .route("/schema.graphql", get(schema_sdl))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/export/barriers.csv", get(crate::export::barriers_csv))
        .route("/meetings/{id}/agenda.md", get(crate::export::agenda_document))
        .with_state(state)
        .merge(pages)
        .layer(CatchPanicLayer::custom(on_panic))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(too_large_as_json))
        .layer(axum::middleware::from_fn(refuse_declared_too_large))
        .layer(axum::middleware::map_response(common_headers))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
            // Method, path and request id only: never headers or bodies,
            // which carry tokens and case descriptions.
            let id = req
                .extensions()
                .get::<RequestId>()
                .and_then(|id| id.header_value().to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Headers every answer carries.
async fn common_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("no-referrer"));
    r
}

/// Refuses a body whose declared length is over the limit, after reading
/// (and dropping) what the client sends, up to a few MiB: a client that is
/// still writing its body then gets the answer instead of a reset
/// connection. Bodies without a declared length are cut off by the limit
/// layer while they stream.
async fn refuse_declared_too_large(req: Request<Body>, next: axum::middleware::Next) -> Response {
    const DRAIN_AT_MOST: usize = 8 * 1024 * 1024;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(n) if n > MAX_BODY_BYTES => {
            if n <= DRAIN_AT_MOST {
                let _ = axum::body::to_bytes(req.into_body(), DRAIN_AT_MOST).await;
            }
            too_large()
        }
        _ => next.run(req).await,
    }
}

fn too_large() -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::BadRequest,
        &format!(
            "the request body is larger than {} KiB",
            MAX_BODY_BYTES / 1024
        ),
    )
}

/// The body limit answers before any handler runs; give it the API's shape.
async fn too_large_as_json(r: Response) -> Response {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let json = r
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if !json {
            return too_large();
        }
    }
    r
}

/// A page handler panicked: the application's own error page, no details.
fn on_page_panic(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a page handler panicked");
    let mut r = (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::response::Html(doorbraak_web::internal_error_html()),
    )
        .into_response();
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(doorbraak_web::CONTENT_SECURITY_POLICY),
    );
    r
}

fn on_panic(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Internal,
        "internal error; it has been logged",
    )
}

/// A GraphQL-shaped error body for refusals that happen before execution.
pub(crate) fn error_response(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code.as_str() } }]
    });
    let mut r = (status, axum::Json(body)).into_response();
    let h = r.headers_mut();
    match status {
        StatusCode::UNAUTHORIZED => {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        StatusCode::SERVICE_UNAVAILABLE => {
            h.insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_UNAVAILABLE),
            );
        }
        _ => {}
    }
    r
}

/// An engine error that happened outside GraphQL (authentication, exports).
pub(crate) fn engine_error_response(e: EngineError) -> Response {
    match e {
        EngineError::Unauthenticated => error_response(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "the bearer token is not valid",
        ),
        EngineError::Unavailable(detail) => {
            tracing::warn!(error = %detail, "database unavailable");
            error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "the service cannot reach its database just now; try again shortly",
            )
        }
        other => {
            tracing::error!(error = %other, "request failed");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "internal error; it has been logged",
            )
        }
    }
}

/// 405 with `Allow` and a GraphQL error body.
fn not_allowed(allow: &'static str, message: &str) -> Response {
    let mut r = error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::BadRequest,
        message,
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

async fn method_not_allowed() -> Response {
    not_allowed("GET, POST", "/graphql takes POST (and GET for queries)")
}

async fn schema_sdl() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], sdl())
}

async fn readyz(State(st): State<AppState>) -> Response {
    match tokio::time::timeout(READY_TIMEOUT, st.engine.ready()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            not_ready()
        }
        Err(_) => {
            tracing::warn!("not ready: the database did not answer in time");
            not_ready()
        }
    }
}

fn not_ready() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, RETRY_AFTER_UNAVAILABLE)],
        "database unreachable",
    )
        .into_response()
}

async fn metrics_text(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(want) = &st.metrics_token
        && bearer(&headers).and_then(Result::ok) != Some(&**want)
    {
        return error_response(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "/metrics wants the metrics token",
        );
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        st.metrics.render(),
    )
        .into_response()
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<Result<&str, ()>> {
    let v = headers.get(header::AUTHORIZATION)?;
    Some(
        v.to_str()
            .ok()
            .and_then(|s| {
                s.strip_prefix("Bearer ")
                    .or_else(|| s.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(()),
    )
}

/// The caller of a request: `Ok(None)` when it carries no token.
pub(crate) async fn authenticate(
    st: &AppState,
    headers: &HeaderMap,
) -> Result<Option<UserRecord>, Response> {
    match bearer(headers) {
        None => Ok(None),
        Some(Err(())) => Err(error_response(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "the Authorization header must be `Bearer <token>`",
        )),
        Some(Ok(token)) => resolve_token(&st.engine, st.oidc.as_deref(), token)
            .await
            .map(Some)
            .map_err(engine_error_response),
    }
}

/// An access code (`dbk_…`), or, when OpenID Connect is configured, a JWT
/// access token from the issuer for the configured audience, mapped to the
/// user its identity is linked to.
pub(crate) async fn resolve_token(
    engine: &Engine,
    oidc: Option<&doorbraak_web::oidc::Oidc>,
    token: &str,
) -> Result<UserRecord, EngineError> {
    let token = token.trim();
    match oidc {
        Some(o)
            if !token.starts_with(doorbraak_engine::TOKEN_PREFIX)
                && token.matches('.').count() == 2 =>
        {
            let claims = o
                .verify(token, &o.settings.audience, None)
                .await
                .map_err(|e| {
                    tracing::info!(error = %e, "a bearer JWT was refused");
                    EngineError::Unauthenticated
                })?;
            let id = doorbraak_engine::ProvidedIdentity {
                issuer: claims.iss,
                subject: claims.sub,
                email: None,
                email_verified: false,
                name: None,
            };
            engine
                .user_for_identity(&id, false)
                .await?
                .ok_or(EngineError::Unauthenticated)
        }
        _ => engine.authenticate(token).await,
    }
}

/// The parameters of a GraphQL-over-HTTP request.
#[derive(Debug, Default)]
struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Option<serde_json::Map<String, serde_json::Value>>,
}

fn bad_request(message: &str) -> Response {
    error_response(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
}

/// Reads `variables` (an object, or null) and `operationName` (a string,
/// or null) from their JSON values.
fn params_from(
    query: Option<serde_json::Value>,
    operation_name: Option<serde_json::Value>,
    variables: Option<serde_json::Value>,
) -> Result<Params, &'static str> {
    use serde_json::Value as J;
    let query = match query {
        Some(J::String(q)) => q,
        Some(_) => return Err("`query` must be a string"),
        None => return Err("the request has no `query`"),
    };
    let operation_name = match operation_name {
        None | Some(J::Null) => None,
        Some(J::String(s)) => Some(s),
        Some(_) => return Err("`operationName` must be a string"),
    };
    let variables = match variables {
        None | Some(J::Null) => None,
        Some(J::Object(m)) => Some(m),
        Some(_) => return Err("`variables` must be an object"),
    };
    Ok(Params {
        query,
        operation_name,
        variables,
    })
}

/// True when the media type of `Content-Type` is `application/json` (with
/// no charset, or UTF-8).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(v) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = v.split(';').map(str::trim);
    let media = parts.next().unwrap_or("");
    if !media.eq_ignore_ascii_case("application/json") {
        return false;
    }
    parts.all(|p| match p.split_once('=') {
        Some((k, v)) if k.trim().eq_ignore_ascii_case("charset") => {
            let v = v.trim().trim_matches('"');
            v.eq_ignore_ascii_case("utf-8") || v.eq_ignore_ascii_case("utf8")
        }
        _ => true,
    })
}

async fn graphql_post(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !is_json(&headers) {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadRequest,
            "send the request as `Content-Type: application/json`",
        );
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        query: Option<serde_json::Value>,
        operation_name: Option<serde_json::Value>,
        variables: Option<serde_json::Value>,
        extensions: Option<serde_json::Value>,
    }
    // serde_json refuses nesting deeper than 128 levels without recursing
    // further, so a hostile body cannot exhaust the stack here.
    let parsed: Body = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(_) => return bad_request("the body is not a JSON object with a GraphQL request"),
    };
    if !matches!(
        parsed.extensions,
        None | Some(serde_json::Value::Null | serde_json::Value::Object(_))
    ) {
        return bad_request("`extensions` must be an object");
    }
    let params = match params_from(parsed.query, parsed.operation_name, parsed.variables) {
        Ok(p) => p,
        Err(why) => return bad_request(why),
    };
    // A mutation may be a case's transition: counted as on its way to the
    // SQLite writer from now, so that a batch about to commit waits for
    // it (a hint only; it changes no outcome).
    let coming = match mutation_first(&params.query) {
        true => st.engine.transition_coming(),
        false => None,
    };
    run(&st, peer, &headers, params, None, coming).await
}

/// Does the document's first definition begin with `mutation`? A cheap
/// look at the text, before it is parsed.
fn mutation_first(query: &str) -> bool {
    let mut rest = query;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',' || c == '\u{feff}');
        match rest.strip_prefix('#') {
            Some(comment) => rest = comment.split_once('\n').map_or("", |(_, after)| after),
            None => return rest.starts_with("mutation"),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
}

async fn graphql_get(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let Ok(axum::extract::Query(q)) = axum::extract::Query::<GetParams>::try_from_uri(&uri) else {
        return bad_request("the query string cannot be read");
    };
    let Some(query) = q.query else {
        // A browser (or anything that does not insist on JSON) gets GraphiQL.
        let browser = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|a| a.contains("text/html") || !a.contains("json"));
        return if browser {
            crate::graphiql::page()
        } else {
            bad_request("GET /graphql wants a `query` parameter (or a browser, for GraphiQL)")
        };
    };
    let variables = match q.variables.as_deref().map(serde_json::from_str) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => return bad_request("`variables` must be a JSON object"),
    };
    let params = match params_from(
        Some(serde_json::Value::String(query)),
        q.operation_name.map(serde_json::Value::String),
        variables,
    ) {
        Ok(p) => p,
        Err(why) => return bad_request(why),
    };
    run(&st, peer, &headers, params, Some(Method::GET), None).await
}

/// Executes one GraphQL request for its caller.
async fn run(
    st: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    params: Params,
    method: Option<Method>,
    coming: Option<doorbraak_engine::Coming>,
) -> Response {
    let user = match authenticate(st, headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let key = match &user {
        Some(u) => RateKey(format!("u{}", u.id)),
        None => RateKey(format!("a{}", peer.ip())),
    };
    let mut request = async_graphql::Request::new(params.query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables {
        request = request.variables(Variables::from_json(serde_json::Value::Object(vars)));
    }
    if method == Some(Method::GET) {
        // GET may only read: a mutation must not run from a link.
        let limits = &st.limits;
        let name = request.operation_name.clone();
        if doorbraak_graphql::limits::scan(&request.query, limits).is_ok()
            && let Ok(doc) = request.parsed_query()
        {
            let op = doorbraak_graphql::limits::analyse(doc, name.as_deref(), limits)
                .ok()
                .flatten()
                .map(|s| s.operation);
            if matches!(
                op,
                Some(OperationType::Mutation | OperationType::Subscription)
            ) {
                return not_allowed("POST", "mutations take POST");
            }
        }
    }
    let (caller, loaders) = request_data(&st.engine, user).await;
    request = loaders.attach(request).data(key);
    if let Some(c) = caller {
        request = request.data(c);
    }
    if coming.is_some() {
        request = request.data(doorbraak_graphql::Arriving::new(coming));
    }
    let mut response = st.schema.execute(request).await;
    with_codes(&mut response.errors);
    graphql_response(headers, response)
}

/// Every error gets a code: errors raised before any resolver ran (syntax,
/// unknown fields, bad variables) are the client's, so they are
/// `VALIDATION`, except async-graphql's own limits (complexity and its
/// recursion backstop), which are `TOO_COMPLEX`.
fn with_codes(errors: &mut [ServerError]) {
    const LIMITS: [&str; 3] = [
        "Query is too complex",
        "Query is nested too deep",
        "The recursion depth of the query",
    ];
    for e in errors {
        let has_code = e
            .extensions
            .as_ref()
            .is_some_and(|x| x.get("code").is_some());
        if !has_code {
            let code = if LIMITS.iter().any(|m| e.message.starts_with(m)) {
                ErrorCode::TooComplex
            } else {
                ErrorCode::Validation
            };
            e.extensions
                .get_or_insert_with(ErrorExtensionValues::default)
                .set("code", code.as_str());
        }
    }
}

fn code_of(e: &ServerError) -> Option<&str> {
    match e.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(s) => Some(s.as_str()),
        _ => None,
    }
}

/// GraphQL over HTTP. A *request error* (the document was refused before
/// execution: parse, validation, limits, rate) has no `data`. With
/// `application/graphql-response+json` it answers 4xx; with
/// `application/json` 200. Whatever was asked for: a rate-limited request
/// answers 429, and a request that failed because the database is down
/// (and has no data to show) answers 503, both with `Retry-After`.
fn graphql_response(headers: &HeaderMap, response: async_graphql::Response) -> Response {
    let wants_gql = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/graphql-response+json"));
    let no_data = match &response.data {
        async_graphql::Value::Null => true,
        async_graphql::Value::Object(m) => {
            !m.is_empty() && m.values().all(|v| *v == async_graphql::Value::Null)
        }
        _ => false,
    } && !response.errors.is_empty();
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let has = |code: ErrorCode| {
        response
            .errors
            .iter()
            .any(|e| code_of(e) == Some(code.as_str()))
    };
    let retry_after =
        response
            .errors
            .iter()
            .find_map(|e| match e.extensions.as_ref()?.get("retryAfter")? {
                async_graphql::Value::Number(n) => n.as_u64(),
                _ => None,
            });
    let (status, retry) = if request_error && has(ErrorCode::RateLimited) {
        (
            StatusCode::TOO_MANY_REQUESTS,
            Some(retry_after.unwrap_or(1).to_string()),
        )
    } else if no_data && has(ErrorCode::Unavailable) {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some(RETRY_AFTER_UNAVAILABLE.to_owned()),
        )
    } else if wants_gql && request_error {
        (StatusCode::BAD_REQUEST, None)
    } else {
        (StatusCode::OK, None)
    };
    let content_type = if wants_gql {
        "application/graphql-response+json; charset=utf-8"
    } else {
        "application/json; charset=utf-8"
    };
    let mut body = match serde_json::to_value(&response) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "cannot serialise a response");
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "internal error",
            );
        }
    };
    if request_error && let Some(o) = body.as_object_mut() {
        o.remove("data");
    }
    let mut r = (
        status,
        [(header::CONTENT_TYPE, content_type)],
        body.to_string(),
    )
        .into_response();
    if let Some(v) = retry.and_then(|s| HeaderValue::from_str(&s).ok()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

async fn graphql_ws(
    State(st): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let engine = st.engine.clone();
            let oidc = st.oidc.clone();
            GraphQLWebSocket::new(socket, st.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let token = ["Authorization", "authorization", "token"]
                        .iter()
                        .find_map(|k| payload.get(*k).and_then(|v| v.as_str()))
                        .map(|s| s.trim_start_matches("Bearer ").trim().to_owned())
                        .unwrap_or_default();
                    let user = resolve_token(&engine, oidc.as_deref(), &token)
                        .await
                        .map_err(|_| {
                            ErrorCode::Unauthenticated.error("a valid bearer token is required")
                        })?;
                    let key = RateKey(format!("u{}", user.id));
                    let (caller, loaders) = request_data(&engine, Some(user)).await;
                    let mut data = Data::default();
                    loaders.insert_into(&mut data);
                    data.insert(key);
                    if let Some(c) = caller {
                        data.insert(c);
                    }
                    Ok(data)
                })
                .serve()
        })
}

/// A running server; used by the binary and by the end-to-end tests.
pub struct Server {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    handle: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Serves `app` on `listener` until [`Server::stop`] is called.
    pub fn start(listener: TcpListener, router: Router) -> std::io::Result<Server> {
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
        });
        Ok(Server {
            addr,
            shutdown: Some(tx),
            handle,
        })
    }

    /// Stops accepting connections, lets in-flight requests finish and waits
    /// (at most `grace`) for the server to end.
    pub async fn stop(mut self, grace: Duration) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match tokio::time::timeout(grace, &mut self.handle).await {
            Ok(Ok(r)) => r,
            Ok(Err(join)) => Err(std::io::Error::other(join)),
            Err(_) => {
                self.handle.abort();
                Ok(())
            }
        }
    }

    /// Ends the server when `signal` resolves (SIGTERM or Ctrl-C in the binary).
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        signal.await;
        tracing::info!("shutting down: finishing requests in flight");
        self.stop(Duration::from_secs(30)).await
    }
}

#[cfg(test)]
mod tests {
    use super::mutation_first;

    #[test]
    fn a_mutation_is_told_by_its_first_word() {
        assert!(mutation_first(
            "mutation { pickUp(id: 1, expectedVersion: 1) { id } }"
        ));
        assert!(mutation_first(
            "\u{feff} # a comment\n,\t# another\r\n  mutation M { x }"
        ));
        assert!(!mutation_first("{ me { id } }"));
        assert!(!mutation_first("query Q { me { id } }"));
        assert!(!mutation_first("# mutation\n{ me { id } }"));
        assert!(!mutation_first("# only a comment"));
        assert!(!mutation_first(""));
    }
}
