//! The escalation ladder as a state machine.
//!
//! [`decide`] takes a case, who acts, what they ask, the time and the
//! policy, and either refuses or returns the [`Event`] to record. [`apply`]
//! folds an event into a case's [`Status`]. Nothing else changes a case.
//!
//! The order of the guards is fixed, so every refusal is predictable:
//! 1. the role never takes this action → `Forbidden`;
//! 2. the action does not fit the case's state → `InvalidTransition`;
//! 3. the actor is not the one who may act here (area, assignee,
//!    submitter) → `Forbidden`;
//! 4. the arguments are wrong → `Validation` / `PersonalData`.

use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

use crate::decision::{Decision, Facts, finish};
use crate::model::{CaseAction, CaseState, Level, Outcome, PolicyDomain, Role, RuleScope, Urgency};
use crate::values::{Euros, Text};
use crate::{CaseId, Timestamp, UserId};

/// Why a request is refused. Each variant maps to one API error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    InvalidTransition(String),
    #[error("{field} {message}")]
    Validation { field: String, message: String },
    #[error(
        "{field} appears to contain a citizen service number (BSN); describe the rule, not the resident"
    )]
    PersonalData { field: String },
}

impl Refusal {
    pub fn validation(field: &str, message: impl Into<String>) -> Refusal {
        Refusal::Validation {
            field: field.to_owned(),
            message: message.into(),
        }
    }
    fn forbidden(message: impl Into<String>) -> Refusal {
        Refusal::Forbidden(message.into())
    }
    fn invalid(message: impl Into<String>) -> Refusal {
        Refusal::InvalidTransition(message.into())
    }
}

/// Who is acting, as far as the rules care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub id: UserId,
    pub role: Role,
    /// Focus area codes the user works in.
    pub areas: Vec<String>,
    /// Ministry code, for representatives and analysts.
    pub ministry: Option<String>,
}

impl Principal {
    pub fn has_area(&self, code: &str) -> bool {
        self.areas.iter().any(|a| a == code)
    }
}

/// The configurable part of the rules: service norms per level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Days allowed at each level, indexed in ladder order.
    pub norm_days: [i64; 4],
    /// Whether a level escalates by itself once its deadline passes.
    pub auto_escalate: [bool; 4],
    /// Days after a decision during which the submitter may contest it.
    pub contest_window_days: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            norm_days: [10, 42, 20, 60],
            auto_escalate: [false; 4],
            contest_window_days: 30,
        }
    }
}

impl Policy {
    pub fn norm(&self, level: Level) -> Duration {
        Duration::days(self.norm_days[level as usize])
    }
    pub fn deadline(&self, level: Level, from: Timestamp) -> Timestamp {
        from + self.norm(level)
    }
}

/// The rule that blocks, as the professional cited it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub citation: String,
    pub bwb_id: Option<String>,
    pub scope: RuleScope,
    pub owning_ministry: Option<String>,
}

/// What was submitted. Never changes after submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub reference: String,
    pub title: String,
    pub description: String,
    pub focus_area: String,
    pub domains: Vec<PolicyDomain>,
    pub rule: Rule,
    pub desired_action: String,
    pub households_affected: Option<i32>,
    pub estimated_cost: Option<Euros>,
    pub urgency: Urgency,
    pub submitted_by: UserId,
    pub created_at: Timestamp,
}

/// A decision on a case (resolution, or closure without breakthrough).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// `None` for a closure without breakthrough.
    pub outcome: Option<Outcome>,
    pub explanation: String,
    pub funds_unlocked: Option<Euros>,
    pub level: Level,
    pub decided_at: Timestamp,
    /// Structural breakthroughs: when the change takes effect.
    pub effective_from: Option<NaiveDate>,
    /// Experiments: when the room to deviate ends.
    pub experiment_ends: Option<NaiveDate>,
    /// Experiments: when the experiment is evaluated.
    pub evaluation_date: Option<NaiveDate>,
}

