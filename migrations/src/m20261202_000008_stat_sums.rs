//! Ministry statistics kept as sums (`doorbraak_core::stats`).
//!
//! - `cases.stat_dirty`: 1 while what the case adds to the sums may have
//!   changed since it was last folded in (new cases, and every transition
//!   that changes its state, barrier or resolution); the folder clears it.
//!   The partial index finds the few dirty cases among millions.
//! - `stat_cases`: per case, what it was folded in as (its
//!   `Contribution`, JSON), so folding it again can take that away first.
//! - `stat_nodes`: the sums (`Tally`, JSON) per ministry, series (all, an
//!   area, a domain), grain (all time, UTC year, month, day) and start.
//! - Indexes on the moments of submission and decision, for the partial
//!   days at a period's edges, which are read case by case.
//!
//! Existing cases start dirty, so the first server to run folds them in.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for sql in [
            "ALTER TABLE cases ADD COLUMN stat_dirty INTEGER NOT NULL DEFAULT 1",
            "CREATE INDEX ix_cases_stat_dirty ON cases (id) WHERE stat_dirty = 1",
            "CREATE INDEX ix_cases_created ON cases (created_at)",
            "CREATE INDEX ix_cases_decided ON cases (resolution_decided_at) \
             WHERE resolution_decided_at IS NOT NULL",
            "CREATE TABLE stat_cases (\
                case_id BIGINT NOT NULL PRIMARY KEY, \
                ministry TEXT NOT NULL, \
                contribution TEXT NOT NULL)",
            "CREATE TABLE stat_nodes (\
                ministry TEXT NOT NULL, \
                series TEXT NOT NULL, \
                grain TEXT NOT NULL, \
                start BIGINT NOT NULL, \
                tally TEXT NOT NULL, \
                PRIMARY KEY (ministry, series, grain, start))",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for sql in [
            "DROP TABLE stat_nodes",
            "DROP TABLE stat_cases",
            "DROP INDEX ix_cases_decided",
            "DROP INDEX ix_cases_created",
            "DROP INDEX ix_cases_stat_dirty",
            "ALTER TABLE cases DROP COLUMN stat_dirty",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
