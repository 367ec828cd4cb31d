//! The statistics' sums (migration 8; the arithmetic is
//! `doorbraak_core::stats`): finding the cases whose contribution may have
//! changed, folding them in, and reading what a period needs in one
//! snapshot.
//!
//! **Invariant:** `stat_nodes` is exactly the sum of the contributions in
//! `stat_cases`, and a case whose `stat_dirty` is 0 contributes what its
//! `stat_cases` row says. Folding keeps both in one transaction (and, on
//! PostgreSQL, under an advisory lock, so two instances never fold the same
//! case at once); a transition that can change a contribution sets
//! `stat_dirty` in its own update, and the folder clears it only if the
//! case's version is still the one it read.

use std::collections::{BTreeMap, HashMap, HashSet};

use doorbraak_core::stats::{Contribution, Cover, Grain, NodeKey, StatCase, Tally};
use doorbraak_core::{CaseId, CaseState, Timestamp};
use futures_util::TryStreamExt;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, OnConflict, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, StreamTrait, TransactionTrait,
};

use crate::convert::{domains_from_text, from_ms, parse};
use crate::entity::{barrier, case, case_event, stat_case, stat_node};
use crate::{Backend, Store, StoreError};

/// The advisory lock that serialises folding across PostgreSQL instances.
const FOLD_LOCK: i64 = 0x646f_6f72_7374; // "doorst"

/// Rows per multi-row statement (well inside both databases' limits on
/// bound values).
const CHUNK: usize = 500;

/// A case's statistic columns with its state steps.
#[derive(Debug, Clone)]
pub struct StatInput {
    pub id: CaseId,
    pub version: i32,
    pub case: StatCase,
    pub steps: Vec<(CaseState, Timestamp)>,
}

impl StatInput {
    /// What the case adds now.
    pub fn contribution(&self) -> Option<Contribution> {
        Contribution::of(&self.case, self.steps.iter().copied())
    }
}

/// What one ministry's statistics for a period are computed from, read in
/// one snapshot.
#[derive(Debug, Default)]
pub struct StatSnapshot {
    /// The sums of the period's whole years, months and days.
    pub nodes: Tally,
    /// The series' all-time sum (the per-barrier counts).
    pub all_time: Tally,
    /// What the ministry's dirty cases were folded in as.
    pub dirty_folded: Vec<Contribution>,
    /// The dirty cases of the ministry as they are now.
    pub dirty_now: Vec<StatInput>,
    /// The cases of the ministry submitted or decided in one of the
    /// period's edges, as they are now.
    pub edges_now: Vec<StatInput>,
}

/// The ministry that owns a case's rule: its barrier's, else its own
/// citation's (with `barriers` joined on the case's barrier).
fn owner() -> Expr {
    Func::coalesce([
        Expr::col((barrier::Entity, barrier::Column::OwningMinistry)),
        Expr::col((case::Entity, case::Column::RuleMinistry)),
    ])
    .into()
}

/// Cases with the ministry that owns their rule (their barrier's, else
/// their own citation's).
fn stat_select() -> SelectStatement {
    Query::select()
        .columns(
            [
                case::Column::Id,
                case::Column::Version,
                case::Column::FocusArea,
                case::Column::Domains,
                case::Column::CreatedAt,
                case::Column::State,
                case::Column::ResolutionOutcome,
                case::Column::ResolutionFundsCents,
                case::Column::ResolutionDecidedAt,
                case::Column::BarrierId,
            ]
            .map(|c| (case::Entity, c)),
        )
        .expr_as(owner(), Alias::new("owner"))
        .from(case::Entity)
        .left_join(
            barrier::Entity,
            Expr::col((barrier::Entity, barrier::Column::Id))
                .equals((case::Entity, case::Column::BarrierId)),
        )
        .to_owned()
}

/// The cases whose rule `ministry` owns, in id order.
pub(crate) fn owned_by(ministry: &str) -> SelectStatement {
    stat_select()
        .and_where(owner().eq(ministry))
        .order_by((case::Entity, case::Column::Id), sea_orm::Order::Asc)
        .to_owned()
}

fn corrupt(e: sea_orm::DbErr) -> StoreError {
    StoreError::Corrupt(format!("{e:?}"))
}

