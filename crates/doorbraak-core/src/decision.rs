//! The whole decision on a transition: the event, and everything else the
//! same transaction must change because of it. The engine looks up the
//! [`Facts`] first; [`crate::decide`] rules once and returns a
//! [`Decision`]; nothing changes it afterwards.

use chrono::NaiveDate;

use crate::Timestamp;
use crate::barrier::{BarrierStatus, barrier_status_after};
use crate::machine::{Case, Event, EventAction, MergeTarget};
use crate::model::{CaseAction, CaseState, Level, Outcome};

/// A case's open agenda item, as the engine found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgendaRef {
    pub item: i64,
    pub meeting: i64,
}

/// What the engine looked up before asking the core to decide.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The case's barrier (id and status), when it is linked to one.
    pub barrier: Option<(i64, BarrierStatus)>,
    /// The open agenda item the case is on, if any.
    pub agenda_item: Option<AgendaRef>,
    /// For a merge: the case to merge into, when the actor may read it.
    pub merge_target: Option<MergeTarget>,
}

/// What a transition does to the case's barrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarrierChange {
    pub id: i64,
    pub status: BarrierStatus,
    pub outcome: Option<Outcome>,
    pub note: Option<String>,
    pub at: Timestamp,
    pub effective_from: Option<NaiveDate>,
    pub experiment_ends: Option<NaiveDate>,
    pub evaluation_date: Option<NaiveDate>,
}

/// What a transition does to the index of earlier answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrecedentChange {
    #[default]
    None,
    /// The case is now resolved: index its citation and explanation.
    Index,
    /// The case is no longer resolved: take it out.
    Remove,
}

/// The agenda item a transition decides (or takes off the agenda).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDecision {
    pub item: i64,
    pub action: EventAction,
    pub note: Option<String>,
}

/// Where a case goes on the agenda: the next open meeting of a level (and,
/// for an alliance, of the case's focus area).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendaPlace {
    pub level: Level,
    pub area: Option<String>,
}

/// What else a transition changes, in the same transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowUp {
    pub barrier: Option<BarrierChange>,
    pub precedent: PrecedentChange,
    pub decide_item: Option<ItemDecision>,
    pub place_on_agenda: Option<AgendaPlace>,
}

/// The core's whole answer to a command: the event and its follow-ups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub event: Event,
    pub follow_up: FollowUp,
}

/// Completes an event with what follows from it: the agenda item it
/// decides (and the meeting the event is then recorded against), the next
/// agenda it goes on, its barrier's new status, the precedent index.
pub(crate) fn finish(case: &Case, mut event: Event, facts: &Facts) -> Decision {
    let mut follow = FollowUp::default();
    let before = case.status.state;
    let after = event.to_state;
    if before != after && after != CaseState::AwaitingInformation {
        if let Some(a) = facts.agenda_item {
            let decides = matches!(
                event.action,
                EventAction::Case(
                    CaseAction::Resolve
                        | CaseAction::CloseNoBreakthrough
                        | CaseAction::ReferBack
                        | CaseAction::Escalate
                )
            );
            if decides {
                event.meeting = Some(a.meeting);
            }
            follow.decide_item = Some(ItemDecision {
                item: a.item,
                action: event.action,
                note: event.note.clone(),
            });
        }
        if let Some(level) = after.meeting_level() {
            follow.place_on_agenda = Some(AgendaPlace {
                level,
                area: (level == Level::Alliance).then(|| case.facts.focus_area.clone()),
            });
        }
    }
    if let Some((id, current)) = facts.barrier
        && let Some(status) = barrier_status_after(current, &event)
    {
        let r = event.effect.resolution.as_ref();
        follow.barrier = Some(BarrierChange {
            id,
            status,
            outcome: r.and_then(|r| r.outcome),
            note: event.note.clone(),
            at: event.at,
            effective_from: r.and_then(|r| r.effective_from),
            experiment_ends: r.and_then(|r| r.experiment_ends),
            evaluation_date: r.and_then(|r| r.evaluation_date),
        });
    }
    follow.precedent = match (before, after) {
        (CaseState::Resolved, CaseState::Resolved) => PrecedentChange::None,
        (_, CaseState::Resolved) => PrecedentChange::Index,
        (CaseState::Resolved, _) => PrecedentChange::Remove,
        _ => PrecedentChange::None,
    };
    Decision {
        event,
        follow_up: follow,
    }
}
