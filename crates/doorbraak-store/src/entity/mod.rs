//! sea-orm entities, one per table. Plain rows: the conversions to the
//! core's types live in the repository modules.

// sea-orm's model macro writes loaders with `.limit(…)`; the store's own
// reads go through `crate::limited` (clippy.toml says why).
#![allow(clippy::disallowed_methods)]

pub mod access_request;
pub mod agenda_item;
pub mod barrier;
pub mod case;
pub mod case_event;
pub mod case_holder;
pub mod focus_area;
pub mod meeting;
pub mod ministry;
pub mod oidc_login;
pub mod outbox;
pub mod service_norm;
pub mod session;
pub mod sign_in_link;
pub mod stat_case;
pub mod stat_node;
pub mod user;
pub mod user_area;
pub mod user_identity;
pub mod webhook_subscription;
