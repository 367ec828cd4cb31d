//! SQLite: a case read by its id on the caller's own thread.
//!
//! Through sqlx a read is a hand-off to a pooled connection's worker
//! thread and back: a channel send, a wake-up of that thread, and another
//! to bring the answer back to tokio. Reading one row by its key from a
//! warm page cache takes a few microseconds, less than those hand-offs.
//! Every transition reads its case first, so
//! [`Store::case_by_id`](crate::Store::case_by_id) reads it here: on a
//! rusqlite connection taken from a small pool, without an `.await` in
//! between, so it never holds a connection across a suspension point and
//! needs at most one connection per thread that calls it. It blocks that
//! thread for the read's few microseconds (a cold page, for a disk read),
//! which tokio tolerates; a scan would not belong here.
//!
//! In WAL mode a reader never waits for the writer. SQLite can still
//! answer `SQLITE_BUSY` for a moment (while the log is being reset), so
//! the busy timeout here is short, and when the read does not succeed for
//! any reason the caller reads through sqlx instead ([`PointReader::case`]
//! returns `None`), where a real error is reported the usual way.

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::entity::case;
use crate::entity::case::Model as CaseRow;

/// How long a point read waits for a busy database before the caller
/// falls back to sqlx (which waits the full busy timeout).
const BUSY: Duration = Duration::from_millis(20);

/// At most this many idle connections are kept.
const KEEP: usize = 8;

/// The pool of connections for point reads (one per file).
#[derive(Debug)]
pub(crate) struct PointReader {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

/// Lists the columns of a model once, in one order, for both the `SELECT`
/// and the struct it is read into: a column added to the model and not
/// here does not compile.
macro_rules! model_reader {
    ($read:ident, $columns:ident, $model:ident, [$($field:ident),+ $(,)?]) => {
        const $columns: &[&str] = &[$(stringify!($field)),+];

        fn $read(row: &rusqlite::Row<'_>) -> rusqlite::Result<$model> {
            let mut at = 0usize;
            let mut next = || {
                at += 1;
                at - 1
            };
            Ok($model { $($field: row.get(next())?),+ })
        }
    };
}

model_reader!(
    case_model,
    CASE_COLUMNS,
    CaseRow,
    [
        id,
        reference,
        title,
        description,
        focus_area,
        domains,
        rule_citation,
        rule_bwb_id,
        rule_scope,
        rule_ministry,
        desired_action,
        households_affected,
        estimated_cost_cents,
        urgency,
        submitted_by,
        created_at,
        state,
        level,
        highest_level,
        assignee_id,
        deadline,
        paused_at,
        resolution_outcome,
        resolution_explanation,
        resolution_funds_cents,
        resolution_level,
        resolution_decided_at,
        merged_into,
        version,
        updated_at,
        barrier_id,
        resolution_effective_from,
        resolution_experiment_ends,
        resolution_evaluation_date,
        stat_dirty,
    ]
);

fn case_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "SELECT {} FROM cases WHERE id = ?1",
            CASE_COLUMNS.join(", ")
        )
    })
}

impl PointReader {
    pub(crate) fn new(path: PathBuf) -> PointReader {
        PointReader {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        let conn = rusqlite::Connection::open(&self.path)?;
        conn.busy_timeout(BUSY)?;
        conn.execute_batch("PRAGMA query_only = ON;")?;
        conn.set_prepared_statement_cache_capacity(8);
        Ok(conn)
    }

    /// Runs `read` on an idle connection (or a new one) and gives the
    /// connection back; `None` when it failed, for the caller to read
    /// through sqlx instead.
    fn with<T>(
        &self,
        read: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Option<T> {
        let taken = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match taken.map_or_else(|| self.open(), Ok) {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(error = %e, "no SQLite connection for a point read");
                return None;
            }
        };
        let result = read(&conn);
        // A busy database is expected now and then, and the connection
        // stays good; anything else is worth knowing about (sqlx reads
        // instead, and reports it), and the connection is not kept.
        let keep = match &result {
            Ok(_) => true,
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "an SQLite point read failed");
                false
            }
        };
        if keep
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < KEEP
        {
            idle.push(conn);
        }
        result.ok()
    }

    /// The case row with this id: `Some(None)` when there is none, `None`
    /// when the read did not succeed here.
    pub(crate) fn case(&self, id: i64) -> Option<Option<case::Model>> {
        self.with(|conn| {
            use rusqlite::OptionalExtension;
            conn.prepare_cached(case_sql())?
                .query_row([id], case_model)
                .optional()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::CASE_COLUMNS;
    use crate::Store;
    use crate::entity::case;
    use crate::limited::Limited;
    use sea_orm::EntityTrait;

    /// Every column filled (none null) and a row read both ways: the point
    /// reader gives what sea-orm gives, and nothing for a missing id.
    #[tokio::test]
    async fn a_point_read_is_the_row_sea_orm_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let store = Store::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let values = [
            "41",
            "'ZDO-2026-0001'",
            "'titel'",
            "'omschrijving'",
            "'zaandam-oost'",
            "'WORK_INCOME,HOUSING'",
            "'Participatiewet art. 31'",
            "'BWBR0015703'",
            "'NATIONAL'",
            "'SZW'",
            "'wens'",
            "12",
            "345600",
            "'URGENT'",
            "3",
            "1790000000000",
            "'RESOLVED'",
            "'ALLIANCE'",
            "'NATIONAL_REPRESENTATIVE'",
            "5",
            "1790000100000",
            "1790000200000",
            "'EXPERIMENT'",
            "'uitleg'",
            "99900",
            "'ALLIANCE'",
            "1790000300000",
            "40",
            "7",
            "1790000400000",
            "2",
            "'2027-01-01'",
            "'2027-06-30'",
            "'2027-12-31'",
            "1",
        ];
        assert_eq!(values.len(), CASE_COLUMNS.len());
        // Written without the foreign keys:
        // this test is about reading columns, not about the references.
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(&format!(
                "PRAGMA foreign_keys = OFF; INSERT INTO cases ({}) VALUES ({})",
                CASE_COLUMNS.join(", "),
                values.join(", ")
            ))
            .unwrap();
        let point = store
            .sqlite_point
            .as_ref()
            .expect("a file has a point reader");
        let by_sqlx = case::Entity::find_by_id(41i64)
            .first(&store.read)
            .await
            .unwrap()
            .expect("the row");
        assert_eq!(point.case(41), Some(Some(by_sqlx.clone())));
        assert_eq!(by_sqlx.assignee_id, Some(5));
        assert_eq!(
            by_sqlx.resolution_evaluation_date.as_deref(),
            Some("2027-12-31")
        );
        assert_eq!(point.case(42), Some(None));
        // The store's own read goes through it and agrees.
        let case = store.case_by_id(41).await.unwrap().expect("the case");
        assert_eq!(case.status.version, 7);
    }

    #[tokio::test]
    async fn an_in_memory_store_reads_through_sqlx() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        assert!(store.sqlite_point.is_none());
    }
}