pub(crate) fn stat_row(r: &sea_orm::QueryResult) -> Result<(CaseId, i32, StatCase), StoreError> {
    let g = |c: &str| r.try_get::<Option<String>>("", c).map_err(corrupt);
    Ok((
        r.try_get::<i64>("", "id").map_err(corrupt)?,
        r.try_get::<i32>("", "version").map_err(corrupt)?,
        StatCase {
            ministry: g("owner")?,
            focus_area: r.try_get::<String>("", "focus_area").map_err(corrupt)?,
            domains: domains_from_text(&r.try_get::<String>("", "domains").map_err(corrupt)?)?,
            created_at: from_ms(r.try_get::<i64>("", "created_at").map_err(corrupt)?)?,
            state: parse("state", &r.try_get::<String>("", "state").map_err(corrupt)?)?,
            outcome: g("resolution_outcome")?
                .as_deref()
                .map(|o| parse("outcome", o))
                .transpose()?,
            funds_cents: r
                .try_get::<Option<i64>>("", "resolution_funds_cents")
                .map_err(corrupt)?,
            decided_at: r
                .try_get::<Option<i64>>("", "resolution_decided_at")
                .map_err(corrupt)?
                .map(from_ms)
                .transpose()?,
            barrier_id: r
                .try_get::<Option<i64>>("", "barrier_id")
                .map_err(corrupt)?,
        },
    ))
}

/// Each event's resulting state and time for `ids`, per case in sequence
/// order, on `db`.
pub(crate) async fn steps_on<C: ConnectionTrait + StreamTrait>(
    db: &C,
    ids: &[CaseId],
) -> Result<Vec<(CaseId, CaseState, Timestamp)>, StoreError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(5_000) {
        let part: Vec<(CaseId, CaseState, Timestamp)> = case_event::Entity::find()
            .select_only()
            .column(case_event::Column::CaseId)
            .column(case_event::Column::ToState)
            .column(case_event::Column::At)
            .filter(case_event::Column::CaseId.is_in(chunk.iter().copied()))
            .order_by_asc(case_event::Column::CaseId)
            .order_by_asc(case_event::Column::Sequence)
            .into_tuple::<(i64, String, i64)>()
            .stream(db)
            .await?
            .map_err(StoreError::from)
            .and_then(|(case, state, at)| async move {
                Ok((case, parse("state", &state)?, from_ms(at)?))
            })
            .try_collect()
            .await?;
        out.extend(part);
    }
    Ok(out)
}

/// The cases `q` selects (from [`stat_select`]) whose owner `keep` accepts,
/// with their steps.
async fn inputs_on<C: ConnectionTrait + StreamTrait>(
    db: &C,
    q: Statement,
    keep: impl Fn(&StatCase) -> bool,
) -> Result<Vec<StatInput>, StoreError> {
    let mut found: Vec<StatInput> = Vec::new();
    for r in db.query_all_raw(q).await? {
        let (id, version, case) = stat_row(&r)?;
        if keep(&case) {
            found.push(StatInput {
                id,
                version,
                case,
                steps: Vec::new(),
            });
        }
    }
    attach_steps(db, &mut found).await?;
    Ok(found)
}

