//! The HTTP surface: routes, middleware, GraphQL over HTTP and WebSocket.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource};
use async_graphql::{BatchResponse, Data, ErrorExtensionValues, ParseRequestError, ServerError};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLWebSocket};
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use doorbraak_engine::{Engine, EngineError, UserRecord};
use doorbraak_graphql::{DoorbraakSchema, ErrorCode, build_schema, request_data, sdl};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::rate_limit::{Limiter, RateLimit};

/// Largest request body accepted (GraphQL documents and variables).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Options of the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    pub rate_limit: RateLimit,
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) engine: Engine,
    schema: DoorbraakSchema,
    limiter: Arc<Limiter>,
}

/// The router of the service.
pub fn app(engine: Engine, options: &AppOptions) -> Router {
    let state = AppState {
        schema: build_schema(engine.clone()),
        engine,
        limiter: Arc::new(Limiter::new(options.rate_limit)),
    };
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/graphql/ws", get(graphql_ws))
        .route("/schema.graphql", get(schema_sdl))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/export/barriers.csv", get(crate::export::barriers_csv))
        .route("/meetings/{id}/agenda.md", get(crate::export::agenda_document))
        .with_state(state)
        .layer(CatchPanicLayer::custom(on_panic))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(too_large_as_json))
        .layer(axum::middleware::from_fn(refuse_declared_too_large))
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
            error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::Validation,
                "the request body is too large",
            )
        }
        _ => next.run(req).await,
    }
}

/// The body limit answers before any handler runs; give it the API's shape.
async fn too_large_as_json(r: Response) -> Response {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let json = r
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if !json {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::Validation,
                "the request body is too large",
            );
        }
    }
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
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("Doorbraak")
            .finish(),
    )
}

async fn schema_sdl() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], sdl())
}

async fn readyz(State(st): State<AppState>) -> Response {
    match st.engine.ready().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
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

/// Turns request-parsing failures into GraphQL errors with a code.
struct Rejection(ParseRequestError);

impl From<ParseRequestError> for Rejection {
    fn from(e: ParseRequestError) -> Self {
        Rejection(e)
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self.0 {
            ParseRequestError::PayloadTooLarge => error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::Validation,
                "the request body is too large",
            ),
            _ => error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::Validation,
                "the request is not a valid GraphQL-over-HTTP request",
            ),
        }
    }
}

async fn graphql(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    req: GraphQLRequest<Rejection>,
) -> Response {
    let user: Option<UserRecord> = match bearer(&headers) {
        None => None,
        Some(Err(())) => {
            return error_response(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "the Authorization header must be `Bearer <token>`",
            );
        }
        Some(Ok(token)) => match st.engine.authenticate(token).await {
            Ok(u) => Some(u),
            Err(EngineError::Unauthenticated) => {
                return error_response(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::Unauthenticated,
                    "the bearer token is not valid",
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "authentication failed");
                return error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    "internal error; it has been logged",
                );
            }
        },
    };
    let key = match &user {
        Some(u) => format!("u{}", u.id),
        None => format!("a{}", peer.ip()),
    };
    if let Err(wait) = st.limiter.check(&key) {
        let mut r = error_response(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "too many requests; slow down and try again shortly",
        );
        let secs = wait.as_secs().max(1).to_string();
        if let Ok(v) = HeaderValue::from_str(&secs) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let (caller, loaders) = request_data(&st.engine, user);
    let mut request = loaders.attach(req.0);
    if let Some(c) = caller {
        request = request.data(c);
    }
    let mut response = BatchResponse::Single(st.schema.execute(request).await);
    with_codes(&mut response);
    graphql_response(&headers, response)
}

/// Every error gets a code: errors raised before any resolver ran (syntax,
/// unknown fields, bad variables, depth and complexity limits) are the
/// client's, so they are `VALIDATION`.
fn with_codes(response: &mut BatchResponse) {
    let fix = |errors: &mut Vec<ServerError>| {
        for e in errors {
            let has_code = e
                .extensions
                .as_ref()
                .is_some_and(|x| x.get("code").is_some());
            if !has_code {
                e.extensions
                    .get_or_insert_with(ErrorExtensionValues::default)
                    .set("code", ErrorCode::Validation.as_str());
            }
        }
    };
    match response {
        BatchResponse::Single(r) => fix(&mut r.errors),
        BatchResponse::Batch(rs) => rs.iter_mut().for_each(|r| fix(&mut r.errors)),
    }
}

/// GraphQL over HTTP: `application/json` answers 200 even with errors;
/// `application/graphql-response+json` answers 400 when there is no data.
fn graphql_response(headers: &HeaderMap, response: BatchResponse) -> Response {
    let wants_gql = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/graphql-response+json"));
    let no_data = match &response {
        BatchResponse::Single(r) => r.data == async_graphql::Value::Null && !r.errors.is_empty(),
        BatchResponse::Batch(_) => false,
    };
    let status = if wants_gql && no_data {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let content_type = if wants_gql {
        "application/graphql-response+json; charset=utf-8"
    } else {
        "application/json"
    };
    match serde_json::to_vec(&response) {
        Ok(body) => (status, [(header::CONTENT_TYPE, content_type)], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialise a response");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "internal error",
            )
        }
    }
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
            GraphQLWebSocket::new(socket, st.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let token = ["Authorization", "authorization", "token"]
                        .iter()
                        .find_map(|k| payload.get(*k).and_then(|v| v.as_str()))
                        .map(|s| s.trim_start_matches("Bearer ").trim().to_owned())
                        .unwrap_or_default();
                    let user = engine.authenticate(&token).await.map_err(|_| {
                        ErrorCode::Unauthenticated.error("a valid bearer token is required")
                    })?;
                    let (caller, loaders) = request_data(&engine, Some(user));
                    let mut data = Data::default();
                    loaders.insert_into(&mut data);
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
