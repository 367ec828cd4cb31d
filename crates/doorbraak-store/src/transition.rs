//! The statements of one transition, built once from the core's decision.
//!
//! A transition writes the case row (guarded by the version the decision
//! was taken on), its event, its outbox rows, and its follow-ups: the
//! barrier's new status, the agenda item it decides, and on SQLite the
//! precedent index. Placing the case on the next agenda is the only
//! follow-up that must read first ([`needs_transaction`]); it runs after
//! these statements in the same transaction.
//!
//! **PostgreSQL** ([`pg_statement`]): all of it is one statement. The
//! guarded `UPDATE` is a data-modifying CTE (`moved`); every other write is
//! a further CTE that writes only `WHERE EXISTS (SELECT 1 FROM moved)`.
//! One round trip does what BEGIN, UPDATE, INSERT, the outbox's reads and
//! inserts and COMMIT did: a single statement is atomic on its own, and
//! zero rows back means the guard failed and nothing was written. The
//! change feed's notification follows the commit ([`crate::feed`] says
//! why it is not inside). A change of holder also writes the case's row
//! in `case_holders`, PostgreSQL's index of who holds what ([`holder_write`]).
//! A transition that sends no notices and has no follow-up in the
//! statement (a pick-up, a release) has it written out as text
//! ([`pg_written`], [`crate::render`]); the others are built by sea-query.
//!
//! **SQLite** ([`sqlite_statements`]): the same writes as a list whose first
//! statement is the guarded `UPDATE`, written out as text rather than
//! built by sea-query (held to sea-query's text in tests and in debug
//! builds); [`run_statements`] runs them in a
//! transaction on a sea-orm connection, the writer thread
//! ([`crate::sqlite_writer`]) on its own connection. Either way zero rows
//! updated stops the list and rolls it back.

use doorbraak_core::{Case, CaseId, Event, FollowUp, ItemDecision, Status, UserId};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, InsertStatement, OnConflict, PostgresQueryBuilder, Query,
    SelectStatement, SubQueryStatement, UpdateStatement, WithClause,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, Iterable,
    QueryFilter, QueryTrait, Statement,
};

use crate::convert::{ms, set_status};
use crate::entity::{agenda_item, barrier, case, case_event, case_holder};
use crate::{Backend, StoreError};

/// Whether `follow` needs reads in the transaction: placing the case on
/// the next agenda does.
pub(crate) fn needs_transaction(follow: &FollowUp) -> bool {
    follow.place_on_agenda.is_some()
}

/// The writes of a transition as sea-query statements, the guarded case
/// update first; with a `guard`, every other one writes only when it holds.
struct Writes {
    update: UpdateStatement,
    rest: Vec<SubQueryStatement>,
}

fn writes(
    backend: Backend,
    before: &Case,
    after: &Status,
    event: &Event,
    follow: &FollowUp,
    guard: Option<&Expr>,
) -> Result<Writes, StoreError> {
    let update = case::Entity::update_many()
        .set(changed_columns(&before.status, after))
        .filter(case::Column::Id.eq(before.id))
        .filter(case::Column::Version.eq(before.status.version))
        .into_query();
    let guarded = |mut u: UpdateStatement| {
        if let Some(g) = guard {
            u.and_where(g.clone());
        }
        SubQueryStatement::from(u)
    };
    let event_row = crate::cases::event_row(before.id, after.version, event);
    let mut rest = vec![SubQueryStatement::from(match guard {
        Some(_) => insert_if_moved(&event_row)?,
        None => case_event::Entity::insert(event_row).into_query(),
    })];
    if backend == Backend::Postgres && before.status.assignee != after.assignee {
        rest.push(holder_write(before.id, after.assignee)?);
    }
    for insert in
        crate::outbox::outbox_inserts(backend, before.id, &before.facts, after, event, guard)?
    {
        rest.push(insert.into());
    }
    if let Some(b) = &follow.barrier {
        rest.push(guarded(
            barrier::Entity::update_many()
                .set(crate::barriers::barrier_change(b))
                .filter(barrier::Column::Id.eq(b.id))
                .into_query(),
        ));
    }
    if let Some(d) = &follow.decide_item {
        rest.push(guarded(
            agenda_item::Entity::update_many()
                .set(item_decision(d, event))
                .filter(agenda_item::Column::Id.eq(d.item))
                .into_query(),
        ));
    }
    Ok(Writes { update, rest })
}