/// Where a case stands. Rebuilt exactly by folding its events with [`apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub state: CaseState,
    /// The level that holds the case; for closed cases, the last one.
    pub level: Level,
    /// The highest level the case ever reached.
    pub highest_level: Level,
    pub assignee: Option<UserId>,
    /// When the current level's service norm runs out (open cases only).
    pub deadline: Option<Timestamp>,
    /// When the clock was paused to wait for the submitter.
    pub paused_at: Option<Timestamp>,
    pub resolution: Option<Resolution>,
    pub merged_into: Option<CaseId>,
    /// The barrier (register entry) the case is linked to.
    pub barrier: Option<i64>,
    pub version: i32,
    pub updated_at: Timestamp,
}

/// A case as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub id: CaseId,
    pub facts: CaseFacts,
    pub status: Status,
}

/// The case another one is merged into, as far as the rules need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeTarget {
    pub id: CaseId,
    pub state: CaseState,
}

/// The dates a resolution may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecisionDates {
    pub effective_from: Option<NaiveDate>,
    pub experiment_ends: Option<NaiveDate>,
    pub evaluation_date: Option<NaiveDate>,
}

/// A request to change a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    PickUp,
    Release,
    RequestInformation {
        question: String,
    },
    ProvideInformation {
        answer: String,
    },
    Escalate {
        motivation: String,
    },
    ReferBack {
        motivation: String,
    },
    Resolve {
        outcome: Outcome,
        explanation: String,
        funds_unlocked: Option<Decimal>,
        dates: DecisionDates,
    },
    CloseNoBreakthrough {
        explanation: String,
    },
    Reject {
        reason: String,
    },
    /// Merge into another case (its state comes with the facts).
    Merge {
        into: CaseId,
    },
    Withdraw {
        reason: String,
    },
    Contest {
        reason: String,
    },
}

impl Command {
    pub fn action(&self) -> CaseAction {
        match self {
            Command::PickUp => CaseAction::PickUp,
            Command::Release => CaseAction::Release,
            Command::RequestInformation { .. } => CaseAction::RequestInformation,
            Command::ProvideInformation { .. } => CaseAction::ProvideInformation,
            Command::Escalate { .. } => CaseAction::Escalate,
            Command::ReferBack { .. } => CaseAction::ReferBack,
            Command::Resolve { .. } => CaseAction::Resolve,
            Command::CloseNoBreakthrough { .. } => CaseAction::CloseNoBreakthrough,
            Command::Reject { .. } => CaseAction::Reject,
            Command::Merge { .. } => CaseAction::Merge,
            Command::Withdraw { .. } => CaseAction::Withdraw,
            Command::Contest { .. } => CaseAction::Contest,
        }
    }
}

/// What an event records: a submission or one of the case actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventAction {
    Submit,
    Case(CaseAction),
    /// The case was linked to a barrier of the register.
    LinkBarrier,
}

impl EventAction {
    pub fn as_str(self) -> &'static str {
        match self {
            EventAction::Submit => "SUBMIT",
            EventAction::Case(a) => a.as_str(),
            EventAction::LinkBarrier => "LINK_BARRIER",
        }
    }
    pub fn parse(s: &str) -> Option<EventAction> {
        match s {
            "SUBMIT" => Some(EventAction::Submit),
            "LINK_BARRIER" => Some(EventAction::LinkBarrier),
            _ => s.parse().ok().map(EventAction::Case),
        }
    }
}

/// The values of a case's status after an event. Recording the results
/// (not only the inputs) keeps replay exact even when the policy changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    pub level: Level,
    pub assignee: Option<UserId>,
    pub deadline: Option<Timestamp>,
    pub paused_at: Option<Timestamp>,
    pub resolution: Option<Resolution>,
    pub merged_into: Option<CaseId>,
    pub barrier: Option<i64>,
}

