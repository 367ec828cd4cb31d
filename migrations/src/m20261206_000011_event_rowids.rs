//! SQLite: the events' ids come from the table's own rowid, not from
//! `AUTOINCREMENT`.
//!
//! With `AUTOINCREMENT`, every insert into `case_events` looks its table
//! up in `sqlite_sequence` and writes the new highest id back there, so
//! every transition's commit carries one more page of log (4 KB) and the
//! insert runs the extra lookup. Without it SQLite gives the next id as
//! one above the highest in the table. The two differ only after the row
//! with the highest id is deleted (`AUTOINCREMENT` never hands that id
//! out again), and events are never deleted: the case's history is
//! append-only. Ids stay increasing in commit order, which is what the
//! change feed and the lists rely on. `scripts/autoincrement-probe.py`
//! (a loop of the transition's shape: update a case, insert an event,
//! one commit each) ran 16–25% more transactions a second with a fifth
//! less log without it (ARCHITECTURE.md, "the events' own ids").
//!
//! SQLite cannot drop `AUTOINCREMENT` from a table, so the table is built
//! again: the same columns, keys and index, every row with its id.
//! PostgreSQL's identity column has no such cost and is left alone.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `case_events` as migrations 1 and 2 made it, with `id` as given.
fn table(name: &str, id: &str) -> String {
    format!(
        "CREATE TABLE \"{name}\" ( \"id\" integer NOT NULL PRIMARY KEY{id}, \
         \"case_id\" integer NOT NULL, \"sequence\" integer NOT NULL, \
         \"action\" varchar(32) NOT NULL, \"from_state\" varchar(32) NULL, \
         \"to_state\" varchar(32) NOT NULL, \"actor_id\" integer NOT NULL, \
         \"actor_role\" varchar(32) NOT NULL, \"note\" text NULL, \"at\" integer NOT NULL, \
         \"effect\" text NOT NULL, \"meeting_id\" integer NULL, \
         FOREIGN KEY (\"case_id\") REFERENCES \"cases\" (\"id\"), \
         FOREIGN KEY (\"actor_id\") REFERENCES \"users\" (\"id\") )"
    )
}

/// Builds `case_events` again with `id` after its primary key, keeping
/// every row and the index. SQLite keeps `sqlite_sequence` in step by
/// itself: dropping a table drops its row there, and a table made with
/// `AUTOINCREMENT` records the highest id inserted into it, and its row
/// follows the rename.
async fn rebuild(m: &SchemaManager<'_>, id: &str) -> Result<(), DbErr> {
    let db = m.get_connection();
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    for sql in [
        table("case_events_rebuilt", id),
        "INSERT INTO \"case_events_rebuilt\" SELECT \"id\", \"case_id\", \"sequence\", \
         \"action\", \"from_state\", \"to_state\", \"actor_id\", \"actor_role\", \"note\", \
         \"at\", \"effect\", \"meeting_id\" FROM \"case_events\""
            .into(),
        "DROP TABLE \"case_events\"".into(),
        "ALTER TABLE \"case_events_rebuilt\" RENAME TO \"case_events\"".into(),
        "CREATE UNIQUE INDEX \"ux_case_events_case_sequence\" \
         ON \"case_events\" (\"case_id\", \"sequence\")"
            .into(),
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
        rebuild(m, "").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rebuild(m, " AUTOINCREMENT").await
    }
}
