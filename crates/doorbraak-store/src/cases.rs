//! The case repository: submission, transitions, lookups and lists.

use crate::limited::Limited;
use chrono::Datelike;
use doorbraak_core::{
    Case, CaseId, CaseReference, CaseState, Event, Level, NewCase, ReadScope, Status, Timestamp,
    Urgency, UserId, apply,
};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};

use crate::convert::{
    case_from_row, domains_to_text, effect_to_json, event_from_row, ms, set_status,
};
use crate::entity::{case, case_event};
use crate::{Store, StoreError};

/// One event of a case's log, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub case_id: CaseId,
    pub sequence: i32,
    pub event: Event,
}

/// Filters of a case list. Empty vectors and `None` mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseQuery {
    pub states: Vec<CaseState>,
    pub levels: Vec<Level>,
    pub areas: Vec<String>,
    pub assignee: Option<UserId>,
    /// Only open cases at a level whose deadline is before this instant.
    pub overdue_at: Option<Timestamp>,
    pub urgency: Option<Urgency>,
    /// Only open cases whose barrier already has a breakthrough decided
    /// (they can be resolved by reference).
    pub precedent_available: bool,
    /// Only cases linked to this barrier.
    pub barrier: Option<i64>,
    /// Only cases nobody holds.
    pub unassigned: bool,
    /// Earliest deadline first (cases without one last) instead of newest
    /// first. This order has no cursor: `after` is ignored, and the list
    /// is its first page.
    pub by_deadline: bool,
}

/// The condition of `ix_cases_open` (migration 7): the states in which a
/// case is at a level (not waiting for information, not closed).
pub(crate) const OPEN_CONDITION: &str = "state IN ('AT_PROGRAMME_BUREAU', 'AT_ALLIANCE', 'AT_NATIONAL_REPRESENTATIVE', 'AT_BREAKTHROUGH_MEETING')";

fn names<T: Copy>(v: &[T], f: impl Fn(T) -> &'static str) -> Vec<String> {
    v.iter().map(|x| f(*x).to_owned()).collect()
}

pub(crate) fn event_row(case_id: CaseId, sequence: i32, e: &Event) -> case_event::ActiveModel {
    case_event::ActiveModel {
        case_id: Set(case_id),
        sequence: Set(sequence),
        action: Set(e.action.as_str().to_owned()),
        from_state: Set(e.from_state.map(|s| s.as_str().to_owned())),
        to_state: Set(e.to_state.as_str().to_owned()),
        actor_id: Set(e.actor),
        actor_role: Set(e.actor_role.as_str().to_owned()),
        note: Set(e.note.clone()),
        at: Set(ms(e.at)),
        effect: Set(effect_to_json(&e.effect)),
        meeting_id: Set(e.meeting),
        ..Default::default()
    }
}

/// The row of a submitted case at `status` (`id` unset: the database
/// assigns it).
pub(crate) fn case_row(
    id: Option<CaseId>,
    new: &NewCase,
    reference: &str,
    submitted_by: UserId,
    created_at: Timestamp,
    status: &Status,
) -> case::ActiveModel {
    let mut row = case::ActiveModel {
        reference: Set(reference.to_owned()),
        title: Set(new.title.clone()),
        description: Set(new.description.clone()),
        focus_area: Set(new.focus_area.as_str().to_owned()),
        domains: Set(domains_to_text(&new.domains)),
        rule_citation: Set(new.rule.citation.clone()),
        rule_bwb_id: Set(new.rule.bwb_id.clone()),
        rule_scope: Set(new.rule.scope.as_str().to_owned()),
        rule_ministry: Set(new.rule.owning_ministry.clone()),
        desired_action: Set(new.desired_action.clone()),
        households_affected: Set(new.households_affected),
        estimated_cost_cents: Set(new.estimated_cost.map(|e| e.cents())),
        urgency: Set(new.urgency.as_str().to_owned()),
        submitted_by: Set(submitted_by),
        created_at: Set(ms(created_at)),
        ..Default::default()
    };
    if let Some(id) = id {
        row.id = Set(id);
    }
    set_status(&mut row, status);
    row
}