/// Reads the steps of `inputs` into them.
async fn attach_steps<C: ConnectionTrait + StreamTrait>(
    db: &C,
    inputs: &mut [StatInput],
) -> Result<(), StoreError> {
    let ids: Vec<CaseId> = inputs.iter().map(|i| i.id).collect();
    let mut steps: HashMap<CaseId, Vec<(CaseState, Timestamp)>> = HashMap::new();
    for (id, s, at) in steps_on(db, &ids).await? {
        steps.entry(id).or_default().push((s, at));
    }
    for i in inputs {
        i.steps = steps.remove(&i.id).unwrap_or_default();
    }
    Ok(())
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("statistics: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(v: &str) -> Result<T, StoreError> {
    serde_json::from_str(v).map_err(|e| StoreError::Corrupt(format!("statistics: {e}")))
}

/// `grain = g AND start IN (…)` for each grain of `keys`.
fn node_condition(keys: &[&NodeKey]) -> Condition {
    let mut by_grain: BTreeMap<Grain, Vec<i64>> = BTreeMap::new();
    for k in keys {
        by_grain.entry(k.grain).or_default().push(k.start);
    }
    let mut any = Condition::any();
    for (g, starts) in by_grain {
        any = any.add(
            Condition::all()
                .add(stat_node::Column::Grain.eq(g.code()))
                .add(stat_node::Column::Start.is_in(starts)),
        );
    }
    any
}

impl Store {
    /// Up to `limit` cases whose contribution may have changed since they
    /// were folded in, oldest first, with what they add now.
    pub async fn dirty_stat_cases(&self, limit: u64) -> Result<Vec<StatInput>, StoreError> {
        self.count();
        let q = stat_select()
            .and_where(Expr::col((case::Entity, case::Column::StatDirty)).eq(1))
            .order_by((case::Entity, case::Column::Id), sea_orm::Order::Asc)
            .to_owned();
        let q = crate::limited::with_limit(
            ConnectionTrait::get_database_backend(&self.read).build(&q),
            limit,
        );
        inputs_on(&self.read, q, |_| true).await
    }

    /// Folds `inputs` (from [`Store::dirty_stat_cases`]) into the sums:
    /// takes away what each was folded in as, adds what it adds now, and
    /// marks it clean if its version is still the one read. Returns how
    /// many contributions changed.
    pub async fn fold_stats(&self, inputs: &[StatInput]) -> Result<usize, StoreError> {
        self.count();
        if inputs.is_empty() {
            return Ok(0);
        }
        let txn = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({FOLD_LOCK})"))
                .await?;
        }
        let ids: Vec<CaseId> = inputs.iter().map(|i| i.id).collect();
        let mut old: HashMap<CaseId, Contribution> = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            for r in stat_case::Entity::find()
                .filter(stat_case::Column::CaseId.is_in(chunk.iter().copied()))
                .all(&txn)
                .await?
            {
                old.insert(r.case_id, from_json(&r.contribution)?);
            }
        }
        let mut deltas: HashMap<NodeKey, Tally> = HashMap::new();
        let mut upserts: Vec<stat_case::ActiveModel> = Vec::new();
        let mut removed: Vec<CaseId> = Vec::new();
        for i in inputs {
            let now = i.contribution();
            let was = old.get(&i.id);
            if was == now.as_ref() {
                continue;
            }
            for (c, sign) in [(was, -1), (now.as_ref(), 1)] {
                for (k, t) in c.map(Contribution::entries).unwrap_or_default() {
                    deltas.entry(k).or_default().add(&t, sign);
                }
            }
            match &now {
                Some(c) => upserts.push(stat_case::ActiveModel {
                    case_id: sea_orm::ActiveValue::Set(i.id),
                    ministry: sea_orm::ActiveValue::Set(c.ministry.clone()),
                    contribution: sea_orm::ActiveValue::Set(to_json(c)?),
                }),
                None => removed.push(i.id),
            }
        }
        deltas.retain(|_, t| !t.is_empty());
        let changed = upserts.len() + removed.len();
        self.apply_deltas(&txn, deltas).await?;
        for chunk in upserts.chunks(CHUNK) {
            stat_case::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::column(stat_case::Column::CaseId)
                        .update_columns([
                            stat_case::Column::Ministry,
                            stat_case::Column::Contribution,
                        ])
                        .to_owned(),
                )
                .exec(&txn)
                .await?;
        }
        for chunk in removed.chunks(CHUNK) {
            stat_case::Entity::delete_many()
                .filter(stat_case::Column::CaseId.is_in(chunk.iter().copied()))
                .exec(&txn)
                .await?;
        }
        for chunk in inputs.chunks(CHUNK) {
            let mut read_as = Condition::any();
            for i in chunk {
                read_as = read_as.add(
                    Condition::all()
                        .add(case::Column::Id.eq(i.id))
                        .add(case::Column::Version.eq(i.version)),
                );
            }
            case::Entity::update_many()
                .col_expr(case::Column::StatDirty, Expr::val(0))
                .filter(case::Column::StatDirty.eq(1))
                .filter(read_as)
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(changed)
    }

    /// Adds `deltas` to the stored sums, dropping those that come to
    /// nothing.
    async fn apply_deltas(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        deltas: HashMap<NodeKey, Tally>,
    ) -> Result<(), StoreError> {
        let mut groups: BTreeMap<(String, String), Vec<NodeKey>> = BTreeMap::new();
        for k in deltas.keys() {
            groups
                .entry((k.ministry.clone(), k.series.clone()))
                .or_default()
                .push(k.clone());
        }
        let mut sums: HashMap<NodeKey, Tally> = HashMap::new();
        for ((ministry, series), keys) in &groups {
            for chunk in keys.chunks(CHUNK) {
                let refs: Vec<&NodeKey> = chunk.iter().collect();
                for n in stat_node::Entity::find()
                    .filter(stat_node::Column::Ministry.eq(ministry.as_str()))
                    .filter(stat_node::Column::Series.eq(series.as_str()))
                    .filter(node_condition(&refs))
                    .all(txn)
                    .await?
                {
                    let grain = Grain::parse(&n.grain)
                        .ok_or_else(|| StoreError::Corrupt(format!("grain `{}`", n.grain)))?;
                    sums.insert(
                        NodeKey {
                            ministry: n.ministry,
                            series: n.series,
                            grain,
                            start: n.start,
                        },
                        from_json(&n.tally)?,
                    );
                }
            }
        }
        let mut upserts: Vec<stat_node::ActiveModel> = Vec::new();
        let mut emptied: Vec<NodeKey> = Vec::new();
        for (k, d) in deltas {
            let existed = sums.contains_key(&k);
            let t = sums.entry(k.clone()).or_default();
            t.add(&d, 1);
            if t.is_empty() {
                if existed {
                    emptied.push(k);
                }
                continue;
            }
            upserts.push(stat_node::ActiveModel {
                ministry: sea_orm::ActiveValue::Set(k.ministry.clone()),
                series: sea_orm::ActiveValue::Set(k.series.clone()),
                grain: sea_orm::ActiveValue::Set(k.grain.code().to_owned()),
                start: sea_orm::ActiveValue::Set(k.start),
                tally: sea_orm::ActiveValue::Set(to_json(t)?),
            });
        }
        for chunk in upserts.chunks(CHUNK) {
            stat_node::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([
                        stat_node::Column::Ministry,
                        stat_node::Column::Series,
                        stat_node::Column::Grain,
                        stat_node::Column::Start,
                    ])
                    .update_column(stat_node::Column::Tally)
                    .to_owned(),
                )
                .exec(txn)
                .await?;
        }
        for k in emptied {
            stat_node::Entity::delete_many()
                .filter(stat_node::Column::Ministry.eq(k.ministry))
                .filter(stat_node::Column::Series.eq(k.series))
                .filter(stat_node::Column::Grain.eq(k.grain.code()))
                .filter(stat_node::Column::Start.eq(k.start))
                .exec(txn)
                .await?;
        }
        Ok(())
    }

    /// Everything one ministry's statistics over `cover` in `series` are
    /// computed from, in one snapshot (a read transaction; REPEATABLE READ
    /// on PostgreSQL), so the sums and the dirty cases agree.
    pub async fn stat_snapshot(
        &self,
        ministry: &str,
        series: &str,
        cover: &Cover,
    ) -> Result<StatSnapshot, StoreError> {
        use sea_orm::{AccessMode, IsolationLevel, TransactionOptions};
        self.count();
        let txn = match self.backend {
            Backend::Sqlite => self.read.begin().await?,
            Backend::Postgres => {
                self.read
                    .begin_with_options(TransactionOptions {
                        isolation_level: Some(IsolationLevel::RepeatableRead),
                        access_mode: Some(AccessMode::ReadOnly),
                        sqlite_transaction_mode: None,
                    })
                    .await?
            }
        };
        let mut snap = StatSnapshot::default();
        let nodes = stat_node::Entity::find()
            .select_only()
            .column(stat_node::Column::Grain)
            .column(stat_node::Column::Tally)
            .filter(stat_node::Column::Ministry.eq(ministry))
            .filter(stat_node::Column::Series.eq(series));
        let mut wanted = Condition::any().add(
            Condition::all()
                .add(stat_node::Column::Grain.eq(Grain::All.code()))
                .add(stat_node::Column::Start.eq(0)),
        );
        for r in &cover.nodes {
            wanted = wanted.add(
                Condition::all()
                    .add(stat_node::Column::Grain.eq(r.grain.code()))
                    .add(stat_node::Column::Start.between(r.first, r.last)),
            );
        }
        let mut rows = nodes
            .filter(wanted)
            .into_tuple::<(String, String)>()
            .stream(&txn)
            .await?;
        while let Some((grain, tally)) = rows.try_next().await? {
            let t: Tally = from_json(&tally)?;
            if grain == Grain::All.code() {
                snap.all_time.add(&t, 1);
            } else {
                snap.nodes.add(&t, 1);
            }
        }
        drop(rows);

        let owned = |c: &StatCase| c.ministry.as_deref() == Some(ministry);
        let dirty = stat_select()
            .and_where(Expr::col((case::Entity, case::Column::StatDirty)).eq(1))
            .to_owned();
        let mut dirty_ids: Vec<CaseId> = Vec::new();
        for r in txn.query_all(&dirty).await? {
            let (id, version, case) = stat_row(&r)?;
            dirty_ids.push(id);
            if owned(&case) {
                snap.dirty_now.push(StatInput {
                    id,
                    version,
                    case,
                    steps: Vec::new(),
                });
            }
        }
        attach_steps(&txn, &mut snap.dirty_now).await?;
        for chunk in dirty_ids.chunks(CHUNK) {
            for r in stat_case::Entity::find()
                .filter(stat_case::Column::CaseId.is_in(chunk.iter().copied()))
                .filter(stat_case::Column::Ministry.eq(ministry))
                .all(&txn)
                .await?
            {
                snap.dirty_folded.push(from_json(&r.contribution)?);
            }
        }

        let mut seen: HashSet<CaseId> = HashSet::new();
        for (a, b) in &cover.edges {
            for col in [case::Column::CreatedAt, case::Column::ResolutionDecidedAt] {
                let mut q = stat_select();
                let at = Expr::col((case::Entity, col));
                q.and_where(at.clone().is_not_null());
                if let Some(a) = a {
                    q.and_where(at.clone().gte(*a));
                }
                if let Some(b) = b {
                    q.and_where(at.lt(*b));
                }
                for i in inputs_on(
                    &txn,
                    ConnectionTrait::get_database_backend(&txn).build(&q),
                    owned,
                )
                .await?
                {
                    if seen.insert(i.id) {
                        snap.edges_now.push(i);
                    }
                }
            }
        }
        txn.commit().await?;
        Ok(snap)
    }
}

