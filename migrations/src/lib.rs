//! Database migrations for Doorbraak (sea-orm-migration).
//!
//! **Invariant:** a migration that has landed is never edited; add a new one.
//! Every migration runs in a transaction on every backend
//! (`use_transaction() == Some(true)`), so a failed one leaves nothing behind.
//! Timestamps are stored as integer milliseconds since the Unix epoch (UTC)
//! and money as integer cents, so both compare and sum exactly on SQLite and
//! PostgreSQL alike.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_initial;
mod m20261122_000002_meetings_barriers;
mod m20261201_000003_agenda_moved_on;
mod m20261201_000004_sessions_email;
mod m20261201_000005_outbox;
mod m20261201_000006_identities;
mod m20261202_000007_open_cases;
mod m20261202_000008_stat_sums;
mod m20261202_000009_precedent_prefixes;
mod m20261203_000010_case_holders;
mod m20261206_000011_event_rowids;

pub use m20261202_000009_precedent_prefixes::PRECEDENT_PREFIXES;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261122_000002_meetings_barriers::Migration),
            Box::new(m20261201_000003_agenda_moved_on::Migration),
            Box::new(m20261201_000004_sessions_email::Migration),
            Box::new(m20261201_000005_outbox::Migration),
            Box::new(m20261201_000006_identities::Migration),
            Box::new(m20261202_000007_open_cases::Migration),
            Box::new(m20261202_000008_stat_sums::Migration),
            Box::new(m20261202_000009_precedent_prefixes::Migration),
            Box::new(m20261203_000010_case_holders::Migration),
            Box::new(m20261206_000011_event_rowids::Migration),
        ]
    }
}