/// One entry of a case's append-only log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub action: EventAction,
    pub from_state: Option<CaseState>,
    pub to_state: CaseState,
    pub actor: UserId,
    pub actor_role: Role,
    /// The motivation, question, answer, reason or explanation, if any.
    pub note: Option<String>,
    pub at: Timestamp,
    pub effect: Effect,
    /// The meeting whose agenda item this decision was recorded against.
    pub meeting: Option<i64>,
}

/// The event that opens a case's log.
pub fn submission_event(submitter: &Principal, now: Timestamp, policy: &Policy) -> Event {
    Event {
        action: EventAction::Submit,
        from_state: None,
        to_state: CaseState::AtProgrammeBureau,
        actor: submitter.id,
        actor_role: submitter.role,
        note: None,
        at: now,
        effect: Effect {
            level: Level::ProgrammeBureau,
            assignee: None,
            deadline: Some(policy.deadline(Level::ProgrammeBureau, now)),
            paused_at: None,
            resolution: None,
            merged_into: None,
            barrier: None,
        },
        meeting: None,
    }
}

/// Folds one event into a status (`None` before the first event).
pub fn apply(before: Option<&Status>, event: &Event) -> Status {
    let e = &event.effect;
    Status {
        state: event.to_state,
        level: e.level,
        highest_level: before.map_or(e.level, |b| b.highest_level.max(e.level)),
        assignee: e.assignee,
        deadline: e.deadline,
        paused_at: e.paused_at,
        resolution: e.resolution.clone(),
        merged_into: e.merged_into,
        barrier: e.barrier,
        version: before.map_or(1, |b| b.version + 1),
        updated_at: event.at,
    }
}

/// Rebuilds a status from a whole log; `None` for an empty log.
pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Option<Status> {
    events
        .into_iter()
        .fold(None, |s, e| Some(apply(s.as_ref(), e)))
}

/// True when an open case at a level has passed its deadline. Time spent
/// waiting for the submitter does not count: such a case is never overdue.
pub fn is_overdue(status: &Status, now: Timestamp) -> bool {
    status.state.active_level().is_some() && status.deadline.is_some_and(|d| d < now)
}

/// The escalation a level makes by itself once its deadline has passed, if
/// the policy says so for that level (and there is a level above it).
/// `system` is the engine's own user; the event says why it acted.
pub fn auto_escalation(
    case: &Case,
    system: &Principal,
    facts: &Facts,
    now: Timestamp,
    policy: &Policy,
) -> Option<Decision> {
    let s = &case.status;
    let level = s.state.active_level()?;
    if !policy.auto_escalate[level as usize] || !is_overdue(s, now) {
        return None;
    }
    let up = level.up()?;
    let deadline = s.deadline?;
    let event = Event {
        action: EventAction::Case(CaseAction::Escalate),
        from_state: Some(s.state),
        to_state: up.state(),
        actor: system.id,
        actor_role: system.role,
        note: Some(format!(
            "escalated automatically: the {} deadline of {} passed",
            level_name(level),
            deadline.format("%Y-%m-%d %H:%M UTC")
        )),
        at: now,
        effect: Effect {
            level: up,
            assignee: None,
            deadline: Some(policy.deadline(up, now)),
            paused_at: None,
            resolution: None,
            merged_into: None,
            barrier: s.barrier,
        },
        meeting: None,
    };
    Some(finish(case, event, facts))
}

/// Whether a role ever takes an action (the role table of DOMAIN.md).
fn role_takes(role: Role, action: CaseAction) -> bool {
    use CaseAction::*;
    match role {
        Role::Professional => matches!(action, ProvideInformation | Withdraw | Contest),
        Role::ProgrammeBureau => matches!(
            action,
            PickUp
                | Release
                | RequestInformation
                | Escalate
                | Resolve
                | CloseNoBreakthrough
                | Reject
                | Merge
        ),
        Role::AllianceSecretary => matches!(
            action,
            RequestInformation | Escalate | ReferBack | Resolve | CloseNoBreakthrough
        ),
        Role::NationalRepresentative => matches!(
            action,
            PickUp
                | Release
                | RequestInformation
                | Escalate
                | ReferBack
                | Resolve
                | CloseNoBreakthrough
        ),
        Role::BreakthroughSecretariat => {
            matches!(
                action,
                RequestInformation | ReferBack | Resolve | CloseNoBreakthrough
            )
        }
        Role::MinistryAnalyst | Role::Administrator => false,
    }
}

