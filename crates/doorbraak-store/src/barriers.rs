//! The barrier register, the follow-ups of a transition (barrier status,
//! precedent index), full-text search and the rows statistics are made of.

use crate::limited::Limited;
use chrono::NaiveDate;
use doorbraak_core::{BarrierStatus, CaseId, Outcome, RuleScope, Timestamp, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};

use crate::convert::{case_from_row, date_opt, date_text, from_ms, ms, parse};
use crate::entity::{barrier, case};
use crate::{Backend, Store, StoreError};

/// A barrier as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarrierRecord {
    pub id: i64,
    pub citation: String,
    pub bwb_id: Option<String>,
    pub scope: RuleScope,
    pub owning_ministry: String,
    pub status: BarrierStatus,
    pub decision_outcome: Option<Outcome>,
    pub decision_note: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub effective_from: Option<NaiveDate>,
    pub experiment_ends: Option<NaiveDate>,
    pub evaluation_date: Option<NaiveDate>,
    pub refused_at: Option<Timestamp>,
    pub in_force_on: Option<NaiveDate>,
    pub implementation_note: Option<String>,
    pub implemented_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A barrier to create.
#[derive(Debug, Clone)]
pub struct NewBarrier {
    pub citation: String,
    pub bwb_id: Option<String>,
    pub scope: RuleScope,
    pub owning_ministry: String,
}

pub use doorbraak_core::BarrierScope;

/// How many of the most recent matches a precedent search ranks.
pub const PRECEDENT_WINDOW: i64 = 200;

/// SQLite: the longest of the full-text index's prefix indexes
/// (`migration::PRECEDENT_PREFIXES`: every length a query word may have up
/// to this one, so a word is one posting list read newest first and the
/// search stops at the window, however long the history; without one,
/// FTS5 merges the posting lists of every term that starts with the word
/// before it reads the first match). A longer word is looked up by its
/// first this many letters and checked in our own code.
pub const PRECEDENT_PREFIX_MAX: usize = 16;

/// How many windows of candidates a search reads at most while it checks
/// long words (bounded, so a rare word behind a common start cannot make
/// it read the whole index).
const PRECEDENT_PAGES: usize = 10;

/// The title of a case linked to a barrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedTitle {
    pub barrier: i64,
    pub title: String,
}

/// A case linked to a barrier.
#[derive(Debug, Clone)]
pub struct LinkedCase {
    pub barrier: i64,
    pub case: doorbraak_core::Case,
}

/// Filters of the barrier list.
#[derive(Debug, Clone, Default)]
pub struct BarrierQuery {
    pub ministry: Option<String>,
    pub status: Option<BarrierStatus>,
    pub area: Option<String>,
    /// Experiments ending or due for evaluation on or before this date.
    pub evaluation_due_by: Option<NaiveDate>,
}

pub use doorbraak_core::{BarrierChange, PrecedentChange};

/// One search hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrecedentHit {
    pub case_id: CaseId,
    pub reference: String,
    pub citation: String,
    pub outcome: Outcome,
    pub explanation: String,
    pub focus_area: String,
    pub resolved_at: Timestamp,
}

/// The columns of a case that statistics are computed from (no text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRow {
    pub case_id: CaseId,
    pub focus_area: String,
    pub domains: Vec<doorbraak_core::PolicyDomain>,
    pub created_at: Timestamp,
    pub state: doorbraak_core::CaseState,
    pub outcome: Option<Outcome>,
    pub funds_cents: Option<i64>,
    pub decided_at: Option<Timestamp>,
    pub barrier_id: Option<i64>,
}

