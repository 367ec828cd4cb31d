//! The change feed: which cases changed, across instances.
//!
//! Every transaction that writes an event also sends `NOTIFY
//! doorbraak_case_events` on PostgreSQL; it reaches listeners at commit.
//! A notification carries nothing: listeners read the events table (the
//! outbox) after the last event id they saw, so a notification lost while a
//! listener reconnects costs nothing, and the listener catches up.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entity::case_event;
use crate::{Backend, Store, StoreError};

/// One event as the change feed sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedEntry {
    pub event: i64,
    pub case: doorbraak_core::CaseId,
    pub at: doorbraak_core::Timestamp,
}

/// The channel every instance listens on.
pub const CHANNEL: &str = "doorbraak_case_events";

pub(crate) async fn notify(txn: &DatabaseTransaction, backend: Backend) -> Result<(), StoreError> {
    if backend == Backend::Postgres {
        txn.execute_unprepared("NOTIFY doorbraak_case_events")
            .await?;
    }
    Ok(())
}

impl Store {
    /// The highest event id so far (0 for none).
    pub async fn last_event_id(&self) -> Result<i64, StoreError> {
        let last: Option<i64> = case_event::Entity::find()
            .select_only()
            .column(case_event::Column::Id)
            .order_by_desc(case_event::Column::Id)
            .limit(1)
            .into_tuple()
            .one(&self.read)
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
            .limit(limit)
            .into_tuple()
            .all(&self.read)
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
