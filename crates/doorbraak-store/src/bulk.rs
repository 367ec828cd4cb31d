//! Bulk writing for `doorbraak generate`: rows the engine's simulation made
//! (cases with their events, barriers, meetings and agenda items), written
//! in large multi-row `INSERT`s inside few transactions, with the ids the
//! simulation gave them. The rows are built by the same functions the
//! one-at-a-time paths use (`case_row`, `event_row`, `barrier_change`), so
//! a generated row is the row a transition would have written.
//!
//! No outbox rows are written: the past is not announced.

use doorbraak_core::{
    BarrierChange, CaseId, Event, EventAction, Level, NewCase, Status, Timestamp, UserId,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel, Iterable,
    Statement,
};

use crate::barriers::{NewBarrier, barrier_change};
use crate::cases::{case_row, event_row};
use crate::convert::ms;
use crate::entity::{agenda_item, barrier, case, case_event, case_holder, meeting};
use crate::limited::Limited;
use crate::{Backend, Store, StoreError};

/// A generated case: what was submitted, and where its events left it.
#[derive(Debug, Clone)]
pub struct GeneratedCase {
    pub id: CaseId,
    pub new: NewCase,
    pub reference: String,
    pub submitted_by: UserId,
    pub created_at: Timestamp,
    pub status: Status,
    /// Its log, oldest first (sequence 1, 2, …).
    pub events: Vec<Event>,
    /// The case is resolved: its citation and explanation are indexed.
    pub precedent: bool,
}

/// A barrier the simulation created (on a case's first link to it).
#[derive(Debug, Clone)]
pub struct GeneratedBarrier {
    pub id: i64,
    pub new: NewBarrier,
    pub created_by: UserId,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct GeneratedMeeting {
    pub id: i64,
    pub level: Level,
    pub area: Option<String>,
    pub scheduled_at: Timestamp,
    pub created_by: UserId,
    pub closed_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct GeneratedItem {
    pub id: i64,
    pub meeting: i64,
    pub case: CaseId,
    pub added_at: Timestamp,
    /// The decision taken on it: action, note, when.
    pub decision: Option<(EventAction, Option<String>, Timestamp)>,
}

/// The first free id of each table the simulation assigns ids in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextIds {
    pub case: i64,
    pub barrier: i64,
    pub meeting: i64,
    pub item: i64,
}

/// Bound values per `INSERT` on PostgreSQL (its limit is 65,535).
const VALUES_PER_STATEMENT: usize = 30_000;

/// Rows of one table, as values in column order.
struct Table {
    name: String,
    columns: Vec<String>,
    rows: Vec<Vec<sea_orm::Value>>,
}

/// The rows' values; the columns are those the first row sets, and every
/// row must set the same ones.
fn table<E, A>(rows: Vec<A>) -> Result<Table, StoreError>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E>,
{
    use sea_orm::sea_query::Iden;
    let name = E::default().to_string();
    let columns: Vec<E::Column> = match rows.first() {
        Some(first) => E::Column::iter()
            .filter(|c| !matches!(first.get(*c), sea_orm::ActiveValue::NotSet))
            .collect(),
        None => Vec::new(),
    };
    let mut values = Vec::with_capacity(rows.len());
    for row in rows {
        let mut v = Vec::with_capacity(columns.len());
        for c in &columns {
            match row.get(*c) {
                sea_orm::ActiveValue::Set(x) | sea_orm::ActiveValue::Unchanged(x) => v.push(x),
                sea_orm::ActiveValue::NotSet => {
                    return Err(StoreError::Corrupt(format!(
                        "a {name} row without {}",
                        c.to_string()
                    )));
                }
            }
        }
        values.push(v);
    }
    Ok(Table {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        name,
        rows: values,
    })
}

/// PostgreSQL: multi-row `INSERT`s of one shape per full chunk.
async fn insert_pg<C: ConnectionTrait>(db: &C, t: Table) -> Result<(), StoreError> {
    if t.rows.is_empty() {
        return Ok(());
    }
    let per = (VALUES_PER_STATEMENT / t.columns.len().max(1)).max(1);
    let head = format!(
        "INSERT INTO \"{}\" (\"{}\") VALUES ",
        t.name,
        t.columns.join("\", \"")
    );
    let mut rows = t.rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut sql = head.clone();
        let mut values: Vec<sea_orm::Value> = Vec::new();
        for (r, row) in rows.by_ref().take(per).enumerate() {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for (i, v) in row.into_iter().enumerate() {
                values.push(v);
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", values.len()));
            }
            sql.push(')');
        }
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            values,
        ))
        .await?;
    }
    Ok(())
}

