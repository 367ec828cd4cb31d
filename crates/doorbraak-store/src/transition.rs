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
//! in `case_holders`, PostgreSQL's index of who holds what.
//!
//! **SQLite** ([`sqlite_statements`]): the same writes as a list whose first
//! statement is the guarded `UPDATE`; [`run_statements`] runs them in a
//! transaction on a sea-orm connection, the writer thread
//! ([`crate::sqlite_writer`]) on its own connection. Either way zero rows
//! updated stops the list and rolls it back.
//!
//! **Written out.** On both databases the statements are written as text
//! ([`crate::render`]), not built as sea-query trees and rendered: that
//! was an eighth of the server's CPU per transition on SQLite and a third
//! on PostgreSQL (ARCHITECTURE.md, "Tried"). The text and values are
//! sea-query's own, to the character: [`reference`] builds them the old
//! way, the tests compare the two for every kind of notice and follow-up,
//! and builds with debug assertions compare every transition they write
//! (the whole test suite, on both databases).

use doorbraak_core::{Case, Event, FollowUp, ItemDecision, Status};
use sea_orm::{ActiveModelTrait, ActiveValue, ConnectionTrait, Statement};

use crate::convert::{ms, set_status_changes};
use crate::entity::{agenda_item, barrier, case};
use crate::render::Sql;
use crate::{Backend, StoreError};

#[cfg(any(test, debug_assertions))]
pub(crate) mod reference;

/// Whether `follow` needs reads in the transaction: placing the case on
/// the next agenda does.
pub(crate) fn needs_transaction(follow: &FollowUp) -> bool {
    follow.place_on_agenda.is_some()
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
    let mut new = <case::ActiveModel as Default>::default();
    set_status_changes(&mut new, before, after);
    stat_dirty(new)
}