/// The role that holds a case now (`None` once it is closed): the
/// handlers of its level, or the submitter while information is asked.
pub const fn holder_role(status: &Status) -> Option<Role> {
    match status.state {
        CaseState::AwaitingInformation => Some(Role::Professional),
        state => match state.active_level() {
            Some(level) => Some(handler_role(level)),
            None => None,
        },
    }
}

/// The role that handles cases at a level.
pub const fn handler_role(level: Level) -> Role {
    match level {
        Level::ProgrammeBureau => Role::ProgrammeBureau,
        Level::Alliance => Role::AllianceSecretary,
        Level::NationalRepresentative => Role::NationalRepresentative,
        Level::BreakthroughMeeting => Role::BreakthroughSecretariat,
    }
}

/// The level whose cases a role handles (the inverse of [`handler_role`]):
/// what a handler's queue holds.
pub const fn handled_level(role: Role) -> Option<Level> {
    match role {
        Role::ProgrammeBureau => Some(Level::ProgrammeBureau),
        Role::AllianceSecretary => Some(Level::Alliance),
        Role::NationalRepresentative => Some(Level::NationalRepresentative),
        Role::BreakthroughSecretariat => Some(Level::BreakthroughMeeting),
        Role::Professional | Role::MinistryAnalyst | Role::Administrator => None,
    }
}

/// Is `p` one of the people who may act on the case at `level` at all
/// (role and area), regardless of who holds it?
fn is_level_handler(case: &Case, p: &Principal, level: Level) -> bool {
    p.role == handler_role(level)
        && match level {
            Level::BreakthroughMeeting => true,
            Level::ProgrammeBureau | Level::Alliance | Level::NationalRepresentative => {
                p.has_area(&case.facts.focus_area)
            }
        }
}

fn require_handler(case: &Case, p: &Principal, level: Level) -> Result<(), Refusal> {
    if !is_level_handler(case, p, level) {
        return Err(match p.role == handler_role(level) {
            true => Refusal::forbidden("this case is in a focus area you do not work in"),
            false => Refusal::forbidden(format!(
                "at the {} level only the {} acts on a case",
                level_name(level),
                role_name(handler_role(level))
            )),
        });
    }
    // At the national representative level, the one who picked it up acts.
    if level == Level::NationalRepresentative && case.status.assignee != Some(p.id) {
        return Err(match case.status.assignee {
            None => Refusal::forbidden("pick the case up before acting on it"),
            Some(_) => Refusal::forbidden("another national representative holds this case"),
        });
    }
    Ok(())
}

fn require_submitter(case: &Case, p: &Principal) -> Result<(), Refusal> {
    if case.facts.submitted_by == p.id {
        Ok(())
    } else {
        Err(Refusal::forbidden(
            "only the professional who submitted the case may do this",
        ))
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::ProgrammeBureau => "programme bureau",
        Level::Alliance => "alliance",
        Level::NationalRepresentative => "national representative",
        Level::BreakthroughMeeting => "breakthrough meeting",
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Professional => "professional",
        Role::ProgrammeBureau => "programme bureau",
        Role::AllianceSecretary => "alliance secretary",
        Role::NationalRepresentative => "national representative",
        Role::BreakthroughSecretariat => "breakthrough secretariat",
        Role::MinistryAnalyst => "ministry analyst",
        Role::Administrator => "administrator",
    }
}

fn state_name(state: CaseState) -> &'static str {
    match state {
        CaseState::AtProgrammeBureau => "at the programme bureau",
        CaseState::AtAlliance => "at the alliance",
        CaseState::AtNationalRepresentative => "at the national representative",
        CaseState::AtBreakthroughMeeting => "at the breakthrough meeting",
        CaseState::AwaitingInformation => "waiting for information from the submitter",
        CaseState::Resolved => "resolved",
        CaseState::ClosedNoBreakthrough => "closed without breakthrough",
        CaseState::Rejected => "rejected",
        CaseState::Merged => "merged into another case",
        CaseState::Withdrawn => "withdrawn",
    }
}