#[cfg(test)]
mod tests {
    use doorbraak_core::stats::{Contribution, StatCase};
    use doorbraak_core::{CaseState, PolicyDomain};

    /// What is stored reads back the same, a closure without breakthrough
    /// (no outcome, but counted) included: folding again must take away
    /// exactly what it added.
    #[test]
    fn a_contribution_reads_back_as_it_was_stored() {
        let at = chrono::DateTime::from_timestamp_millis(1_750_000_000_000).unwrap();
        for (state, outcome) in [
            (CaseState::ClosedNoBreakthrough, None),
            (
                CaseState::Resolved,
                Some(doorbraak_core::Outcome::Experiment),
            ),
            (CaseState::AtAlliance, None),
        ] {
            let c = Contribution::of(
                &StatCase {
                    ministry: Some("SZW".into()),
                    focus_area: "RTM".into(),
                    domains: vec![PolicyDomain::Housing],
                    created_at: at,
                    state,
                    outcome,
                    funds_cents: Some(100),
                    decided_at: Some(at + chrono::TimeDelta::days(3)),
                    barrier_id: Some(4),
                },
                [(CaseState::AtProgrammeBureau, at)],
            )
            .unwrap();
            let back: Contribution = super::from_json(&super::to_json(&c).unwrap()).unwrap();
            assert_eq!(back, c, "{state:?}");
            assert_eq!(back.created_tally(), c.created_tally());
            assert_eq!(back.decided_tally(), c.decided_tally());
        }
    }
}
