//! SQLite: the precedent index gets prefix indexes (FTS5's `prefix`
//! option) for every length a query word may have up to 16 letters
//! ([`PRECEDENT_PREFIXES`]). A search term `"word"*` of such a length is
//! then one posting list, read lazily newest first, and the search stops
//! after the window of newest matches however long the history; without
//! one FTS5 first merges the posting lists of every term that starts with
//! the word. The table is rebuilt under the same name from its own rows.
//! (PostgreSQL's search is a GIN index over the cases; nothing changes.)

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// The prefix lengths of `precedents_fts` from this migration on.
pub const PRECEDENT_PREFIXES: &str = "2 3 4 5 6 7 8 9 10 11 12 13 14 15 16";

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn rebuild(m: &SchemaManager<'_>, options: &str) -> Result<(), DbErr> {
    let db = m.get_connection();
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    for sql in [
        format!(
            "CREATE VIRTUAL TABLE precedents_fts_next USING fts5(citation, explanation, \
             tokenize = 'unicode61 remove_diacritics 2'{options})"
        ),
        "INSERT INTO precedents_fts_next(rowid, citation, explanation) \
         SELECT rowid, citation, explanation FROM precedents_fts"
            .to_owned(),
        "DROP TABLE precedents_fts".to_owned(),
        "ALTER TABLE precedents_fts_next RENAME TO precedents_fts".to_owned(),
    ] {
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rebuild(m, &format!(", prefix = '{PRECEDENT_PREFIXES}'")).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rebuild(m, "").await
    }
}