fn record(b: barrier::Model) -> Result<BarrierRecord, StoreError> {
    Ok(BarrierRecord {
        id: b.id,
        citation: b.citation,
        bwb_id: b.bwb_id,
        scope: parse("rule scope", &b.scope)?,
        owning_ministry: b.owning_ministry,
        status: parse("barrier status", &b.status)?,
        decision_outcome: b
            .decision_outcome
            .as_deref()
            .map(|o| parse("outcome", o))
            .transpose()?,
        decision_note: b.decision_note,
        decided_at: b.decided_at.map(from_ms).transpose()?,
        effective_from: date_opt(&b.effective_from)?,
        experiment_ends: date_opt(&b.experiment_ends)?,
        evaluation_date: date_opt(&b.evaluation_date)?,
        refused_at: b.refused_at.map(from_ms).transpose()?,
        in_force_on: date_opt(&b.in_force_on)?,
        implementation_note: b.implementation_note,
        implemented_at: b.implemented_at.map(from_ms).transpose()?,
        created_at: from_ms(b.created_at)?,
    })
}

/// Barriers with a case in one of `areas`.
fn in_areas(areas: &[String]) -> sea_orm::sea_query::SimpleExpr {
    let sub = sea_orm::sea_query::Query::select()
        .column(case::Column::BarrierId)
        .from(case::Entity)
        .and_where(case::Column::FocusArea.is_in(areas.iter().cloned()))
        .and_where(case::Column::BarrierId.is_not_null())
        .to_owned();
    barrier::Column::Id.in_subquery(sub)
}

/// The condition that keeps barriers inside a reader's scope; `None` for
/// no barrier at all.
fn barrier_scope_condition(scope: &BarrierScope) -> Option<Condition> {
    let cond = Condition::all();
    Some(match scope {
        BarrierScope::All => cond,
        BarrierScope::Nothing => return None,
        BarrierScope::Ministry(m) => cond.add(barrier::Column::OwningMinistry.eq(m.clone())),
        BarrierScope::SubmittedBy(user) => {
            let sub = sea_orm::sea_query::Query::select()
                .column(case::Column::BarrierId)
                .from(case::Entity)
                .and_where(case::Column::SubmittedBy.eq(*user))
                .and_where(case::Column::BarrierId.is_not_null())
                .to_owned();
            cond.add(barrier::Column::Id.in_subquery(sub))
        }
    })
}

impl Store {
    pub async fn barrier_by_id(&self, id: i64) -> Result<Option<BarrierRecord>, StoreError> {
        self.count();
        barrier::Entity::find_by_id(id)
            .first(&self.read)
            .await?
            .map(record)
            .transpose()
    }