fn not_now(case: &Case, action: CaseAction) -> Refusal {
    Refusal::invalid(format!(
        "{action} is not possible while the case is {}",
        state_name(case.status.state)
    ))
}

/// Checks whether `p` may take `action` on `case` now, without looking at
/// the action's arguments. [`available_actions`] is built on it.
pub fn guard(
    case: &Case,
    p: &Principal,
    action: CaseAction,
    now: Timestamp,
    policy: &Policy,
) -> Result<(), Refusal> {
    use CaseAction::*;
    if !role_takes(p.role, action) {
        return Err(Refusal::forbidden(format!(
            "a {} cannot {}",
            role_name(p.role),
            action.as_str().to_ascii_lowercase().replace('_', " ")
        )));
    }
    let s = &case.status;
    match s.state {
        CaseState::Rejected | CaseState::Merged | CaseState::Withdrawn => {
            Err(not_now(case, action))
        }
        CaseState::Resolved | CaseState::ClosedNoBreakthrough => match action {
            Contest => {
                require_submitter(case, p)?;
                let decided = s.resolution.as_ref().map_or(s.updated_at, |r| r.decided_at);
                if now > decided + Duration::days(policy.contest_window_days) {
                    Err(Refusal::invalid(format!(
                        "a decision can only be contested within {} days",
                        policy.contest_window_days
                    )))
                } else {
                    Ok(())
                }
            }
            PickUp | Release | RequestInformation | ProvideInformation | Escalate | ReferBack
            | Resolve | CloseNoBreakthrough | Reject | Merge | Withdraw => {
                Err(not_now(case, action))
            }
        },
        CaseState::AwaitingInformation => match action {
            ProvideInformation | Withdraw => require_submitter(case, p),
            // The handler may still end a case whose submitter never answers.
            CloseNoBreakthrough => require_handler(case, p, s.level),
            Reject | Merge if s.level == Level::ProgrammeBureau => {
                require_handler(case, p, s.level)
            }
            PickUp | Release | RequestInformation | Escalate | ReferBack | Resolve | Reject
            | Merge | Contest => Err(not_now(case, action)),
        },
        CaseState::AtProgrammeBureau
        | CaseState::AtAlliance
        | CaseState::AtNationalRepresentative
        | CaseState::AtBreakthroughMeeting => {
            let level = s.level;
            match action {
                PickUp => {
                    if !matches!(
                        level,
                        Level::ProgrammeBureau | Level::NationalRepresentative
                    ) {
                        return Err(Refusal::invalid(format!(
                            "cases at the {} are decided in its meeting, not picked up",
                            level_name(level)
                        )));
                    }
                    if !is_level_handler(case, p, level) {
                        return require_handler(case, p, level);
                    }
                    match s.assignee {
                        None => Ok(()),
                        Some(a) if a == p.id => Err(Refusal::invalid("you already hold this case")),
                        Some(_) => Err(Refusal::invalid("someone else already holds this case")),
                    }
                }
                Release => {
                    if !is_level_handler(case, p, level) {
                        return require_handler(case, p, level);
                    }
                    match s.assignee {
                        None => Err(Refusal::invalid("nobody holds this case")),
                        Some(a) if a == p.id => Ok(()),
                        Some(_) => Err(Refusal::forbidden(
                            "only the one who holds the case can release it",
                        )),
                    }
                }
                ProvideInformation => Err(not_now(case, action)),
                Contest => Err(not_now(case, action)),
                Withdraw => require_submitter(case, p),
                Escalate => {
                    if level.up().is_none() {
                        return Err(Refusal::invalid(
                            "the breakthrough meeting is the top of the ladder; there is no level above it",
                        ));
                    }
                    require_handler(case, p, level)
                }
                ReferBack => {
                    if level.down().is_none() {
                        return Err(Refusal::invalid(
                            "the programme bureau is the bottom of the ladder; there is no level below it",
                        ));
                    }
                    require_handler(case, p, level)
                }
                Reject | Merge => {
                    if level != Level::ProgrammeBureau {
                        return Err(Refusal::invalid(format!(
                            "only the programme bureau can {} a case",
                            action.as_str().to_ascii_lowercase()
                        )));
                    }
                    require_handler(case, p, level)
                }
                RequestInformation | Resolve | CloseNoBreakthrough => {
                    require_handler(case, p, level)
                }
            }
        }
    }
}