fn lite(v: sea_orm::Value) -> Result<rusqlite::types::Value, StoreError> {
    use rusqlite::types::Value as L;
    use sea_orm::Value as V;
    Ok(match v {
        V::Bool(b) => b.map_or(L::Null, |b| L::Integer(i64::from(b))),
        V::TinyInt(x) => x.map_or(L::Null, |x| L::Integer(x.into())),
        V::SmallInt(x) => x.map_or(L::Null, |x| L::Integer(x.into())),
        V::Int(x) => x.map_or(L::Null, |x| L::Integer(x.into())),
        V::BigInt(x) => x.map_or(L::Null, L::Integer),
        V::String(x) => x.map_or(L::Null, L::Text),
        V::Double(x) => x.map_or(L::Null, L::Real),
        other => {
            return Err(StoreError::Corrupt(format!(
                "a generated value of an unexpected type: {other:?}"
            )));
        }
    })
}

/// SQLite: one prepared `INSERT` per table on a connection of its own, in
/// one transaction, as fast as SQLite takes rows (the benchmark's raw bulk
/// insert does the same with the same rows).
fn insert_sqlite(
    path: &std::path::Path,
    tables: Vec<Table>,
    fts: Vec<[rusqlite::types::Value; 3]>,
) -> Result<(), StoreError> {
    let fail = |e: rusqlite::Error| StoreError::Corrupt(format!("bulk write: {e}"));
    let c = rusqlite::Connection::open(path).map_err(fail)?;
    c.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(fail)?;
    c.pragma_update(None, "foreign_keys", "ON").map_err(fail)?;
    c.execute_batch("BEGIN IMMEDIATE").map_err(fail)?;
    let run = || -> Result<(), StoreError> {
        for t in tables {
            if t.rows.is_empty() {
                continue;
            }
            let marks = vec!["?"; t.columns.len()].join(", ");
            let mut ins = c
                .prepare(&format!(
                    "INSERT INTO \"{}\" (\"{}\") VALUES ({marks})",
                    t.name,
                    t.columns.join("\", \"")
                ))
                .map_err(fail)?;
            for row in t.rows {
                let row = row.into_iter().map(lite).collect::<Result<Vec<_>, _>>()?;
                ins.execute(rusqlite::params_from_iter(row)).map_err(fail)?;
            }
        }
        let mut ins = c
            .prepare("INSERT OR REPLACE INTO precedents_fts(rowid, citation, explanation) VALUES (?, ?, ?)")
            .map_err(fail)?;
        for row in fts {
            ins.execute(rusqlite::params_from_iter(row)).map_err(fail)?;
        }
        Ok(())
    };
    match run() {
        Ok(()) => c.execute_batch("COMMIT").map_err(fail),
        Err(e) => {
            let _ = c.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

async fn max_id<E: EntityTrait>(store: &Store, col: E::Column) -> Result<i64, StoreError> {
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::{Expr, ExprTrait};
    let v: Option<Option<i64>> = E::find()
        .select_only()
        .column_as(Expr::col(col).max(), "m")
        .into_tuple()
        .first(&store.write)
        .await?;
    Ok(v.flatten().unwrap_or(0))
}

fn item_row(i: &GeneratedItem) -> agenda_item::ActiveModel {
    agenda_item::ActiveModel {
        id: Set(i.id),
        meeting_id: Set(i.meeting),
        case_id: Set(i.case),
        added_at: Set(ms(i.added_at)),
        carried_from: Set(None),
        carried_to: Set(None),
        moved_on: Set(false),
        decision: Set(i.decision.as_ref().map(|d| d.0.as_str().to_owned())),
        note: Set(i.decision.as_ref().and_then(|d| d.1.clone())),
        decided_at: Set(i.decision.as_ref().map(|d| ms(d.2))),
    }
}

impl Store {
    /// The first free ids, for a simulation that assigns its own.
    pub async fn next_ids(&self) -> Result<NextIds, StoreError> {
        Ok(NextIds {
            case: max_id::<case::Entity>(self, case::Column::Id).await? + 1,
            barrier: max_id::<barrier::Entity>(self, barrier::Column::Id).await? + 1,
            meeting: max_id::<meeting::Entity>(self, meeting::Column::Id).await? + 1,
            item: max_id::<agenda_item::Entity>(self, agenda_item::Column::Id).await? + 1,
        })
    }

    /// The last reference number of an area in a year (0 for none).
    pub async fn reference_counter(&self, area: &str, year: i32) -> Result<i64, StoreError> {
        let row = self
            .write
            .query_one_raw(Statement::from_sql_and_values(
                self.write.get_database_backend(),
                match self.backend {
                    Backend::Sqlite => {
                        "SELECT last FROM reference_counters WHERE area_code = ? AND year = ?"
                    }
                    Backend::Postgres => {
                        "SELECT last FROM reference_counters WHERE area_code = $1 AND year = $2"
                    }
                },
                [area.into(), year.into()],
            ))
            .await?;
        Ok(match row {
            Some(r) => r
                .try_get::<i64>("", "last")
                .map_err(|e| StoreError::Corrupt(format!("{e:?}")))?,
            None => 0,
        })
    }

    /// Writes meetings, in one transaction.
    pub async fn write_generated_meetings(
        &self,
        meetings: &[GeneratedMeeting],
    ) -> Result<(), StoreError> {
        let rows: Vec<meeting::ActiveModel> = meetings
            .iter()
            .map(|m| meeting::ActiveModel {
                id: Set(m.id),
                level: Set(m.level.as_str().to_owned()),
                focus_area: Set(m.area.clone()),
                scheduled_at: Set(ms(m.scheduled_at)),
                status: Set(if m.closed_at.is_some() {
                    "CLOSED"
                } else {
                    "OPEN"
                }
                .to_owned()),
                created_by: Set(m.created_by),
                closed_at: Set(m.closed_at.map(ms)),
            })
            .collect();
        let txn = self.begin_write().await?;
        match self.backend {
            Backend::Postgres => insert_pg(&txn, table(rows)?).await?,
            Backend::Sqlite => {
                meeting::Entity::insert_many(rows)
                    .exec_without_returning(&txn)
                    .await?;
            }
        }
        txn.commit().await?;
        Ok(())
    }

    /// Writes a batch in one transaction: new barriers first, then cases,
    /// their events, their agenda items and their precedent entries.
    pub async fn write_generated(
        &self,
        barriers: &[GeneratedBarrier],
        cases: &[GeneratedCase],
        items: &[GeneratedItem],
    ) -> Result<(), StoreError> {
        let tables = vec![
            table(
                barriers
                    .iter()
                    .map(|b| {
                        crate::barriers::new_barrier_row(
                            &b.new,
                            b.created_by,
                            b.created_at,
                            Some(b.id),
                        )
                    })
                    .collect::<Vec<barrier::ActiveModel>>(),
            )?,
            table(
                cases
                    .iter()
                    .map(|c| {
                        case_row(
                            Some(c.id),
                            &c.new,
                            &c.reference,
                            c.submitted_by,
                            c.created_at,
                            &c.status,
                        )
                    })
                    .collect::<Vec<case::ActiveModel>>(),
            )?,
            table(
                cases
                    .iter()
                    .flat_map(|c| {
                        c.events
                            .iter()
                            .enumerate()
                            .map(move |(i, e)| event_row(c.id, i as i32 + 1, e))
                    })
                    .collect::<Vec<case_event::ActiveModel>>(),
            )?,
            table(
                items
                    .iter()
                    .map(item_row)
                    .collect::<Vec<agenda_item::ActiveModel>>(),
            )?,
        ];
        match (self.backend, &self.sqlite_path) {
            (Backend::Sqlite, Some(path)) => {
                let fts: Vec<[rusqlite::types::Value; 3]> = cases
                    .iter()
                    .filter(|c| c.precedent)
                    .map(|c| {
                        [
                            rusqlite::types::Value::Integer(c.id),
                            rusqlite::types::Value::Text(c.new.rule.citation.clone()),
                            rusqlite::types::Value::Text(
                                c.status
                                    .resolution
                                    .as_ref()
                                    .map(|r| r.explanation.clone())
                                    .unwrap_or_default(),
                            ),
                        ]
                    })
                    .collect();
                let path = path.clone();
                tokio::task::spawn_blocking(move || insert_sqlite(&path, tables, fts))
                    .await
                    .map_err(|e| StoreError::Corrupt(format!("bulk write: {e}")))?
            }
            (Backend::Sqlite, None) => Err(StoreError::Config(
                "generating needs a SQLite file, not an in-memory database".into(),
            )),
            (Backend::Postgres, _) => {
                // Who holds what has its own table there (migration 10).
                let holders = cases
                    .iter()
                    .filter_map(|c| {
                        c.status.assignee.map(|a| case_holder::ActiveModel {
                            case_id: Set(c.id),
                            assignee_id: Set(a),
                        })
                    })
                    .collect::<Vec<case_holder::ActiveModel>>();
                let txn = self.begin_write().await?;
                for t in tables.into_iter().chain([table(holders)?]) {
                    insert_pg(&txn, t).await?;
                }
                txn.commit().await?;
                Ok(())
            }
        }
    }

    /// The end of a generation: each barrier's changes applied in order,
    /// the reference counters raised, PostgreSQL's id sequences moved past
    /// the ids the simulation used.
    pub async fn finish_generated(
        &self,
        changes: &[BarrierChange],
        counters: &[(String, i32, i64)],
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let mut by_id: std::collections::BTreeMap<i64, barrier::ActiveModel> = Default::default();
        for c in changes {
            let change = barrier_change(c);
            let m = match by_id.entry(c.id) {
                std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => {
                    let Some(found) = barrier::Entity::find_by_id(c.id).first(&txn).await? else {
                        return Err(StoreError::Corrupt(format!("no barrier {}", c.id)));
                    };
                    v.insert(found.into_active_model())
                }
            };
            for col in barrier::Column::iter() {
                if let sea_orm::ActiveValue::Set(v) = change.get(col) {
                    m.set(col, v);
                }
            }
        }
        for (_, m) in by_id {
            m.update(&txn).await?;
        }
        let db = txn.get_database_backend();
        for (area, year, last) in counters {
            let sql = match self.backend {
                Backend::Sqlite => {
                    "INSERT INTO reference_counters (area_code, year, last) VALUES (?, ?, ?) \
                     ON CONFLICT (area_code, year) DO UPDATE SET last = MAX(last, excluded.last)"
                }
                Backend::Postgres => {
                    "INSERT INTO reference_counters (area_code, year, last) VALUES ($1, $2, $3) \
                     ON CONFLICT (area_code, year) DO UPDATE SET last = GREATEST(reference_counters.last, excluded.last)"
                }
            };
            txn.execute_raw(Statement::from_sql_and_values(
                db,
                sql,
                [area.clone().into(), (*year).into(), (*last).into()],
            ))
            .await?;
        }
        if self.backend == Backend::Postgres {
            for table in ["cases", "barriers", "meetings", "agenda_items"] {
                txn.execute_unprepared(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                ))
                .await?;
            }
        }
        txn.commit().await?;
        Ok(())
    }
}