    /// Those of some barriers that `scope` may read.
    pub async fn barriers_by_ids(
        &self,
        scope: &BarrierScope,
        ids: &[i64],
    ) -> Result<Vec<BarrierRecord>, StoreError> {
        self.count();
        let Some(visible) = barrier_scope_condition(scope) else {
            return Ok(Vec::new());
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        barrier::Entity::find()
            .filter(visible.add(barrier::Column::Id.is_in(ids.iter().copied())))
            .all(&self.read)
            .await?
            .into_iter()
            .map(record)
            .collect()
    }

    /// Every barrier, for suggestions (citations are short; the register
    /// holds one row per rule, not per case).
    pub async fn all_barriers(&self) -> Result<Vec<BarrierRecord>, StoreError> {
        self.count();
        barrier::Entity::find()
            .order_by_asc(barrier::Column::Id)
            .all(&self.read)
            .await?
            .into_iter()
            .map(record)
            .collect()
    }

    /// Whether `scope` may see barrier `id`.
    pub async fn barrier_visible(&self, scope: &BarrierScope, id: i64) -> Result<bool, StoreError> {
        Ok(!self
            .list_barriers(scope, &BarrierQuery::default(), Some(id), None, 1)
            .await?
            .is_empty())
    }

    /// A page of barriers, newest first. `only` restricts to one id.
    pub async fn list_barriers(
        &self,
        scope: &BarrierScope,
        q: &BarrierQuery,
        only: Option<i64>,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<BarrierRecord>, StoreError> {
        self.count();
        let Some(mut cond) = barrier_scope_condition(scope) else {
            return Ok(Vec::new());
        };
        if let Some(m) = &q.ministry {
            cond = cond.add(barrier::Column::OwningMinistry.eq(m.clone()));
        }
        if let Some(s) = q.status {
            cond = cond.add(barrier::Column::Status.eq(s.as_str()));
        }
        if let Some(a) = &q.area {
            cond = cond.add(in_areas(std::slice::from_ref(a)));
        }
        if let Some(d) = q.evaluation_due_by {
            let d = date_text(d);
            cond = cond
                .add(barrier::Column::Status.eq(BarrierStatus::BreakthroughDecided.as_str()))
                .add(barrier::Column::DecisionOutcome.eq(Outcome::Experiment.as_str()))
                .add(
                    Condition::any()
                        .add(barrier::Column::ExperimentEnds.lte(d.clone()))
                        .add(barrier::Column::EvaluationDate.lte(d)),
                );
        }
        if let Some(id) = only {
            cond = cond.add(barrier::Column::Id.eq(id));
        }
        if let Some(a) = after {
            cond = cond.add(barrier::Column::Id.lt(a));
        }
        barrier::Entity::find()
            .filter(cond)
            .order_by_desc(barrier::Column::Id)
            .at_most(limit, &self.read)
            .await?
            .into_iter()
            .map(record)
            .collect()
    }

    /// The cases linked to some barriers: (barrier id, case id, reference,
    /// state, area, outcome). Never any text.
    pub async fn barrier_cases(&self, ids: &[i64]) -> Result<Vec<LinkedCase>, StoreError> {
        self.count();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = case::Entity::find()
            .filter(case::Column::BarrierId.is_in(ids.iter().copied()))
            .order_by_asc(case::Column::Id)
            .all(&self.read)
            .await?;
        rows.into_iter()
            .filter_map(|r| {
                let barrier = r.barrier_id?;
                Some(case_from_row(r).map(|case| LinkedCase { barrier, case }))
            })
            .collect()
    }

    /// The titles of the cases linked to some barriers (for suggestions;
    /// titles only, never descriptions).
    pub async fn titles_of_barriers(&self, ids: &[i64]) -> Result<Vec<LinkedTitle>, StoreError> {
        self.count();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(Option<i64>, String)> = case::Entity::find()
            .select_only()
            .column(case::Column::BarrierId)
            .column(case::Column::Title)
            .filter(case::Column::BarrierId.is_in(ids.iter().copied()))
            .into_tuple()
            .all(&self.read)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(b, title)| b.map(|barrier| LinkedTitle { barrier, title }))
            .collect())
    }

