//! The GraphQL API of Doorbraak (async-graphql).
//!
//! Resolvers are thin: they turn GraphQL input into engine calls and engine
//! values into GraphQL output. Nothing here knows a rule of the ladder or a
//! line of SQL. Error codes live in [`errors`]; `schema.graphql` at the
//! repository root is [`sdl`]'s output, and a test keeps them equal.
//!
//! **Invariant:** the schema is built in one place ([`schema_builder`]), so
//! the served schema, the checked-in SDL and the tests cannot diverge.

pub mod errors;
pub mod limits;
mod loaders;
mod mutation;
mod paging;
mod query;
mod register;
mod scalars;
mod subscription;
mod types;
pub mod validated;
mod webhooks;

use async_graphql::{Schema, SchemaBuilder};
use doorbraak_engine::{Engine, UserRecord};

pub use errors::{ErrorCode, to_gql};
pub use limits::{Admission, Guard, Limits, Observer, RateKey};
pub use loaders::{Events, Loaders, Users};
pub use mutation::Arriving;
pub use subscription::SubscriptionRoot;
pub use webhooks::WebhookSettings;

/// The root query: cases, then the register and meetings.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    query::CaseQueries,
    register::RegisterQueries,
    webhooks::WebhookQueries,
);

/// The root mutation.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    mutation::CaseMutations,
    register::RegisterMutations,
    webhooks::WebhookMutations,
);

pub type DoorbraakSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Costliest query accepted (a field costs 1; lists multiply by `first`).
/// Depth, size, aliases and root fields are limited by [`Guard`] before
/// validation (see [`limits`]).
pub const MAX_COMPLEXITY: usize = 5_000;

/// The authenticated caller of a request (absent for anonymous requests,
/// which may only introspect).
#[derive(Clone, Debug)]
pub struct Caller(pub UserRecord);

/// The schema with its limits, before data is attached.
pub fn schema_builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .limit_complexity(MAX_COMPLEXITY)
    // A backstop only: the guard's limits are tighter and come first.
    .limit_recursive_depth(64)
}

/// The schema served over HTTP and WebSocket, sharing one engine, with the
/// guard (limits, rate limit, timeout, metrics) on every request.
pub fn build_schema(engine: Engine, guard: Guard, webhooks: WebhookSettings) -> DoorbraakSchema {
    schema_builder()
        .extension(guard)
        .data(engine)
        .data(webhooks)
        .finish()
}

/// The schema's SDL, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}

/// Per-request data: the caller and the batch loaders (built per request,
/// so nothing one caller loads is ever served to another). The user loader
/// already knows the caller, who is often the assignee or the submitter of
/// the case a mutation returns: showing them needs no database.
pub async fn request_data(
    engine: &Engine,
    caller: Option<UserRecord>,
) -> (Option<Caller>, Loaders) {
    let loaders = Loaders::new(engine, caller.as_ref());
    if let Some(u) = &caller {
        loaders.users.feed_one(u.id, u.clone()).await;
    }
    (caller.map(Caller), loaders)
}