/// The actions `p` may take on `case` now, in the order of [`CaseAction::ALL`].
pub fn available_actions(
    case: &Case,
    p: &Principal,
    now: Timestamp,
    policy: &Policy,
) -> Vec<CaseAction> {
    CaseAction::ALL
        .iter()
        .copied()
        .filter(|a| guard(case, p, *a, now, policy).is_ok())
        .collect()
}

const NOTE_MIN: usize = 3;
const NOTE_MAX: usize = 5_000;

fn note(field: &str, raw: &str) -> Result<String, Refusal> {
    Ok(Text::parse(field, raw, NOTE_MIN, NOTE_MAX)?.into_string())
}

/// Decides what happens when `p` asks `command` of `case` at `now`, given
/// the facts the engine looked up: the whole decision, event and
/// follow-ups, final.
pub fn decide(
    case: &Case,
    p: &Principal,
    command: &Command,
    facts: &Facts,
    now: Timestamp,
    policy: &Policy,
) -> Result<Decision, Refusal> {
    guard(case, p, command.action(), now, policy)?;
    let s = &case.status;
    let keep = Effect {
        level: s.level,
        assignee: s.assignee,
        deadline: s.deadline,
        paused_at: s.paused_at,
        resolution: s.resolution.clone(),
        merged_into: s.merged_into,
        barrier: s.barrier,
    };
    let closed = |resolution: Option<Resolution>, merged_into: Option<CaseId>| Effect {
        deadline: None,
        paused_at: None,
        resolution,
        merged_into,
        ..keep.clone()
    };
    let moved = |level: Level| Effect {
        level,
        assignee: None,
        deadline: Some(policy.deadline(level, now)),
        paused_at: None,
        resolution: None,
        merged_into: None,
        barrier: s.barrier,
    };
    let (to_state, note_text, effect) = match command {
        Command::PickUp => (
            s.state,
            None,
            Effect {
                assignee: Some(p.id),
                ..keep
            },
        ),
        Command::Release => (
            s.state,
            None,
            Effect {
                assignee: None,
                ..keep
            },
        ),
        Command::RequestInformation { question } => (
            CaseState::AwaitingInformation,
            Some(note("question", question)?),
            Effect {
                paused_at: Some(now),
                ..keep
            },
        ),
        Command::ProvideInformation { answer } => {
            let paused = s.paused_at.map_or(Duration::zero(), |at| now - at);
            (
                s.level.state(),
                Some(note("answer", answer)?),
                Effect {
                    deadline: s.deadline.map(|d| d + paused),
                    paused_at: None,
                    ..keep
                },
            )
        }
        Command::Escalate { motivation } => {
            let up = s
                .level
                .up()
                .ok_or_else(|| not_now(case, CaseAction::Escalate))?;
            (up.state(), Some(note("motivation", motivation)?), moved(up))
        }
        Command::ReferBack { motivation } => {
            let down = s
                .level
                .down()
                .ok_or_else(|| not_now(case, CaseAction::ReferBack))?;
            (
                down.state(),
                Some(note("motivation", motivation)?),
                moved(down),
            )
        }
        Command::Resolve {
            outcome,
            explanation,
            funds_unlocked,
            dates,
        } => {
            let explanation = note("input.explanation", explanation)?;
            // The case's barrier already has a breakthrough decided at
            // national level: the case may be resolved by reference to it.
            let by_reference = facts.barrier.is_some_and(|(_, b)| b.has_breakthrough());
            if *outcome == Outcome::StructuralBreakthrough
                && case.facts.rule.scope == RuleScope::National
                && s.level < Level::NationalRepresentative
                && !by_reference
            {
                return Err(Refusal::validation(
                    "input.outcome",
                    "a national rule can only be changed structurally at the national representative or the breakthrough meeting",
                ));
            }
            let funds = match (outcome, funds_unlocked) {
                (Outcome::FundingUnlocked, None) => {
                    return Err(Refusal::validation(
                        "input.fundsUnlocked",
                        "is required when funding is unlocked",
                    ));
                }
                (Outcome::FundingUnlocked, Some(d)) => {
                    let e = Euros::from_decimal("input.fundsUnlocked", *d)?;
                    if e.is_zero() {
                        return Err(Refusal::validation(
                            "input.fundsUnlocked",
                            "must be more than zero",
                        ));
                    }
                    Some(e)
                }
                (_, Some(_)) => {
                    return Err(Refusal::validation(
                        "input.fundsUnlocked",
                        "is only given with the outcome FUNDING_UNLOCKED",
                    ));
                }
                (_, None) => None,
            };
            let dates = check_dates(*outcome, dates, now)?;
            let resolution = Resolution {
                outcome: Some(*outcome),
                explanation: explanation.clone(),
                funds_unlocked: funds,
                level: s.level,
                decided_at: now,
                effective_from: dates.effective_from,
                experiment_ends: dates.experiment_ends,
                evaluation_date: dates.evaluation_date,
            };
            (
                CaseState::Resolved,
                Some(explanation),
                closed(Some(resolution), None),
            )
        }
        Command::CloseNoBreakthrough { explanation } => {
            let explanation = note("explanation", explanation)?;
            let resolution = Resolution {
                outcome: None,
                explanation: explanation.clone(),
                funds_unlocked: None,
                level: s.level,
                decided_at: now,
                effective_from: None,
                experiment_ends: None,
                evaluation_date: None,
            };
            (
                CaseState::ClosedNoBreakthrough,
                Some(explanation),
                closed(Some(resolution), None),
            )
        }
        Command::Reject { reason } => (
            CaseState::Rejected,
            Some(note("reason", reason)?),
            closed(None, None),
        ),
        Command::Merge { into } => {
            if *into == case.id {
                return Err(Refusal::validation(
                    "intoId",
                    "a case cannot be merged into itself",
                ));
            }
            let Some(into) = facts.merge_target.filter(|t| t.id == *into) else {
                return Err(Refusal::validation(
                    "intoId",
                    "is not a case you can merge into",
                ));
            };
            if into.state.is_final() {
                return Err(Refusal::invalid(format!(
                    "the case to merge into is {}",
                    state_name(into.state)
                )));
            }
            (CaseState::Merged, None, closed(None, Some(into.id)))
        }
        Command::Withdraw { reason } => (
            CaseState::Withdrawn,
            Some(note("reason", reason)?),
            closed(None, None),
        ),
        Command::Contest { reason } => {
            let level = s.resolution.as_ref().map_or(s.level, |r| r.level);
            (level.state(), Some(note("reason", reason)?), moved(level))
        }
    };
    let event = Event {
        action: EventAction::Case(command.action()),
        from_state: Some(s.state),
        to_state,
        actor: p.id,
        actor_role: p.role,
        note: note_text,
        at: now,
        effect,
        meeting: None,
    };
    Ok(finish(case, event, facts))
}

