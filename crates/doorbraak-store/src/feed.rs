//! The change feed: which cases changed, across instances.
//!
//! On PostgreSQL, after every commit that wrote an event, the store sends
//! `NOTIFY doorbraak_case_events` on its own (see [`Announcer`]); it
//! reaches every instance's listener. A notification carries nothing:
//! listeners read the events table (the outbox) after the last event id
//! they saw, so a notification lost while a listener reconnects, or never
//! sent because an instance died between its commit and its notification,
//! costs at most the listener's next periodic read.
//!
//! Why not inside the transaction, where it would be atomic with the
//! write: a transaction that notifies holds one lock for the whole
//! database from its NOTIFY until its commit is flushed, so notifying
//! transactions commit one at a time and group commit is lost.
//! `scripts/pg-notify-probe.sh` measures it: at 16 clients the raw
//! transition does about 6,400 tx/s, 2,500 with a NOTIFY inside, 5,000
//! with one sent after each commit on its own (no commit record to flush).
//! The announcer below sends fewer still: one per burst of commits.

use crate::limited::Limited;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entity::case_event;
use crate::{Store, StoreError};

/// One event as the change feed sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedEntry {
    pub event: i64,
    pub case: doorbraak_core::CaseId,
    pub at: doorbraak_core::Timestamp,
}

/// The channel every instance listens on.
pub const CHANNEL: &str = "doorbraak_case_events";

/// Sends the change feed's notification after commits (PostgreSQL).
///
/// [`Announcer::announce`] is called after a commit that wrote events; a
/// task sends `pg_notify` on a pool connection, in a transaction of its
/// own. Announcements made while one is being sent, or within
/// [`ANNOUNCE_SPACING`] after it, are folded into one more after that (the
/// channel holds one wake-up), so every commit is followed by a
/// notification sent after it, and a burst of commits costs one or two. The task ends when the last clone of the store is dropped.
#[derive(Clone, Debug)]
pub(crate) struct Announcer {
    wake: tokio::sync::mpsc::Sender<()>,
}

/// How often a failed notification is tried again before the listeners'
/// periodic reads are left to catch up.
const ANNOUNCE_TRIES: u32 = 3;

/// The least time between two notifications of one instance. Commits in
/// between are folded into the next one, so at any rate an instance sends
/// at most 1 / `ANNOUNCE_SPACING` notifications a second (and each
/// listener reads as often), and a change reaches other instances at most
/// this much later. `scripts/pg-transition-probe.sh` measures what a
/// notification and the listener's read cost when each transition pays
/// them.
const ANNOUNCE_SPACING: std::time::Duration = std::time::Duration::from_millis(20);

impl Announcer {
    pub(crate) fn start(pool: sqlx::PgPool) -> Announcer {
        let (wake, mut woken) = tokio::sync::mpsc::channel::<()>(1);
        tokio::spawn(async move {
            while woken.recv().await.is_some() {
                for attempt in 1..=ANNOUNCE_TRIES {
                    match sqlx::query("SELECT pg_notify($1, '')")
                        .bind(CHANNEL)
                        .execute(&pool)
                        .await
                    {
                        Ok(_) => {
                            // Commits meanwhile wait for the next one.
                            tokio::time::sleep(ANNOUNCE_SPACING).await;
                            break;
                        }
                        Err(sqlx::Error::PoolClosed) => return,
                        Err(e) => {
                            tracing::warn!(error = %e, attempt, "change feed: cannot notify");
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        }
                    }
                }
            }
        });
        Announcer { wake }
    }

    /// A commit that wrote events has happened. A wake-up already waiting
    /// covers this one too.
    pub(crate) fn announce(&self) {
        let _ = self.wake.try_send(());
    }
}

impl Store {
    /// Tells the change feeds that a commit wrote events (PostgreSQL; on
    /// SQLite the engine tells its subscribers itself).
    pub(crate) fn announce(&self) {
        if let Some(a) = &self.announcer {
            a.announce();
        }
    }

    /// The highest event id so far (0 for none).
    pub async fn last_event_id(&self) -> Result<i64, StoreError> {
        let last: Option<i64> = case_event::Entity::find()
            .select_only()
            .column(case_event::Column::Id)
            .order_by_desc(case_event::Column::Id)
            .into_tuple()
            .first(&self.read)
            .await?;
        Ok(last.unwrap_or(0))
    }

    /// The events after event id `after`, oldest first.
    pub async fn events_after(&self, after: i64, limit: u64) -> Result<Vec<FeedEntry>, StoreError> {
        let rows: Vec<(i64, i64, i64)> = case_event::Entity::find()
            .select_only()
            .column(case_event::Column::Id)
            .column(case_event::Column::CaseId)
            .column(case_event::Column::At)
            .filter(case_event::Column::Id.gt(after))
            .order_by_asc(case_event::Column::Id)
            .into_tuple()
            .at_most(limit, &self.read)
            .await?;
        rows.into_iter()
            .map(|(id, case, at)| {
                Ok(FeedEntry {
                    event: id,
                    case,
                    at: crate::convert::from_ms(at)?,
                })
            })
            .collect()
    }

    /// A listener for the change feed (PostgreSQL only; `None` on SQLite,
    /// where one process is the only writer).
    pub async fn listen(&self) -> Result<Option<sqlx::postgres::PgListener>, StoreError> {
        let Some(url) = &self.listen_url else {
            return Ok(None);
        };
        let mut l = sqlx::postgres::PgListener::connect(url)
            .await
            .map_err(|e| StoreError::Config(format!("cannot listen for changes: {e}")))?;
        l.listen(CHANNEL)
            .await
            .map_err(|e| StoreError::Config(format!("cannot listen for changes: {e}")))?;
        Ok(Some(l))
    }
}