    /// Records that a decided barrier's change is in force.
    pub async fn record_implementation(
        &self,
        id: i64,
        in_force_on: NaiveDate,
        note: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.count();
        let r = barrier::Entity::update_many()
            .col_expr(
                barrier::Column::Status,
                Expr::value(BarrierStatus::Implemented.as_str()),
            )
            .col_expr(
                barrier::Column::InForceOn,
                Expr::value(date_text(in_force_on)),
            )
            .col_expr(barrier::Column::ImplementationNote, Expr::value(note))
            .col_expr(barrier::Column::ImplementedAt, Expr::value(ms(now)))
            .filter(barrier::Column::Id.eq(id))
            .filter(barrier::Column::Status.eq(BarrierStatus::BreakthroughDecided.as_str()))
            .exec(&self.write)
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Resolved cases whose citation or explanation match `query`, best
    /// first, with the database's own full-text search. The ranking looks
    /// at the [`PRECEDENT_WINDOW`] most recent matches only, so a search for
    /// a common word costs the same at a million cases as at a thousand
    /// (the index walks its matches newest first and stops there).
    pub async fn search_precedents(
        &self,
        words: &[String],
        limit: u64,
    ) -> Result<Vec<PrecedentHit>, StoreError> {
        self.count();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        match self.backend {
            Backend::Sqlite => self.search_precedents_sqlite(words, limit).await,
            Backend::Postgres => {
                let stmt = Statement::from_sql_and_values(
                    self.read.get_database_backend(),
                    "SELECT c.id, c.reference, c.rule_citation, c.resolution_outcome, c.resolution_explanation, \
                     c.focus_area, c.resolution_decided_at FROM \
                     (SELECT * FROM cases WHERE state = 'RESOLVED' AND to_tsvector('dutch', rule_citation || ' ' || coalesce(resolution_explanation, '')) \
                      @@ plainto_tsquery('dutch', $1) ORDER BY id DESC LIMIT $2) c \
                     ORDER BY ts_rank(to_tsvector('dutch', c.rule_citation || ' ' || coalesce(c.resolution_explanation, '')), plainto_tsquery('dutch', $1)) DESC, c.id DESC LIMIT $3",
                    [
                        words.join(" ").into(),
                        PRECEDENT_WINDOW.into(),
                        (limit as i64).into(),
                    ],
                );
                let rows = self.read.query_all_raw(stmt).await?;
                rows.iter().map(precedent_hit).collect()
            }
        }
    }

    /// SQLite: the newest matches from the full-text index, read lazily
    /// newest first (each word is a prefix term of exactly its length, so
    /// one of the index's prefix indexes answers it, see
    /// `migration::PRECEDENT_PREFIXES`); a word longer than the longest prefix index
    /// is looked up by that prefix and the candidates are checked in our
    /// own code, paging on until the window is full. The window is ranked
    /// by [`doorbraak_core::search::rank`].
    async fn search_precedents_sqlite(
        &self,
        words: &[String],
        limit: u64,
    ) -> Result<Vec<PrecedentHit>, StoreError> {
        use doorbraak_core::search;
        let mut checked = false;
        let expr = words
            .iter()
            .map(|w| {
                let w = search::fold(w);
                let term: String = if w.chars().count() > PRECEDENT_PREFIX_MAX {
                    checked = true;
                    w.chars().take(PRECEDENT_PREFIX_MAX).collect()
                } else {
                    w
                };
                format!("\"{}\"*", term.replace('"', ""))
            })
            .collect::<Vec<_>>()
            .join(" ");
        // Each match with the text it was checked by and is ranked by.
        let mut hits: Vec<(PrecedentHit, String)> = Vec::new();
        let mut before = i64::MAX;
        for _ in 0..PRECEDENT_PAGES {
            let stmt = Statement::from_sql_and_values(
                sea_orm::DbBackend::Sqlite,
                "SELECT f.rowid AS fid, c.id, c.state, c.reference, c.rule_citation, c.resolution_outcome, \
                 c.resolution_explanation, c.focus_area, c.resolution_decided_at FROM \
                 (SELECT rowid FROM precedents_fts WHERE precedents_fts MATCH ? AND rowid < ? \
                  ORDER BY rowid DESC LIMIT ?) f \
                 LEFT JOIN cases c ON c.id = f.rowid ORDER BY f.rowid DESC",
                [expr.clone().into(), before.into(), PRECEDENT_WINDOW.into()],
            );
            let rows = self.read.query_all_raw(stmt).await?;
            for r in &rows {
                // The index holds resolved cases only; a row that is not
                // (or no longer) one is left out rather than trusted.
                if r.try_get::<Option<String>>("", "state")
                    .ok()
                    .flatten()
                    .as_deref()
                    != Some("RESOLVED")
                {
                    continue;
                }
                let hit = precedent_hit(r)?;
                let text = format!("{} {}", hit.citation, hit.explanation);
                if checked && !search::holds_every_word(words, &text) {
                    continue;
                }
                hits.push((hit, text));
            }
            let full = rows.len() as i64 == PRECEDENT_WINDOW;
            if !checked || !full || hits.len() as i64 >= PRECEDENT_WINDOW {
                break;
            }
            before = rows
                .last()
                .and_then(|r| r.try_get::<i64>("", "fid").ok())
                .unwrap_or(i64::MIN);
        }
        hits.truncate(PRECEDENT_WINDOW as usize);
        let texts: Vec<&str> = hits.iter().map(|(_, t)| t.as_str()).collect();
        let order = search::rank(words, &texts);
        Ok(order
            .into_iter()
            .take(limit as usize)
            .map(|i| hits[i].0.clone())
            .collect())
    }

    /// For statistics only (no scope: the caller checked who may see
    /// them): each event's resulting state and time, per case, in
    /// sequence order; everything [`doorbraak_core::level_durations_of`]
    /// needs, without the events' texts and effects.
    pub async fn state_steps(
        &self,
        case_ids: &[CaseId],
    ) -> Result<Vec<(CaseId, doorbraak_core::CaseState, Timestamp)>, StoreError> {
        self.count();
        crate::stats::steps_on(&self.read, case_ids).await
    }

    /// The statistic rows of the cases whose rule a ministry owns (through
    /// their barrier, or their own citation when not linked).
    pub async fn stat_rows(&self, ministry: &str) -> Result<Vec<StatRow>, StoreError> {
        self.count();
        use futures_util::TryStreamExt;
        use sea_orm::StreamTrait;
        // Streamed and converted row by row: a ministry has many cases, and
        // holding the driver's rows for all of them at once is what set the
        // server's peak memory.
        let q = crate::stats::owned_by(ministry);
        let mut rows = self.read.stream(&q).await?;
        let mut out = Vec::new();
        while let Some(r) = rows.try_next().await? {
            let (case_id, _, c) = crate::stats::stat_row(&r)?;
            out.push(StatRow {
                case_id,
                focus_area: c.focus_area,
                domains: c.domains,
                created_at: c.created_at,
                state: c.state,
                outcome: c.outcome,
                funds_cents: c.funds_cents,
                decided_at: c.decided_at,
                barrier_id: c.barrier_id,
            });
        }
        Ok(out)
    }
}

/// A precedent from a row of `cases` (its id, reference, citation,
/// outcome, explanation, area and decision time).
fn precedent_hit(r: &sea_orm::QueryResult) -> Result<PrecedentHit, StoreError> {
    let get = |c: &str| -> Result<String, StoreError> {
        r.try_get::<String>("", c)
            .map_err(|e| StoreError::Corrupt(format!("{c}: {e:?}")))
    };
    Ok(PrecedentHit {
        case_id: r
            .try_get::<i64>("", "id")
            .map_err(|e| StoreError::Corrupt(format!("{e:?}")))?,
        reference: get("reference")?,
        citation: get("rule_citation")?,
        outcome: parse("outcome", &get("resolution_outcome")?)?,
        explanation: get("resolution_explanation")?,
        focus_area: get("focus_area")?,
        resolved_at: from_ms(
            r.try_get::<i64>("", "resolution_decided_at")
                .map_err(|e| StoreError::Corrupt(format!("{e:?}")))?,
        )?,
    })
}

pub(crate) async fn insert_barrier(
    txn: &DatabaseTransaction,
    new: &NewBarrier,
    by: UserId,
    now: Timestamp,
) -> Result<i64, StoreError> {
    Ok(barrier::Entity::insert(new_barrier_row(new, by, now, None))
        .exec_with_returning(txn)
        .await?
        .id)
}

/// The row of a new (open) barrier; `id` unset: the database assigns it.
pub(crate) fn new_barrier_row(
    new: &NewBarrier,
    by: UserId,
    now: Timestamp,
    id: Option<i64>,
) -> barrier::ActiveModel {
    let mut row = barrier::ActiveModel {
        citation: Set(new.citation.clone()),
        bwb_id: Set(new.bwb_id.clone()),
        scope: Set(new.scope.as_str().to_owned()),
        owning_ministry: Set(new.owning_ministry.clone()),
        status: Set(BarrierStatus::Open.as_str().to_owned()),
        created_at: Set(ms(now)),
        created_by: Set(by),
        ..Default::default()
    };
    if let Some(id) = id {
        row.id = Set(id);
    }
    row
}

/// The columns a barrier change sets.
pub(crate) fn barrier_change(b: &BarrierChange) -> barrier::ActiveModel {
    let mut m = barrier::ActiveModel {
        status: Set(b.status.as_str().to_owned()),
        ..Default::default()
    };
    match b.status {
        BarrierStatus::BreakthroughDecided => {
            m.decision_outcome = Set(b.outcome.map(|o| o.as_str().to_owned()));
            m.decision_note = Set(b.note.clone());
            m.decided_at = Set(Some(ms(b.at)));
            m.effective_from = Set(b.effective_from.map(date_text));
            m.experiment_ends = Set(b.experiment_ends.map(date_text));
            m.evaluation_date = Set(b.evaluation_date.map(date_text));
        }
        BarrierStatus::NoBreakthrough => {
            m.decision_note = Set(b.note.clone());
            m.refused_at = Set(Some(ms(b.at)));
        }
        BarrierStatus::Open | BarrierStatus::Implemented => {}
    }
    m
}

/// SQLite: the statement that keeps the precedent index (`precedents_fts`)
/// in step with a transition, if it changes it. (PostgreSQL indexes the
/// resolved cases themselves.)
pub(crate) fn precedent_statement(
    case_id: CaseId,
    citation: &str,
    explanation: Option<&str>,
    change: PrecedentChange,
) -> Option<Statement> {
    let db = sea_orm::DbBackend::Sqlite;
    match change {
        PrecedentChange::None => None,
        PrecedentChange::Index => Some(Statement::from_sql_and_values(
            db,
            "INSERT OR REPLACE INTO precedents_fts(rowid, citation, explanation) VALUES (?, ?, ?)",
            [
                case_id.into(),
                citation.into(),
                explanation.unwrap_or_default().into(),
            ],
        )),
        PrecedentChange::Remove => Some(Statement::from_sql_and_values(
            db,
            "DELETE FROM precedents_fts WHERE rowid = ?",
            [case_id.into()],
        )),
    }
}

#[cfg(test)]
mod prefix_tests {
    use super::*;