/// What the agenda item a transition decides is set to.
fn item_decision(d: &ItemDecision, event: &Event) -> agenda_item::ActiveModel {
    agenda_item::ActiveModel {
        decision: ActiveValue::Set(Some(d.action.as_str().to_owned())),
        note: ActiveValue::Set(d.note.clone()),
        decided_at: ActiveValue::Set(Some(ms(event.at))),
        ..<agenda_item::ActiveModel as Default>::default()
    }
}

/// The case columns whose value `after` changes (the version and the time
/// always do). The guard makes the row equal `before`, so the rest need
/// not be written: on SQLite an `UPDATE` then touches only the indexes of
/// those columns, and both databases log less.
fn changed_columns(before: &Status, after: &Status) -> case::ActiveModel {
    let mut old = <case::ActiveModel as Default>::default();
    set_status(&mut old, before);
    let mut new = <case::ActiveModel as Default>::default();
    set_status(&mut new, after);
    for c in case::Column::iter() {
        if old.get(c) == new.get(c) {
            new.not_set(c);
        }
    }
    // What the case adds to the statistics' sums depends on these (and on
    // the states its events lead to, which change only with the state):
    // the folder must look at it again (`crate::stats`).
    if [
        case::Column::State,
        case::Column::BarrierId,
        case::Column::ResolutionOutcome,
        case::Column::ResolutionFundsCents,
        case::Column::ResolutionDecidedAt,
    ]
    .into_iter()
    .any(|c| new.get(c).is_set())
    {
        new.stat_dirty = ActiveValue::Set(1);
    }
    new
}

/// PostgreSQL: the case's row in `case_holders` follows its new holder
/// (the migration that made the table says why it is not an index on the
/// cases): written, or replaced, or deleted when nobody holds it now.
fn holder_write(case: CaseId, holder: Option<UserId>) -> Result<SubQueryStatement, StoreError> {
    Ok(match holder {
        Some(h) => {
            let mut insert = insert_if_moved(&case_holder::ActiveModel {
                case_id: ActiveValue::Set(case),
                assignee_id: ActiveValue::Set(h),
            })?;
            insert.on_conflict(
                OnConflict::column(case_holder::Column::CaseId)
                    .update_column(case_holder::Column::AssigneeId)
                    .to_owned(),
            );
            insert.into()
        }
        None => {
            let mut delete = case_holder::Entity::delete_many()
                .filter(case_holder::Column::CaseId.eq(case))
                .into_query();
            delete.and_where(moved());
            delete.into()
        }
    })
}

/// The name of the CTE that updates the case.
const MOVED: &str = "moved";

/// `EXISTS (SELECT 1 FROM moved)`: the case was updated.
fn moved() -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(Alias::new(MOVED))
            .to_owned(),
    )
}

/// `INSERT INTO t (the set columns) SELECT (their values) FROM moved`.
fn insert_if_moved<A: ActiveModelTrait>(row: &A) -> Result<InsertStatement, StoreError> {
    let (mut columns, mut values) = (Vec::new(), Vec::new());
    for c in <A::Entity as EntityTrait>::Column::iter() {
        if let ActiveValue::Set(v) = row.get(c) {
            columns.push(c);
            values.push(Expr::val(v));
        }
    }
    let mut select = Query::select();
    select.exprs(values).from(Alias::new(MOVED));
    let mut insert = Query::insert();
    insert
        .into_table(<A::Entity as Default>::default())
        .columns(columns);
    insert
        .select_from(select)
        .map_err(|e| StoreError::Corrupt(format!("insert after a move: {e}")))?;
    Ok(insert)
}

fn cte(name: String, query: SubQueryStatement) -> CommonTableExpression {
    CommonTableExpression::new()
        .query(query)
        .table_name(Alias::new(name))
        .to_owned()
}

