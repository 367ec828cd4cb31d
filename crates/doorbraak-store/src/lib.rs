//! Persistence for Doorbraak: sea-orm entities and repositories over SQLite
//! (the embedded default) and PostgreSQL.
//!
//! **API boundary:** nothing outside this crate knows SQL. The engine hands
//! in core values ([`doorbraak_core::Case`], [`doorbraak_core::Event`]) and
//! gets core values back.
//!
//! **Invariants:**
//! - every transition is one short transaction: the case row, guarded by
//!   its version (`UPDATE … WHERE id = ? AND version = ?`), and the event
//!   row commit together or not at all; zero rows updated is a
//!   [`StoreError::VersionConflict`];
//! - on SQLite, transitions are written by one thread that owns a rusqlite
//!   connection (several under one COMMIT when they queue up, see
//!   [`sqlite_writer`]), every other write by one sqlx writer connection,
//!   readers use a separate pool (a case by id is read without a
//!   hand-off, see [`sqlite_point`]); every write transaction begins
//!   `IMMEDIATE`, so none ever has to upgrade a read lock and `SQLITE_BUSY`
//!   cannot surface from inside the process;
//! - on PostgreSQL a transition is one statement ([`transition`]);
//! - timestamps are integer milliseconds (UTC) and money integer cents.

mod barriers;
mod bulk;
mod cases;
mod connect;
mod convert;
pub mod entity;
mod feed;
#[cfg(test)]
mod fixtures;
mod limited;
mod meetings;
#[cfg(test)]
mod migrated;
mod outbox;
mod pg_direct;
mod reference;
mod render;
mod sessions;
mod sqlite_point;
mod sqlite_writer;
mod stats;
mod transition;
mod users;

pub use barriers::{
    BarrierChange, BarrierQuery, BarrierRecord, BarrierScope, LinkedCase, LinkedTitle, NewBarrier,
    PrecedentChange, PrecedentHit, StatRow,
};
pub use bulk::{GeneratedBarrier, GeneratedCase, GeneratedItem, GeneratedMeeting, NextIds};
pub use cases::{CaseQuery, StoredEvent};
pub use connect::{ACQUIRE_TIMEOUT, Backend, PoolSizes, PoolStat, SqliteSync};
pub use feed::FeedEntry;
pub use meetings::{AgendaItemRecord, MeetingRecord, MeetingStatus, Onward};
pub use outbox::{
    AttemptEnd, Channel, DeliveryRecord, OutboxItem, ScheduledMessage, WebhookSubscription,
};
pub use reference::{FocusAreaRow, MinistryRow};
pub use sessions::{NewSession, SessionRecord};
pub use sqlite_writer::{Coming, GroupCommits};
pub use stats::{StatInput, StatSnapshot};
pub use users::{NewUser, UserChange, UserRecord};

use sea_orm::DatabaseConnection;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The case changed since the caller read it.
    #[error("the case was changed by someone else")]
    VersionConflict,
    /// A unique key is already taken (e.g. a token hash).
    #[error("duplicate: {0}")]
    Duplicate(String),
    /// The database URL or file cannot be used.
    #[error("{0}")]
    Config(String),
    /// A stored value that the core cannot read back.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
}

impl StoreError {
    /// True when the database could not be reached (down, restarting,
    /// refusing connections, or the pool timed out waiting for one): the
    /// request may succeed when retried later. Anything else is a bug or
    /// bad data, and retrying will not help.
    pub fn is_unavailable(&self) -> bool {
        use sea_orm::{DbErr, RuntimeErr};
        let StoreError::Db(e) = self else {
            return false;
        };
        let sqlx_err = match e {
            DbErr::ConnectionAcquire(_) => return true,
            DbErr::Conn(RuntimeErr::SqlxError(x))
            | DbErr::Exec(RuntimeErr::SqlxError(x))
            | DbErr::Query(RuntimeErr::SqlxError(x)) => x,
            DbErr::Conn(_) => return true,
            _ => return false,
        };
        match &**sqlx_err {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_) => true,
            sqlx::Error::Database(d) => d.code().is_some_and(|c| {
                // PostgreSQL: connection exceptions (08…), and the server
                // shutting down or starting up (57P01–57P03).
                c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")
            }),
            _ => false,
        }
    }
}

/// The database, with separate reader and writer handles.
#[derive(Clone, Debug)]
pub struct Store {
    read: DatabaseConnection,
    write: DatabaseConnection,
    backend: Backend,
    /// Repository calls made, for tests that pin the cost of a request.
    calls: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// PostgreSQL only: where to LISTEN for changes made by other instances.
    listen_url: Option<String>,
    /// SQLite only: the file, for the bulk writer of `doorbraak generate`.
    sqlite_path: Option<std::path::PathBuf>,
    /// SQLite, on a file: the transitions' writer thread.
    sqlite_writer: Option<sqlite_writer::Writer>,
    /// SQLite, on a file: reads of a case by id without a hand-off.
    sqlite_point: Option<std::sync::Arc<sqlite_point::PointReader>>,
    /// PostgreSQL only: the transitions' own connections (`pg_direct`).
    pg_direct: Option<std::sync::Arc<pg_direct::Direct>>,
    /// PostgreSQL only: sends the change feed's notifications.
    announcer: Option<feed::Announcer>,
}

impl Store {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How many repository calls this store (and its clones) has served.
    pub fn calls(&self) -> u64 {
        self.calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Begins a write transaction on the writer connection. On SQLite it
    /// is `BEGIN IMMEDIATE`: it takes the write lock first (waiting in the
    /// busy handler while the writer thread commits), so it never has to
    /// upgrade a read lock and cannot fail with `SQLITE_BUSY` half-way.
    pub(crate) async fn begin_write(&self) -> Result<sea_orm::DatabaseTransaction, StoreError> {
        use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
        Ok(match self.backend {
            Backend::Sqlite => {
                self.write
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..Default::default()
                    })
                    .await?
            }
            Backend::Postgres => self.write.begin().await?,
        })
    }

    fn count(&self) {
        self.calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}
