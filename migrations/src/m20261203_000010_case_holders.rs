//! PostgreSQL: who holds a case moves out of the cases' indexes into a
//! table of its own, `case_holders` (one row per held case, the same
//! holder as `cases.assignee_id`), and `ix_cases_assignee` goes.
//!
//! PostgreSQL updates a row in place (a HOT update: no new entry in any
//! index) only when no indexed column changes. With the holder indexed,
//! every pick-up and release wrote a new entry into each of the cases'
//! eighteen indexes; now those transitions change only unindexed columns
//! of the case, and the holder's own small table takes the index. The
//! transition's statement keeps both in step (`doorbraak-store`'s
//! `transition`), so `case_holders` holds a row exactly for the cases
//! whose `assignee_id` is set, with the same value.
//!
//! No foreign keys: each would cost a lookup per pick-up, and the row
//! only ever copies `cases.assignee_id` (which has its own) of a case that
//! exists, in the statement that writes the case.
//!
//! SQLite updates only the indexes of the columns that change and has no
//! such penalty; it keeps the index on the cases and gets no table.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        for sql in [
            "CREATE TABLE case_holders (\
                case_id BIGINT NOT NULL PRIMARY KEY, \
                assignee_id BIGINT NOT NULL)",
            "CREATE INDEX ix_case_holders_assignee ON case_holders (assignee_id, case_id)",
            "INSERT INTO case_holders (case_id, assignee_id) \
             SELECT id, assignee_id FROM cases WHERE assignee_id IS NOT NULL",
            "DROP INDEX ix_cases_assignee",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        for sql in [
            "CREATE INDEX ix_cases_assignee ON cases (assignee_id, id)",
            "DROP TABLE case_holders",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
