//! The `doorbraak` service: HTTP, configuration, logging and the command line.
//!
//! [`app`] builds the axum router (GraphQL over HTTP and WebSocket,
//! GraphiQL, health and readiness); [`Server::start`] runs it on a listener
//! with graceful shutdown; [`cli`] is the command line. This crate is thin:
//! everything a request does happens in the engine.

pub mod cli;
mod export;
mod graphiql;
mod http;
mod metrics;
mod outbound;
mod rate_limit;

pub use doorbraak_graphql::Limits;
pub use doorbraak_web::WebOptions;
pub use http::{AppOptions, Server, app};
pub use outbound::{OutboundConfig, Sender, spawn_outbox_worker};
pub use rate_limit::RateLimit;