/// Structural breakthroughs say when they take effect; experiments when
/// they end and when they are evaluated; other outcomes carry no dates.
fn check_dates(
    outcome: Outcome,
    d: &DecisionDates,
    now: Timestamp,
) -> Result<DecisionDates, Refusal> {
    let today = now.date_naive();
    let refuse_others = |d: &DecisionDates, keep: &[&str]| -> Result<(), Refusal> {
        for (name, v) in [
            ("input.effectiveFrom", d.effective_from),
            ("input.experimentEnds", d.experiment_ends),
            ("input.evaluationDate", d.evaluation_date),
        ] {
            if v.is_some() && !keep.contains(&name) {
                return Err(Refusal::validation(
                    name,
                    format!("does not apply to the outcome {outcome}"),
                ));
            }
        }
        Ok(())
    };
    match outcome {
        Outcome::StructuralBreakthrough => {
            refuse_others(d, &["input.effectiveFrom"])?;
            if d.effective_from.is_none() {
                return Err(Refusal::validation(
                    "input.effectiveFrom",
                    "is required: when does the changed rule take effect?",
                ));
            }
        }
        Outcome::Experiment => {
            refuse_others(d, &["input.experimentEnds", "input.evaluationDate"])?;
            let (Some(ends), Some(evaluate)) = (d.experiment_ends, d.evaluation_date) else {
                return Err(Refusal::validation(
                    if d.experiment_ends.is_none() {
                        "input.experimentEnds"
                    } else {
                        "input.evaluationDate"
                    },
                    "is required for an experiment (its end and its evaluation date)",
                ));
            };
            if ends <= today {
                return Err(Refusal::validation(
                    "input.experimentEnds",
                    "must lie in the future",
                ));
            }
            if evaluate > ends {
                return Err(Refusal::validation(
                    "input.evaluationDate",
                    "must not be after the end of the experiment",
                ));
            }
        }
        Outcome::AlreadyPossible | Outcome::IncidentalBreakthrough | Outcome::FundingUnlocked => {
            refuse_others(d, &[])?;
        }
    }
    Ok(*d)
}

