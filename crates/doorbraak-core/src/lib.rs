//! The rules of Doorbraak, and nothing else.
//!
//! This crate holds the escalation ladder as a pure state machine: the
//! states, actions, roles and outcomes of `DOMAIN.md`, the guards on every
//! transition, who may read which case, the deadline arithmetic and the
//! validation of everything a user types (including the refusal of Dutch
//! citizen service numbers).
//!
//! **Architecture invariant:** no I/O, no async, no clock, no database, no
//! GraphQL. Time comes in as an argument (`now`), effects go out as plain
//! data ([`Event`]). The state of a case is a left fold of [`apply`] over
//! its events, so it can always be rebuilt from the log.

mod barrier;
mod decision;
mod machine;
mod model;
mod notice;
mod privacy;
mod scope;
pub mod search;
pub mod stats;
mod submission;
mod values;

pub use barrier::{
    BarrierStatus, EVALUATION_WINDOW_DAYS, barrier_status_after, citation_similarity,
    evaluation_due_by, level_durations, level_durations_of, needs_evaluation, percentile,
    text_similarity,
};
pub use decision::{
    AgendaPlace, AgendaRef, BarrierChange, Decision, Facts, FollowUp, ItemDecision, PrecedentChange,
};
pub use machine::{
    Case, CaseFacts, Command, DecisionDates, Effect, Event, EventAction, MergeTarget, Policy,
    Principal, Refusal, Resolution, Rule, Status, apply, auto_escalation, available_actions,
    check_link, decide, guard, handled_level, handler_role, holder_role, is_overdue, link_barrier,
    link_event, replay, submission_event,
};
pub use model::{
    CaseAction, CaseState, Level, Outcome, ParseEnumError, PolicyDomain, Role, RuleScope, Urgency,
};
pub use notice::{Audience, MessageKind, Notice, notices};
pub use privacy::{contains_bsn, is_valid_bsn};
pub use scope::{
    BarrierScope, MeetingScope, ReadScope, StatisticsScope, barrier_scope, may_read,
    may_read_barrier, may_read_meeting, may_read_statistics, may_read_summary,
    may_record_implementation, may_run_meetings, may_search_precedents, may_see_email,
    may_see_name, meeting_scope, read_scope, statistics_scope,
};
pub use submission::{NewCase, ReferenceData, SubmitInput};
pub use values::{AreaCode, BwbId, CaseReference, EmailAddress, Euros, MinistryCode, Text};

/// Identifier of a user (database key).
pub type UserId = i64;
/// Identifier of a case (database key).
pub type CaseId = i64;
/// A point in time, UTC. The core never reads the clock; callers pass it.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