    #[test]
    fn the_prefix_indexes_cover_every_word_length_up_to_the_longest() {
        let lengths: Vec<usize> = migration::PRECEDENT_PREFIXES
            .split(' ')
            .map(|n| n.parse().unwrap())
            .collect();
        let wanted: Vec<usize> =
            (doorbraak_core::search::MIN_WORD_CHARS..=PRECEDENT_PREFIX_MAX).collect();
        assert_eq!(lengths, wanted);
    }

    async fn table_sql(store: &Store) -> String {
        let row = store
            .write
            .query_one_raw(Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "SELECT sql FROM sqlite_master WHERE name = 'precedents_fts'",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<String>("", "sql").unwrap()
    }

    async fn matches(store: &Store, expr: &str) -> Vec<i64> {
        let rows = store
            .write
            .query_all_raw(Statement::from_sql_and_values(
                sea_orm::DbBackend::Sqlite,
                "SELECT rowid FROM precedents_fts WHERE precedents_fts MATCH ? ORDER BY rowid DESC",
                [expr.into()],
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| r.try_get::<i64>("", "rowid").unwrap())
            .collect()
    }

    #[tokio::test]
    async fn the_rebuilt_index_keeps_its_rows_both_ways() {
        use migration::{Migrator, MigratorTrait};
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("p.db").display());
        let store = Store::connect(&url).await.unwrap();
        Migrator::up(&store.write, Some(8)).await.unwrap();
        assert!(!table_sql(&store).await.contains("prefix"));
        store
            .write
            .execute_unprepared(
                "INSERT INTO precedents_fts(rowid, citation, explanation) VALUES \
                 (7, 'Participatiewet art. 31', 'De kostendelersnorm geldt niet.'), \
                 (9, 'Wet kinderopvang art. 1.5', 'De toeslag loopt door.')",
            )
            .await
            .unwrap();
        Migrator::up(&store.write, None).await.unwrap();
        assert!(
            table_sql(&store)
                .await
                .contains(migration::PRECEDENT_PREFIXES),
            "{}",
            table_sql(&store).await
        );
        assert_eq!(matches(&store, "\"kosten\"*").await, vec![7]);
        assert_eq!(matches(&store, "\"art\"*").await, vec![9, 7]);
        assert_eq!(
            matches(&store, "\"wet\"*").await,
            vec![9],
            "a word's start, not its middle"
        );
        // Back to where migration 8 left it, whatever came after 9.
        let after_8 = (Migrator::migrations().len() - 8) as u32;
        Migrator::down(&store.write, Some(after_8)).await.unwrap();
        assert!(!table_sql(&store).await.contains("prefix"));
        assert_eq!(matches(&store, "\"art\"*").await, vec![9, 7]);
    }
}