/// The ids of the cases inside a reader's scope, as a subquery; `None`
/// when the scope is every case (no filter needed).
pub(crate) fn readable_ids(scope: &ReadScope) -> Option<sea_orm::sea_query::SelectStatement> {
    if *scope == ReadScope::All {
        return None;
    }
    Some(
        sea_orm::sea_query::Query::select()
            .column(case::Column::Id)
            .from(case::Entity)
            .cond_where(scope_condition(scope))
            .to_owned(),
    )
}

/// The condition that keeps a list inside a reader's scope.
fn scope_condition(scope: &ReadScope) -> Condition {
    match scope {
        ReadScope::All => Condition::all(),
        ReadScope::SubmittedBy(id) => Condition::all().add(case::Column::SubmittedBy.eq(*id)),
        ReadScope::Areas(areas) => {
            Condition::all().add(case::Column::FocusArea.is_in(areas.iter().cloned()))
        }
        ReadScope::ReachedLevel(level) => {
            // Levels are ordered; list the ones at or above.
            let at_or_above: Vec<String> = Level::ALL
                .iter()
                .filter(|l| **l >= *level)
                .map(|l| l.as_str().to_owned())
                .collect();
            Condition::all().add(case::Column::HighestLevel.is_in(at_or_above))
        }
        ReadScope::Nothing => Condition::any(),
    }
}

impl Store {
    /// Stores a new case and its submission event in one transaction, and
    /// gives it the next reference of its area and year.
    pub async fn insert_case(
        &self,
        new: &NewCase,
        submitted_by: UserId,
        event: &Event,
    ) -> Result<Case, StoreError> {
        self.count();
        let now = event.at;
        let year = now.year();
        let status: Status = apply(None, event);
        let txn = self.begin_write().await?;
        let seq = next_reference(&txn, new.focus_area.as_str(), year).await?;
        let reference = CaseReference::new(&new.focus_area, year, seq);
        let row = case_row(None, new, reference.as_str(), submitted_by, now, &status);
        let inserted = case::Entity::insert(row).exec_with_returning(&txn).await?;
        case_event::Entity::insert(event_row(inserted.id, status.version, event))
            .exec_without_returning(&txn)
            .await?;
        let case = case_from_row(inserted)?;
        crate::outbox::enqueue_case(&txn, &case, event).await?;
        txn.commit().await?;
        self.announce();
        Ok(case)
    }

    /// Records one transition: the case row, guarded by the version the
    /// decision was taken on, its event, outbox rows and follow-ups, in one
    /// transaction ([`crate::transition`] has the statements).
    ///
    /// PostgreSQL: one statement, inside a transaction only when a
    /// follow-up must read first. SQLite: the writer thread when the store
    /// has one (a file, not an in-memory database) and nothing must be read
    /// in the transaction; otherwise the statements in an `IMMEDIATE`
    /// transaction on the sqlx writer.
    ///
    /// `coming`, from [`Store::transition_coming`] when the action began,
    /// is given back as the statements are queued.
    pub async fn record_transition(
        &self,
        before: &Case,
        decision: &doorbraak_core::Decision,
        mut coming: Option<crate::Coming>,
    ) -> Result<Status, StoreError> {
        use crate::transition::{needs_transaction, pg_statement, sqlite_statements};
        let (event, follow) = (&decision.event, &decision.follow_up);
        self.count();
        let after = apply(Some(&before.status), event);
        let in_txn = needs_transaction(follow);
        if let Some(direct) = &self.pg_direct
            && !in_txn
        {
            let moved = direct
                .rows(pg_statement(before, &after, event, follow)?)
                .await?
                == 1;
            return match moved {
                true => {
                    self.announce();
                    Ok(after)
                }
                false => Err(StoreError::VersionConflict),
            };
        }
        if self.backend == crate::Backend::Sqlite
            && !in_txn
            && let Some(w) = &self.sqlite_writer
        {
            // The webhooks' statement only when a subscription may be
            // active; the writer thread checks in the transaction.
            if !w.webhooks_active()
                && w.run_without_webhooks(
                    sqlite_statements(before, &after, event, follow, false)?,
                    coming.take(),
                )
                .await?
            {
                return Ok(after);
            }
            w.run(
                sqlite_statements(before, &after, event, follow, true)?,
                coming.take(),
            )
            .await?;
            return Ok(after);
        }
        drop(coming); // not for the writer thread
        let txn = self.begin_write().await?;
        let moved =
            crate::transition::run_in(&txn, self.backend, before, &after, event, follow).await;
        if let Err(e) = moved {
            txn.rollback().await?;
            return Err(e);
        }
        crate::meetings::place_on_agenda(&txn, before.id, event, follow).await?;
        txn.commit().await?;
        self.announce();
        Ok(after)
    }