/// PostgreSQL: the whole transition as one statement; it returns one row
/// when the case moved and none when its version had changed. Written
/// out ([`pg_written`]) for the transitions that need nothing more than
/// the case, its event, its holder and the webhooks; built by sea-query
/// for the others.
pub(crate) fn pg_statement(
    before: &Case,
    after: &Status,
    event: &Event,
    follow: &FollowUp,
) -> Result<Statement, StoreError> {
    let Some(written) = pg_written(before, after, event, follow) else {
        return pg_by_sea_query(before, after, event, follow);
    };
    #[cfg(debug_assertions)]
    {
        let reference = pg_by_sea_query(before, after, event, follow)?;
        assert_eq!(
            (&written.sql, &written.values),
            (&reference.sql, &reference.values),
            "a transition's statement differs from sea-query's"
        );
    }
    Ok(written)
}

/// [`pg_statement`] written out ([`crate::render`]), for a transition that
/// sends no notices and has no follow-up inside the statement (a pick-up,
/// a release, a withdrawal, …); `None` for the others.
fn pg_written(
    before: &Case,
    after: &Status,
    event: &Event,
    follow: &FollowUp,
) -> Option<Statement> {
    if follow.barrier.is_some()
        || follow.decide_item.is_some()
        || !doorbraak_core::notices(&before.facts, event).is_empty()
    {
        return None;
    }
    let mut sql = crate::render::Sql::new(Backend::Postgres);
    sql.push("WITH \"moved\" AS (UPDATE \"cases\" SET ")
        .assignments(&changed_columns(&before.status, after))
        .keys::<case::ActiveModel, 2>([
            (case::Column::Id, before.id.into()),
            (case::Column::Version, before.status.version.into()),
        ])
        .push(" RETURNING \"id\") , \"write_0\" AS (INSERT INTO \"case_events\" (");
    let values = sql.columns(&crate::cases::event_row(before.id, after.version, event));
    sql.push(") SELECT ")
        .params(values)
        .push(" FROM \"moved\") ");
    let mut next = 1;
    if before.status.assignee != after.assignee {
        sql.push(", \"write_1\" AS (");
        match after.assignee {
            Some(h) => sql
                .push("INSERT INTO \"case_holders\" (\"case_id\", \"assignee_id\") SELECT ")
                .param(before.id)
                .push(", ")
                .param(h)
                .push(
                    " FROM \"moved\" ON CONFLICT (\"case_id\") \
                     DO UPDATE SET \"assignee_id\" = \"excluded\".\"assignee_id\") ",
                ),
            None => sql
                .push("DELETE FROM \"case_holders\" WHERE \"case_holders\".\"case_id\" = ")
                .param(before.id)
                .push(" AND EXISTS(SELECT ")
                .param(1i32)
                .push(" FROM \"moved\")) "),
        };
        next = 2;
    }
    sql.push(", ").name(&format!("write_{next}")).push(" AS (");
    crate::outbox::write_webhooks(&mut sql, before.id, &before.facts, after, event, true);
    sql.push(") SELECT \"moved\".\"id\" FROM \"moved\"");
    Some(sql.statement())
}