/// `row` (a case's changed columns), marked for the statistics' folder
/// when it changes what the case adds to their sums.
fn stat_dirty(mut new: case::ActiveModel) -> case::ActiveModel {
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

/// PostgreSQL: the whole transition as one statement; it returns one row
/// when the case moved and none when its version had changed.
///
/// `WITH moved AS (UPDATE cases … RETURNING id), write_0 AS (…), …
/// SELECT moved.id FROM moved`: the event, the holder's row, the
/// outbox's rows and the follow-ups each `INSERT … SELECT … FROM moved`
/// or guarded by `EXISTS (SELECT 1 FROM moved)` ([`crate::render::guard`]).
pub(crate) fn pg_statement(
    before: &Case,
    after: &Status,
    event: &Event,
    follow: &FollowUp,
) -> Result<Statement, StoreError> {
    let mut sql = Sql::new(Backend::Postgres);
    sql.push("WITH \"moved\" AS (UPDATE \"cases\" SET ")
        .assignments(&changed_columns(&before.status, after))
        .keys::<case::ActiveModel, 2>([
            (case::Column::Id, before.id.into()),
            (case::Column::Version, before.status.version.into()),
        ])
        .push(" RETURNING \"id\") ");
    let mut ctes = 0;
    let mut cte = |sql: &mut Sql, body: &mut dyn FnMut(&mut Sql)| {
        sql.push(", ").name(&format!("write_{ctes}")).push(" AS (");
        body(sql);
        sql.push(") ");
        ctes += 1;
    };
    cte(&mut sql, &mut |sql| {
        sql.push("INSERT INTO \"case_events\" (");
        let values = sql.columns(&crate::cases::event_row(before.id, after.version, event));
        sql.push(") SELECT ").params(values).push(" FROM \"moved\"");
    });
    if before.status.assignee != after.assignee {
        // The case's row in `case_holders`, PostgreSQL's index of who holds
        // what (migration 10 says why it is not an index on the cases).
        cte(&mut sql, &mut |sql| match after.assignee {
            Some(h) => {
                sql.push("INSERT INTO \"case_holders\" (\"case_id\", \"assignee_id\") SELECT ")
                    .param(before.id)
                    .push(", ")
                    .param(h)
                    .push(
                        " FROM \"moved\" ON CONFLICT (\"case_id\") \
                         DO UPDATE SET \"assignee_id\" = \"excluded\".\"assignee_id\"",
                    );
            }
            None => {
                sql.push("DELETE FROM \"case_holders\" WHERE \"case_holders\".\"case_id\" = ")
                    .param(before.id);
                crate::render::guard(sql);
            }
        });
    }
    let rows = crate::outbox::Rows::new(before.id, &before.facts, after, event);
    for n in rows.notices() {
        cte(&mut sql, &mut |sql| rows.write_notice(sql, &n, true));
    }
    cte(&mut sql, &mut |sql| rows.write_webhooks(sql, true));
    if let Some(b) = &follow.barrier {
        cte(&mut sql, &mut |sql| {
            sql.update(
                &crate::barriers::barrier_change(b),
                [(barrier::Column::Id, b.id.into())],
            );
            crate::render::guard(sql);
        });
    }
    if let Some(d) = &follow.decide_item {
        cte(&mut sql, &mut |sql| {
            sql.update(
                &item_decision(d, event),
                [(agenda_item::Column::Id, d.item.into())],
            );
            crate::render::guard(sql);
        });
    }
    sql.push("SELECT \"moved\".\"id\" FROM \"moved\"");
    let written = sql.statement();
    #[cfg(debug_assertions)]
    {
        let reference = reference::pg(before, after, event, follow)?;
        assert_eq!(
            (&written.sql, &written.values),
            (&reference.sql, &reference.values),
            "a transition's statement differs from sea-query's"
        );
    }
    Ok(written)
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

/// SQLite: the transition's statements, the guarded update first
/// (written out; the module's documentation says how they are checked).
/// Without `webhooks` the webhooks' `INSERT … SELECT` is left out, for
/// [`crate::sqlite_writer::Writer::run_without_webhooks`].
pub(crate) fn sqlite_statements(
    before: &Case,
    after: &Status,
    event: &Event,
    follow: &FollowUp,
    webhooks: bool,
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
    let rows = crate::outbox::Rows::new(before.id, &before.facts, after, event);
    let mut written = |write: &mut dyn FnMut(&mut Sql)| {
        let mut sql = Sql::new(Backend::Sqlite);
        write(&mut sql);
        out.push(sql.statement());
    };
    for n in rows.notices() {
        written(&mut |sql| rows.write_notice(sql, &n, false));
    }
    if webhooks {
        written(&mut |sql| rows.write_webhooks(sql, false));
    }
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
        let reference = reference::sqlite(before, after, event, follow, webhooks)?;
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
            run_statements(txn, sqlite_statements(before, after, event, follow, true)?).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::changed_columns;
    use crate::entity::case;
    use crate::fixtures::{effect, facts, waiting};
    use doorbraak_core::{CaseState, Level, Status};
    use sea_orm::{ActiveModelTrait, Iterable};

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

    /// Field by field, the changed columns are what the long way (the
    /// whole status as column values, compared column by column) finds,
    /// for a change of every status field alone, of the resolution's
    /// every part, and of several at once, both ways round.
    #[test]
    fn the_changed_columns_are_the_long_ways() {
        use doorbraak_core::{Euros, Outcome, Resolution};
        let at = chrono::DateTime::from_timestamp_millis(1_790_000_000_000).unwrap();
        let later = at + chrono::TimeDelta::hours(2);
        let day = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        let base = waiting(at);
        let resolution = Resolution {
            outcome: Some(Outcome::Experiment),
            explanation: "Mag, als proef.".into(),
            funds_unlocked: Euros::from_cents(12_345),
            level: Level::Alliance,
            decided_at: later,
            effective_from: None,
            experiment_ends: Some(day),
            evaluation_date: None,
        };
        let resolved = Status {
            resolution: Some(resolution.clone()),
            ..base.clone()
        };
        type Change = Box<dyn Fn(&mut Status)>;
        let changes: Vec<Change> = vec![
            Box::new(|s| s.state = CaseState::AtAlliance),
            Box::new(|s| s.level = Level::Alliance),
            Box::new(|s| s.highest_level = Level::NationalRepresentative),
            Box::new(|s| s.assignee = Some(9)),
            Box::new(|s| s.deadline = None),
            Box::new(move |s| s.paused_at = Some(later)),
            Box::new(|s| s.merged_into = Some(4)),
            Box::new(|s| s.barrier = Some(2)),
            Box::new(|s| s.version += 1),
            Box::new(move |s| s.updated_at = later),
            Box::new(|s| s.resolution = None),
            Box::new(|s| {
                if let Some(r) = &mut s.resolution {
                    r.outcome = None;
                    r.funds_unlocked = None;
                }
            }),
            Box::new(|s| {
                if let Some(r) = &mut s.resolution {
                    r.explanation.push_str(" Tot eind 2027.");
                    r.level = Level::BreakthroughMeeting;
                }
            }),
            Box::new(move |s| {
                if let Some(r) = &mut s.resolution {
                    r.decided_at = at;
                    r.effective_from = Some(day);
                    r.experiment_ends = None;
                    r.evaluation_date = Some(day);
                }
            }),
            Box::new(move |s| {
                s.state = CaseState::Resolved;
                s.assignee = None;
                s.deadline = None;
                s.version += 3;
                s.updated_at = later;
            }),
        ];
        let mut compared = 0;
        for start in [&base, &resolved] {
            for change in &changes {
                let mut changed = start.clone();
                change(&mut changed);
                for (before, after) in [(start, &changed), (&changed, start), (start, start)] {
                    assert_eq!(
                        changed_columns(before, after),
                        super::reference::changed_columns(before, after),
                        "{before:?} → {after:?}"
                    );
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, 2 * changes.len() * 3);
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
        let facts = |ministry: Option<&str>| facts(at, ministry);
        let later = at + chrono::TimeDelta::minutes(3);
        let event = |action: CaseAction, to: CaseState, after: &Status| Event {
            action: EventAction::Case(action),
            from_state: Some(CaseState::AtProgrammeBureau),
            to_state: to,
            actor: 7,
            actor_role: Role::ProgrammeBureau,
            note: Some("Zo gedaan.".into()),
            at: later,
            effect: effect(after),
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
        // An answer to the handler who asked (one user), and a move to
        // the breakthrough meeting (the secretariat: a role, no area).
        let answered = moved(&|_| {});
        let to_meeting = moved(&|s| {
            s.state = CaseState::AtBreakthroughMeeting;
            s.level = Level::BreakthroughMeeting;
            s.highest_level = Level::BreakthroughMeeting;
            s.assignee = None;
        });
        let none = FollowUp::default();
        let cases = [
            (
                CaseAction::ProvideInformation,
                CaseState::AtProgrammeBureau,
                &answered,
                &none,
            ),
            (
                CaseAction::Escalate,
                CaseState::AtBreakthroughMeeting,
                &to_meeting,
                &none,
            ),
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
                for webhooks in [true, false] {
                    let ours = text(
                        super::sqlite_statements(&before, after, &e, follow, webhooks).unwrap(),
                    );
                    let theirs = text(
                        super::reference::sqlite(&before, after, &e, follow, webhooks).unwrap(),
                    );
                    assert_eq!(
                        ours, theirs,
                        "{action:?}, ministry {ministry:?}, {webhooks}"
                    );
                    assert!(
                        ours.len() >= 2 + usize::from(webhooks),
                        "{action:?}: {ours:?}"
                    );
                }
                // PostgreSQL's one statement.
                let pg = super::pg_statement(&before, after, &e, follow).unwrap();
                let reference = super::reference::pg(&before, after, &e, follow).unwrap();
                assert_eq!(
                    (pg.sql, pg.values),
                    (reference.sql, reference.values),
                    "PostgreSQL, {action:?}, ministry {ministry:?}"
                );
            }
        }
    }
}
