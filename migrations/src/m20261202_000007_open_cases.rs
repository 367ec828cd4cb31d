//! Indexes of the open cases at a level, newest first, for the lists that
//! want only those (the overdue list): with years of closed cases behind
//! them, walking every case by id, or every case that ever reached the
//! breakthrough meeting (the secretariat's scope), grows with the history.
//! One for readers of every case, one for the scopes by highest level (the
//! scopes by area already have `ix_cases_area_state`). The store writes
//! the same condition literally (`OPEN_CONDITION`), which is what lets the
//! planner use a partial index.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let open = "WHERE state IN \
            ('AT_PROGRAMME_BUREAU', 'AT_ALLIANCE', 'AT_NATIONAL_REPRESENTATIVE', 'AT_BREAKTHROUGH_MEETING')";
        let db = m.get_connection();
        db.execute_unprepared(&format!("CREATE INDEX ix_cases_open ON cases (id) {open}"))
            .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX ix_cases_open_level ON cases (highest_level, id) {open}"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX ix_cases_open_level")
            .await?;
        db.execute_unprepared("DROP INDEX ix_cases_open").await?;
        Ok(())
    }
}
