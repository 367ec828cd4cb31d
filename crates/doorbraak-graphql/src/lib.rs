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
mod loaders;
mod mutation;
mod query;
mod register;
mod scalars;
mod subscription;
mod types;

use async_graphql::{Schema, SchemaBuilder};
use doorbraak_engine::{Engine, UserRecord};

pub use errors::{ErrorCode, to_gql};
pub use loaders::{Events, Loaders, Users};
pub use subscription::SubscriptionRoot;

/// The root query: cases, then the register and meetings.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(query::CaseQueries, register::RegisterQueries);

/// The root mutation.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(mutation::CaseMutations, register::RegisterMutations);

pub type DoorbraakSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Deepest query accepted.
pub const MAX_DEPTH: usize = 12;
/// Costliest query accepted (a field costs 1; lists multiply by `first`).
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
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(32)
}

/// The schema served over HTTP, sharing one engine.
pub fn build_schema(engine: Engine) -> DoorbraakSchema {
    schema_builder().data(engine).finish()
}

/// The schema's SDL, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}

/// Per-request data: the caller and the batch loaders (built per request,
/// so nothing one caller loads is ever served to another).
pub fn request_data(engine: &Engine, caller: Option<UserRecord>) -> (Option<Caller>, Loaders) {
    (caller.map(Caller), Loaders::new(engine))
}