    /// Links a case to barrier `existing`, or to a new barrier created
    /// first, all in one transaction. `event` makes the link's event from
    /// the barrier's id (the core's `link_event`): for a new barrier the id
    /// is known only here, so the event is made here, once.
    pub async fn link_case(
        &self,
        before: &Case,
        barrier: Result<i64, &crate::NewBarrier>,
        by: UserId,
        at: Timestamp,
        event: impl FnOnce(i64) -> Event + Send,
    ) -> Result<Status, StoreError> {
        self.count();
        let txn = self.begin_write().await?;
        let id = match barrier {
            Ok(id) => id,
            Err(nb) => crate::barriers::insert_barrier(&txn, nb, by, at).await?,
        };
        let event = event(id);
        let after = apply(Some(&before.status), &event);
        let none = doorbraak_core::FollowUp::default();
        let moved =
            crate::transition::run_in(&txn, self.backend, before, &after, &event, &none).await;
        if let Err(e) = moved {
            txn.rollback().await?;
            return Err(e);
        }
        txn.commit().await?;
        self.announce();
        Ok(after)
    }

    pub async fn case_by_id(&self, id: CaseId) -> Result<Option<Case>, StoreError> {
        self.count();
        if let Some(row) = self.sqlite_point.as_ref().and_then(|p| p.case(id)) {
            return row.map(case_from_row).transpose();
        }
        case::Entity::find_by_id(id)
            .first(&self.read)
            .await?
            .map(case_from_row)
            .transpose()
    }

    pub async fn case_by_reference(&self, reference: &str) -> Result<Option<Case>, StoreError> {
        self.count();
        case::Entity::find()
            .filter(case::Column::Reference.eq(reference))
            .first(&self.read)
            .await?
            .map(case_from_row)
            .transpose()
    }

    pub async fn cases_by_ids(&self, ids: &[CaseId]) -> Result<Vec<Case>, StoreError> {
        self.count();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        case::Entity::find()
            .filter(case::Column::Id.is_in(ids.iter().copied()))
            .all(&self.read)
            .await?
            .into_iter()
            .map(case_from_row)
            .collect()
    }