/// [`pg_statement`] as sea-query builds and renders it.
fn pg_by_sea_query(
    before: &Case,
    after: &Status,
    event: &Event,
    follow: &FollowUp,
) -> Result<Statement, StoreError> {
    let mut w = writes(
        Backend::Postgres,
        before,
        after,
        event,
        follow,
        Some(&moved()),
    )?;
    w.update.returning_col(case::Column::Id);
    let mut with = WithClause::new();
    with.cte(cte(MOVED.to_owned(), w.update.into()));
    for (i, q) in w.rest.into_iter().enumerate() {
        with.cte(cte(format!("write_{i}"), q));
    }
    let mut result: SelectStatement = Query::select();
    result
        .column((Alias::new(MOVED), case::Column::Id))
        .from(Alias::new(MOVED));
    let (sql, values) = with.query(result).build(PostgresQueryBuilder);
    Ok(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
}

/// Runs [`pg_statement`] on `conn` (the pool, or a transaction):
/// `Ok(true)` when the case moved, `Ok(false)` when its version had
/// changed (nothing was written).
pub(crate) async fn run_pg<C: ConnectionTrait>(
    conn: &C,
    before: &Case,
    after: &Status,
    event: &Event,
    follow: &FollowUp,
) -> Result<bool, StoreError> {
    let rows = conn
        .query_all_raw(pg_statement(before, after, event, follow)?)
        .await?;
    Ok(rows.len() == 1)
}

/// SQLite: the transition's statements, the guarded update first.
///
/// They are written out ([`crate::render`]) rather than built as sea-query
/// trees and rendered: that was an eighth of the server's CPU per
/// transition over HTTP (ARCHITECTURE.md, "Tried"). The text and values
/// are sea-query's own, to the character: builds with debug assertions
/// (every test run) check each transition against [`by_sea_query`].
pub(crate) fn sqlite_statements(
    before: &Case,
    after: &Status,
    event: &Event,
    follow: &FollowUp,
) -> Result<Vec<Statement>, StoreError> {
    let mut out = Vec::with_capacity(4);
    out.push(crate::render::update(
        &changed_columns(&before.status, after),
        [
            (case::Column::Id, before.id.into()),
            (case::Column::Version, before.status.version.into()),
        ],
    ));
    out.push(crate::render::insert(&crate::cases::event_row(
        before.id,
        after.version,
        event,
    )));
    out.extend(crate::outbox::sqlite_outbox(
        before.id,
        &before.facts,
        after,
        event,
    )?);
    if let Some(b) = &follow.barrier {
        out.push(crate::render::update(
            &crate::barriers::barrier_change(b),
            [(barrier::Column::Id, b.id.into())],
        ));
    }
    if let Some(d) = &follow.decide_item {
        out.push(crate::render::update(
            &item_decision(d, event),
            [(agenda_item::Column::Id, d.item.into())],
        ));
    }
    out.extend(precedent(before, after, follow));
    #[cfg(debug_assertions)]
    {
        let reference = by_sea_query(before, after, event, follow)?;
        let text = |s: &[Statement]| -> Vec<(String, Option<sea_orm::sea_query::Values>)> {
            s.iter()
                .map(|s| (s.sql.clone(), s.values.clone()))
                .collect()
        };
        assert_eq!(
            text(&out),
            text(&reference),
            "a transition's statements differ from sea-query's"
        );
    }
    Ok(out)
}

/// SQLite: the precedent index's change, if the transition makes one.
fn precedent(before: &Case, after: &Status, follow: &FollowUp) -> Option<Statement> {
    let explanation = after.resolution.as_ref().map(|r| r.explanation.as_str());
    crate::barriers::precedent_statement(
        before.id,
        &before.facts.rule.citation,
        explanation,
        follow.precedent,
    )
}

/// [`sqlite_statements`] as sea-query builds and renders them, the
/// reference the written-out ones are held to.
#[cfg(any(test, debug_assertions))]
fn by_sea_query(
    before: &Case,
    after: &Status,
    event: &Event,
    follow: &FollowUp,
) -> Result<Vec<Statement>, StoreError> {
    let w = writes(Backend::Sqlite, before, after, event, follow, None)?;
    let build = |(sql, values): (String, sea_orm::sea_query::Values)| {
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
    };
    use sea_orm::sea_query::SqliteQueryBuilder;
    let mut out = vec![build(w.update.build(SqliteQueryBuilder))];
    for q in &w.rest {
        out.push(build(match q {
            SubQueryStatement::InsertStatement(i) => i.build(SqliteQueryBuilder),
            SubQueryStatement::UpdateStatement(u) => u.build(SqliteQueryBuilder),
            other => {
                return Err(StoreError::Corrupt(format!(
                    "unexpected statement in a transition: {other:?}"
                )));
            }
        }));
    }
    out.extend(precedent(before, after, follow));
    Ok(out)
}

/// Runs [`sqlite_statements`] on `conn` (a transaction): zero rows updated
/// by the first is a version conflict, and the rest is not run.
pub(crate) async fn run_statements<C: ConnectionTrait>(
    conn: &C,
    statements: Vec<Statement>,
) -> Result<(), StoreError> {
    let mut it = statements.into_iter();
    if let Some(first) = it.next()
        && conn.execute_raw(first).await?.rows_affected() != 1
    {
        return Err(StoreError::VersionConflict);
    }
    for s in it {
        conn.execute_raw(s).await?;
    }
    Ok(())
}

/// Runs the transition's writes inside `txn`, on either database: a
/// version conflict is an error, and the caller rolls back.
pub(crate) async fn run_in(
    txn: &sea_orm::DatabaseTransaction,
    backend: Backend,
    before: &Case,
    after: &Status,
    event: &Event,
    follow: &FollowUp,
) -> Result<(), StoreError> {
    match backend {
        Backend::Postgres => match run_pg(txn, before, after, event, follow).await? {
            true => Ok(()),
            false => Err(StoreError::VersionConflict),
        },
        Backend::Sqlite => {
            run_statements(txn, sqlite_statements(before, after, event, follow)?).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::changed_columns;
    use crate::entity::case;
    use doorbraak_core::{CaseState, Level, Status};
    use sea_orm::{ActiveModelTrait, Iterable};

    /// A case waiting at the programme bureau since `at`, held by nobody.
    fn waiting(at: doorbraak_core::Timestamp) -> Status {
        Status {
            state: CaseState::AtProgrammeBureau,
            level: Level::ProgrammeBureau,
            highest_level: Level::ProgrammeBureau,
            assignee: None,
            deadline: Some(at),
            paused_at: None,
            resolution: None,
            merged_into: None,
            barrier: None,
            version: 1,
            updated_at: at,
        }
    }

    #[test]
    fn a_pick_up_writes_only_what_it_changes() {
        let at = chrono::DateTime::from_timestamp_millis(1_790_000_000_000).unwrap();
        let before = waiting(at);
        let after = Status {
            assignee: Some(7),
            version: 2,
            updated_at: at + chrono::TimeDelta::minutes(5),
            ..before.clone()
        };
        let row = changed_columns(&before, &after);
        let set: Vec<String> = case::Column::iter()
            .filter(|c| row.get(*c).is_set())
            .map(|c| sea_orm::IdenStatic::as_str(&c).to_owned())
            .collect();
        assert_eq!(set, ["assignee_id", "version", "updated_at"]);

        // A move up changes what the case adds to the statistics.
        let up = Status {
            state: CaseState::AtAlliance,
            level: Level::Alliance,
            highest_level: Level::Alliance,
            version: 2,
            ..before.clone()
        };
        let row = changed_columns(&before, &up);
        assert!(row.get(case::Column::StatDirty).is_set());
        assert!(row.get(case::Column::State).is_set());
    }

    /// The written-out statements are sea-query's, text and values: on
    /// SQLite for a pick-up and a release (no notices), a move up
    /// (notices), and a resolution that decides an agenda item, a barrier
    /// and the precedent index; on PostgreSQL for the pick-up and the
    /// release; with and without an owning ministry.
    #[test]
    fn the_written_out_statements_are_sea_querys() {
        use doorbraak_core::*;
        let at = chrono::DateTime::from_timestamp_millis(1_790_000_000_000).unwrap();
        let status = Status {
            assignee: Some(7),
            barrier: Some(3),
            version: 4,
            ..waiting(at)
        };
        let facts = |ministry: Option<&str>| CaseFacts {
            reference: "ZDO-2026-0001".into(),
            title: "Oppasrooster".into(),
            description: "Ouders mogen niet op elkaars peuters passen.".into(),
            focus_area: "ZDO".into(),
            domains: vec![PolicyDomain::Youth],
            rule: Rule {
                citation: "Wet kinderopvang art. 1.45".into(),
                bwb_id: None,
                scope: RuleScope::Municipal,
                owning_ministry: ministry.map(str::to_owned),
            },
            desired_action: "Toestaan.".into(),
            households_affected: Some(12),
            estimated_cost: None,
            urgency: Urgency::Normal,
            submitted_by: 1,
            created_at: at,
        };
        let later = at + chrono::TimeDelta::minutes(3);
        let event = |action: CaseAction, to: CaseState, after: &Status| Event {
            action: EventAction::Case(action),
            from_state: Some(CaseState::AtProgrammeBureau),
            to_state: to,
            actor: 7,
            actor_role: Role::ProgrammeBureau,
            note: Some("Zo gedaan.".into()),
            at: later,
            effect: Effect {
                level: after.level,
                assignee: after.assignee,
                deadline: after.deadline,
                paused_at: after.paused_at,
                resolution: after.resolution.clone(),
                merged_into: after.merged_into,
                barrier: after.barrier,
            },
            meeting: None,
        };
        let moved = |change: &dyn Fn(&mut Status)| {
            let mut s = Status {
                version: 5,
                updated_at: later,
                ..status.clone()
            };
            change(&mut s);
            s
        };
        let release = moved(&|s| s.assignee = None);
        let pick_up = Status {
            assignee: Some(8),
            ..release.clone()
        };
        let up = moved(&|s| {
            s.state = CaseState::AtAlliance;
            s.level = Level::Alliance;
            s.highest_level = Level::Alliance;
            s.assignee = None;
        });
        let resolved = moved(&|s| {
            s.state = CaseState::Resolved;
            s.deadline = None;
            s.resolution = Some(Resolution {
                outcome: Some(Outcome::IncidentalBreakthrough),
                explanation: "Uitzondering verleend.".into(),
                funds_unlocked: Euros::from_cents(125_050),
                level: Level::ProgrammeBureau,
                decided_at: later,
                effective_from: None,
                experiment_ends: None,
                evaluation_date: None,
            });
        });
        let decided = FollowUp {
            barrier: Some(BarrierChange {
                id: 3,
                status: BarrierStatus::BreakthroughDecided,
                outcome: Some(Outcome::IncidentalBreakthrough),
                note: Some("Uitzondering verleend.".into()),
                at: later,
                effective_from: None,
                experiment_ends: None,
                evaluation_date: None,
            }),
            precedent: PrecedentChange::Index,
            decide_item: Some(ItemDecision {
                item: 9,
                action: EventAction::Case(CaseAction::Resolve),
                note: None,
            }),
            place_on_agenda: None,
        };
        let none = FollowUp::default();
        let cases = [
            (
                CaseAction::Release,
                CaseState::AtProgrammeBureau,
                &release,
                &none,
            ),
            (
                CaseAction::PickUp,
                CaseState::AtProgrammeBureau,
                &pick_up,
                &none,
            ),
            (CaseAction::Escalate, CaseState::AtAlliance, &up, &none),
            (
                CaseAction::Resolve,
                CaseState::Resolved,
                &resolved,
                &decided,
            ),
        ];
        let text =
            |s: Vec<sea_orm::Statement>| -> Vec<(String, Option<sea_orm::sea_query::Values>)> {
                s.into_iter().map(|s| (s.sql, s.values)).collect()
            };
        for ministry in [Some("SZW"), None] {
            for (action, to, after, follow) in cases {
                let before = Case {
                    id: 5,
                    facts: facts(ministry),
                    status: if action == CaseAction::PickUp {
                        release.clone()
                    } else {
                        status.clone()
                    },
                };
                let e = event(action, to, after);
                let ours = text(super::sqlite_statements(&before, after, &e, follow).unwrap());
                let theirs = text(super::by_sea_query(&before, after, &e, follow).unwrap());
                assert_eq!(ours, theirs, "{action:?}, ministry {ministry:?}");
                assert!(ours.len() >= 3, "{action:?}: {ours:?}");
                // PostgreSQL's one statement, written out for a pick-up and
                // a release (a holder written, a holder deleted).
                let pg = super::pg_written(&before, after, &e, follow);
                match action {
                    CaseAction::PickUp | CaseAction::Release => {
                        let pg = pg.expect("a pick-up or release is written out");
                        let reference = super::pg_by_sea_query(&before, after, &e, follow).unwrap();
                        assert_eq!(
                            (pg.sql, pg.values),
                            (reference.sql, reference.values),
                            "PostgreSQL, {action:?}, ministry {ministry:?}"
                        );
                    }
                    _ => assert!(pg.is_none(), "{action:?} goes through sea-query"),
                }
            }
        }
    }
}