/// May `p` link `case` to a barrier of the register (to `barrier`, when
/// it is an existing one)? The programme bureau does so while the case is
/// with it; a national representative while they hold it.
pub fn check_link(case: &Case, p: &Principal, barrier: Option<i64>) -> Result<(), Refusal> {
    let s = &case.status;
    if !matches!(p.role, Role::ProgrammeBureau | Role::NationalRepresentative) {
        return Err(Refusal::forbidden(
            "only the programme bureau or the national representative links cases to barriers",
        ));
    }
    if !s.state.is_open() {
        return Err(Refusal::invalid(format!(
            "a case that is {} is no longer linked to barriers",
            state_name(s.state)
        )));
    }
    let level = match p.role {
        Role::ProgrammeBureau => Level::ProgrammeBureau,
        _ => Level::NationalRepresentative,
    };
    if s.level != level {
        return Err(Refusal::invalid(format!(
            "the case is not at the {} level",
            level_name(level)
        )));
    }
    require_handler(case, p, level)?;
    if barrier.is_some() && s.barrier == barrier {
        return Err(Refusal::invalid(
            "the case is already linked to this barrier",
        ));
    }
    Ok(())
}

/// The event of linking `case` to barrier `barrier`, once [`check_link`]
/// allowed it. For a new barrier the store calls this with the barrier's
/// id inside the transaction that creates it, so the event is made once,
/// here, and never rewritten.
pub fn link_event(case: &Case, p: &Principal, barrier: i64, now: Timestamp) -> Event {
    let s = &case.status;
    Event {
        action: EventAction::LinkBarrier,
        from_state: Some(s.state),
        to_state: s.state,
        actor: p.id,
        actor_role: p.role,
        note: Some(format!("linked to barrier {barrier}")),
        at: now,
        effect: Effect {
            level: s.level,
            assignee: s.assignee,
            deadline: s.deadline,
            paused_at: s.paused_at,
            resolution: s.resolution.clone(),
            merged_into: s.merged_into,
            barrier: Some(barrier),
        },
        meeting: None,
    }
}

/// [`check_link`], then [`link_event`].
pub fn link_barrier(
    case: &Case,
    p: &Principal,
    barrier: i64,
    now: Timestamp,
) -> Result<Event, Refusal> {
    check_link(case, p, Some(barrier))?;
    Ok(link_event(case, p, barrier, now))
}