    /// A page of cases in `scope` matching `q`, newest first (by id), after
    /// the case `after` (exclusive). Returns at most `limit` cases.
    pub async fn list_cases(
        &self,
        scope: &ReadScope,
        q: &CaseQuery,
        after: Option<CaseId>,
        limit: u64,
    ) -> Result<Vec<Case>, StoreError> {
        self.count();
        if *scope == ReadScope::Nothing {
            return Ok(Vec::new());
        }
        let mut cond = scope_condition(scope);
        if !q.states.is_empty() {
            cond = cond.add(case::Column::State.is_in(names(&q.states, CaseState::as_str)));
        }
        if !q.levels.is_empty() {
            cond = cond.add(case::Column::Level.is_in(names(&q.levels, Level::as_str)));
        }
        if !q.areas.is_empty() {
            cond = cond.add(case::Column::FocusArea.is_in(q.areas.iter().cloned()));
        }
        if let Some(a) = q.assignee {
            cond = cond.add(match self.backend {
                // PostgreSQL keeps who holds what in a table of its own
                // (`case_holders`, migration 10), not in the cases' indexes.
                crate::Backend::Postgres => {
                    use crate::entity::case_holder;
                    case::Column::Id.in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(case_holder::Column::CaseId)
                            .from(case_holder::Entity)
                            .and_where(case_holder::Column::AssigneeId.eq(a))
                            .to_owned(),
                    )
                }
                crate::Backend::Sqlite => case::Column::AssigneeId.eq(a),
            });
        }
        if let Some(now) = q.overdue_at {
            // Written out, not bound: the partial index of open cases
            // (`ix_cases_open`, same condition) serves only a literal match,
            // so the list walks the open cases newest first, not all cases.
            cond = cond
                .add(Expr::cust(OPEN_CONDITION))
                .add(case::Column::Deadline.lt(ms(now)));
        }
        if let Some(u) = q.urgency {
            cond = cond.add(case::Column::Urgency.eq(u.as_str()));
        }
        if let Some(b) = q.barrier {
            cond = cond.add(case::Column::BarrierId.eq(b));
        }
        if q.precedent_available {
            use crate::entity::barrier;
            let decided = sea_orm::sea_query::Query::select()
                .column(barrier::Column::Id)
                .from(barrier::Entity)
                .and_where(
                    barrier::Column::Status.is_in(
                        doorbraak_core::BarrierStatus::ALL
                            .iter()
                            .filter(|s| s.has_breakthrough())
                            .map(|s| s.as_str()),
                    ),
                )
                .to_owned();
            let open: Vec<CaseState> = CaseState::ALL
                .iter()
                .copied()
                .filter(|s| s.is_open())
                .collect();
            cond = cond
                .add(case::Column::State.is_in(names(&open, CaseState::as_str)))
                .add(case::Column::BarrierId.in_subquery(decided));
        }
        if q.unassigned {
            cond = cond.add(case::Column::AssigneeId.is_null());
        }
        let mut find = case::Entity::find();
        if q.by_deadline {
            use sea_orm::sea_query::{Expr, Order};
            find = find
                .order_by(Expr::col(case::Column::Deadline).is_null(), Order::Asc)
                .order_by_asc(case::Column::Deadline)
                .order_by_asc(case::Column::Id);
        } else {
            if let Some(after) = after {
                cond = cond.add(case::Column::Id.lt(after));
            }
            find = find.order_by_desc(case::Column::Id);
        }
        find.filter(cond)
            .at_most(limit, &self.read)
            .await?
            .into_iter()
            .map(case_from_row)
            .collect()
    }

    /// The logs of several cases, each in sequence order (one query).
    /// The logs of those of `case_ids` that `scope` may read.
    pub async fn events_of(
        &self,
        scope: &ReadScope,
        case_ids: &[CaseId],
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.count();
        if case_ids.is_empty() || *scope == ReadScope::Nothing {
            return Ok(Vec::new());
        }
        let mut cond =
            Condition::all().add(case_event::Column::CaseId.is_in(case_ids.iter().copied()));
        if let Some(sub) = readable_ids(scope) {
            cond = cond.add(case_event::Column::CaseId.in_subquery(sub));
        }
        case_event::Entity::find()
            .filter(cond)
            .order_by_asc(case_event::Column::CaseId)
            .order_by_asc(case_event::Column::Sequence)
            .all(&self.read)
            .await?
            .iter()
            .map(|r| {
                Ok(StoredEvent {
                    case_id: r.case_id,
                    sequence: r.sequence,
                    event: event_from_row(r)?,
                })
            })
            .collect()
    }
}

/// Takes the next sequence number of an area's references for a year.
async fn next_reference(
    txn: &sea_orm::DatabaseTransaction,
    area: &str,
    year: i32,
) -> Result<i64, StoreError> {
    use sea_orm::sea_query::{Alias, Query};
    use sea_orm::{ConnectionTrait, TryGetable};
    let table = Alias::new("reference_counters");
    let last = Alias::new("last");
    let mut insert = Query::insert();
    insert
        .into_table(table.clone())
        .columns([Alias::new("area_code"), Alias::new("year"), last.clone()])
        .values_panic([area.into(), year.into(), 1i64.into()])
        .on_conflict(
            OnConflict::columns([Alias::new("area_code"), Alias::new("year")])
                .value(
                    last.clone(),
                    Expr::col((table.clone(), last.clone())).add(1),
                )
                .to_owned(),
        )
        .returning_col(last);
    let stmt = txn.get_database_backend().build(&insert);
    let row = txn
        .query_one_raw(stmt)
        .await?
        .ok_or_else(|| StoreError::Corrupt("reference counter returned no row".to_owned()))?;
    i64::try_get_by(&row, "last").map_err(|e| StoreError::Corrupt(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::OPEN_CONDITION;
    use doorbraak_core::{CaseState, Level};

    #[test]
    fn the_open_condition_names_the_state_of_every_level() {
        let names: Vec<String> = Level::ALL
            .iter()
            .map(|l| format!("'{}'", l.state().as_str()))
            .collect();
        assert_eq!(OPEN_CONDITION, format!("state IN ({})", names.join(", ")));
        assert!(!OPEN_CONDITION.contains(CaseState::AwaitingInformation.as_str()));
    }
}
