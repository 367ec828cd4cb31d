//! Output and input types.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use doorbraak_core as core;
use doorbraak_engine::{Engine, FocusAreaRow, MinistryRow, StoredEvent, UserRecord};

use crate::Caller;
use crate::errors::{ApiResult, ErrorCode, to_gql};
use crate::loaders::{Events, Users};
use crate::scalars::{Day, Money};

/// The caller, or `UNAUTHENTICATED`.
pub fn caller<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a UserRecord> {
    ctx.data_opt::<Caller>()
        .map(|c| &c.0)
        .ok_or_else(|| ErrorCode::Unauthenticated.error("a valid bearer token is required"))
}

pub fn engine<'a>(ctx: &'a Context<'_>) -> &'a Engine {
    ctx.data_unchecked::<Engine>()
}

/// What a user is, which decides what they may do.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Role", remote = "core::Role")]
pub enum Role {
    Professional,
    ProgrammeBureau,
    AllianceSecretary,
    NationalRepresentative,
    BreakthroughSecretariat,
    MinistryAnalyst,
    Administrator,
}

/// The rungs of the escalation ladder, lowest first.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Level", remote = "core::Level")]
pub enum Level {
    ProgrammeBureau,
    Alliance,
    NationalRepresentative,
    BreakthroughMeeting,
}

/// Where a case is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "CaseState", remote = "core::CaseState")]
pub enum CaseState {
    AtProgrammeBureau,
    AtAlliance,
    AtNationalRepresentative,
    AtBreakthroughMeeting,
    AwaitingInformation,
    Resolved,
    ClosedNoBreakthrough,
    Rejected,
    Merged,
    Withdrawn,
}

/// How a case was resolved.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Outcome", remote = "core::Outcome")]
pub enum Outcome {
    AlreadyPossible,
    IncidentalBreakthrough,
    StructuralBreakthrough,
    Experiment,
    FundingUnlocked,
}

/// Whose rule blocks.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "RuleScope", remote = "core::RuleScope")]
pub enum RuleScope {
    Organisation,
    Municipal,
    National,
}

/// Policy domains.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "PolicyDomain", remote = "core::PolicyDomain")]
pub enum PolicyDomain {
    Education,
    WorkIncome,
    DebtPoverty,
    Housing,
    HealthCare,
    Youth,
    Safety,
    Other,
}

/// How urgent the submitter says the case is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
#[graphql(name = "Urgency", remote = "core::Urgency")]
pub enum Urgency {
    #[default]
    Normal,
    Urgent,
}

/// The actions that can be taken on a submitted case.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "CaseAction", remote = "core::CaseAction")]
pub enum CaseAction {
    PickUp,
    Release,
    RequestInformation,
    ProvideInformation,
    Escalate,
    ReferBack,
    Resolve,
    CloseNoBreakthrough,
    Reject,
    Merge,
    Withdraw,
    Contest,
}

/// What an event records: the submission, or one of the case actions.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CaseEventAction {
    Submit,
    LinkBarrier,
    PickUp,
    Release,
    RequestInformation,
    ProvideInformation,
    Escalate,
    ReferBack,
    Resolve,
    CloseNoBreakthrough,
    Reject,
    Merge,
    Withdraw,
    Contest,
}

impl From<core::EventAction> for CaseEventAction {
    fn from(a: core::EventAction) -> Self {
        use core::CaseAction as A;
        match a {
            core::EventAction::Submit => CaseEventAction::Submit,
            core::EventAction::LinkBarrier => CaseEventAction::LinkBarrier,
            core::EventAction::Case(a) => match a {
                A::PickUp => CaseEventAction::PickUp,
                A::Release => CaseEventAction::Release,
                A::RequestInformation => CaseEventAction::RequestInformation,
                A::ProvideInformation => CaseEventAction::ProvideInformation,
                A::Escalate => CaseEventAction::Escalate,
                A::ReferBack => CaseEventAction::ReferBack,
                A::Resolve => CaseEventAction::Resolve,
                A::CloseNoBreakthrough => CaseEventAction::CloseNoBreakthrough,
                A::Reject => CaseEventAction::Reject,
                A::Merge => CaseEventAction::Merge,
                A::Withdraw => CaseEventAction::Withdraw,
                A::Contest => CaseEventAction::Contest,
            },
        }
    }
}

/// One of the urban focus areas.
#[derive(SimpleObject, Clone, Debug)]
pub struct FocusArea {
    /// Three-letter code, e.g. `ZDO`.
    pub code: String,
    pub name: String,
}

impl From<FocusAreaRow> for FocusArea {
    fn from(r: FocusAreaRow) -> Self {
        FocusArea {
            code: r.code,
            name: r.name,
        }
    }
}

/// A ministry that owns rules (and may provide national representatives).
#[derive(SimpleObject, Clone, Debug)]
pub struct Ministry {
    /// Code, e.g. `SZW`.
    pub code: String,
    pub name: String,
    /// Whether it provides national representatives.
    pub provides_representative: bool,
}

impl From<MinistryRow> for Ministry {
    fn from(r: MinistryRow) -> Self {
        Ministry {
            code: r.code,
            name: r.name,
            provides_representative: r.provides_representative,
        }
    }
}

pub(crate) fn area_obj(engine: &Engine, code: &str) -> FocusArea {
    engine
        .focus_area(code)
        .map(FocusArea::from)
        .unwrap_or_else(|| FocusArea {
            code: code.to_owned(),
            name: code.to_owned(),
        })
}

pub(crate) fn ministry_obj(engine: &Engine, code: &str) -> Ministry {
    engine
        .ministry(code)
        .map(Ministry::from)
        .unwrap_or_else(|| Ministry {
            code: code.to_owned(),
            name: code.to_owned(),
            provides_representative: false,
        })
}

/// A user of Doorbraak.
pub struct User(pub UserRecord);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// The focus areas the user works in.
    async fn areas(&self, ctx: &Context<'_>) -> Vec<FocusArea> {
        let e = engine(ctx);
        self.0.areas.iter().map(|a| area_obj(e, a)).collect()
    }
    async fn ministry(&self, ctx: &Context<'_>) -> Option<Ministry> {
        self.0
            .ministry
            .as_deref()
            .map(|m| ministry_obj(engine(ctx), m))
    }
    /// The user's e-mail address (lower-cased): shown to the user and to
    /// administrators only, null to everyone else.
    async fn email(&self, ctx: &Context<'_>) -> Option<&str> {
        let me = ctx.data_opt::<crate::Caller>()?;
        doorbraak_core::may_see_email(&me.0.principal(), self.0.id)
            .then_some(self.0.email.as_deref())
            .flatten()
    }
    /// False once an administrator deactivated the user.
    async fn active(&self) -> bool {
        self.0.active
    }
}

/// A user just created, with their bearer token (shown this once only).
#[derive(SimpleObject)]
pub struct CreatedUser {
    pub user: User,
    pub token: String,
}

/// The rule that blocks.
pub struct Rule(core::Rule);

#[Object]
impl Rule {
    /// E.g. "Participatiewet art. 31".
    async fn citation(&self) -> &str {
        &self.0.citation
    }
    /// `BWBR` and seven digits, as on wetten.overheid.nl.
    async fn bwb_id(&self) -> Option<&str> {
        self.0.bwb_id.as_deref()
    }
    async fn scope(&self) -> RuleScope {
        self.0.scope.into()
    }
    async fn owning_ministry(&self, ctx: &Context<'_>) -> Option<Ministry> {
        self.0
            .owning_ministry
            .as_deref()
            .map(|m| ministry_obj(engine(ctx), m))
    }
}

/// A decision on a case: a resolution, or a closure without breakthrough
/// (then `outcome` is null). The explanation is written for the professional.
pub struct Resolution(core::Resolution);

#[Object]
impl Resolution {
    /// Null when the case was closed without breakthrough.
    async fn outcome(&self) -> Option<Outcome> {
        self.0.outcome.map(Into::into)
    }
    async fn explanation(&self) -> &str {
        &self.0.explanation
    }
    async fn funds_unlocked(&self) -> Option<Money> {
        self.0.funds_unlocked.map(|e| Money(e.to_decimal()))
    }
    /// The level that decided.
    async fn level(&self) -> Level {
        self.0.level.into()
    }
    async fn decided_at(&self) -> DateTime<Utc> {
        self.0.decided_at
    }
    /// Structural breakthroughs: when the change takes effect.
    async fn effective_from(&self) -> Option<Day> {
        self.0.effective_from.map(Day)
    }
    /// Experiments: when the room to deviate ends.
    async fn experiment_ends(&self) -> Option<Day> {
        self.0.experiment_ends.map(Day)
    }
    /// Experiments: when the experiment is evaluated.
    async fn evaluation_date(&self) -> Option<Day> {
        self.0.evaluation_date.map(Day)
    }
}

/// One entry of a case's append-only log.
pub struct CaseEvent(StoredEvent);

#[Object]
impl CaseEvent {
    /// 1 for the submission, then one more per event; equals the case's
    /// version right after the event.
    async fn sequence(&self) -> i32 {
        self.0.sequence
    }
    async fn action(&self) -> CaseEventAction {
        self.0.event.action.into()
    }
    async fn from_state(&self) -> Option<CaseState> {
        self.0.event.from_state.map(Into::into)
    }
    async fn to_state(&self) -> CaseState {
        self.0.event.to_state.into()
    }
    /// Who acted. A professional sees only their own name here; other
    /// steps show the role (`actorRole`).
    async fn actor(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        load_user(ctx, self.0.event.actor).await
    }
    /// The meeting whose decision this was, if any.
    async fn meeting_id(&self) -> Option<ID> {
        self.0.event.meeting.map(|m| ID(m.to_string()))
    }
    async fn actor_role(&self) -> Role {
        self.0.event.actor_role.into()
    }
    /// The motivation, question, answer, reason or explanation.
    async fn note(&self) -> Option<&str> {
        self.0.event.note.as_deref()
    }
    /// The level the case was at after this event.
    async fn level(&self) -> Level {
        self.0.event.effect.level.into()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.event.at
    }
}

async fn load_user(ctx: &Context<'_>, id: core::UserId) -> ApiResult<Option<User>> {
    let loader = ctx.data_unchecked::<Users>();
    Ok(loader.load_one(id).await.map_err(to_gql)?.map(User))
}

/// A breakthrough case.
pub struct Case(pub core::Case);

#[Object]
impl Case {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Human reference: area code, year, sequence (`ZDO-2026-0042`).
    async fn reference(&self) -> &str {
        &self.0.facts.reference
    }
    async fn title(&self) -> &str {
        &self.0.facts.title
    }
    /// The situation, about the rule (never personal data of residents).
    async fn description(&self) -> &str {
        &self.0.facts.description
    }
    async fn focus_area(&self, ctx: &Context<'_>) -> FocusArea {
        area_obj(engine(ctx), &self.0.facts.focus_area)
    }
    async fn domains(&self) -> Vec<PolicyDomain> {
        self.0.facts.domains.iter().map(|d| (*d).into()).collect()
    }
    async fn rule(&self) -> Rule {
        Rule(self.0.facts.rule.clone())
    }
    /// What the professional wants to do and cannot.
    async fn desired_action(&self) -> &str {
        &self.0.facts.desired_action
    }
    async fn households_affected(&self) -> Option<i32> {
        self.0.facts.households_affected
    }
    /// Estimated cost of the blockage, in euros.
    async fn estimated_cost(&self) -> Option<Money> {
        self.0.facts.estimated_cost.map(|e| Money(e.to_decimal()))
    }
    async fn urgency(&self) -> Urgency {
        self.0.facts.urgency.into()
    }
    async fn state(&self) -> CaseState {
        self.0.status.state.into()
    }
    /// The level that holds the case (for a closed case: the last one).
    async fn level(&self) -> Level {
        self.0.status.level.into()
    }
    /// The highest level the case has reached.
    async fn highest_level(&self) -> Level {
        self.0.status.highest_level.into()
    }
    /// Who picked the case up at its current level, if anyone. The
    /// submitter sees who holds the case by role (`holderRole`), not by name.
    async fn assignee(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        match self.0.status.assignee {
            Some(id) => load_user(ctx, id).await,
            None => Ok(None),
        }
    }
    /// The role that holds the case now (null once it is closed): the
    /// programme bureau, the alliance secretary, the national
    /// representative, the breakthrough secretariat, or the submitter when
    /// information was asked.
    async fn holder_role(&self) -> Option<Role> {
        core::holder_role(&self.0.status).map(Into::into)
    }
    /// The barrier of the register this case is linked to.
    async fn barrier(&self, ctx: &Context<'_>) -> ApiResult<Option<crate::register::Barrier>> {
        match self.0.status.barrier {
            Some(id) => crate::register::case_barrier(ctx, id).await,
            None => Ok(None),
        }
    }
    /// An open case whose barrier already has a breakthrough decided: it
    /// can be resolved by reference to that decision at any level.
    async fn precedent_available(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        if !self.0.status.state.is_open() {
            return Ok(false);
        }
        Ok(match self.0.status.barrier {
            Some(id) => crate::register::case_barrier(ctx, id)
                .await?
                .is_some_and(|b| b.0.status.has_breakthrough()),
            None => false,
        })
    }
    /// The meeting whose agenda the case is on now. Null when it is not
    /// at a meeting level, or waits for a meeting to be scheduled
    /// (`awaitingMeeting`).
    async fn next_meeting(&self, ctx: &Context<'_>) -> ApiResult<Option<crate::register::Meeting>> {
        crate::register::next_meeting(ctx, &self.0).await
    }
    /// At the alliance or the breakthrough meeting with no meeting
    /// scheduled yet: the case waits, visibly, for the secretary to plan one.
    async fn awaiting_meeting(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        if self.0.status.state.meeting_level().is_none() {
            return Ok(false);
        }
        Ok(crate::register::next_meeting(ctx, &self.0).await?.is_none())
    }
    /// The meetings the case was on, with what each decided.
    async fn meetings(&self, ctx: &Context<'_>) -> ApiResult<Vec<crate::register::AgendaItem>> {
        crate::register::meeting_history(ctx, &self.0).await
    }
    async fn submitted_by(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        load_user(ctx, self.0.facts.submitted_by).await
    }
    /// Rises by one with every event; send it back as `expectedVersion`.
    async fn version(&self) -> i32 {
        self.0.status.version
    }
    /// When the current level's service norm runs out. Moves on by the time
    /// spent waiting for the submitter. Null for closed cases.
    async fn deadline(&self) -> Option<DateTime<Utc>> {
        self.0.status.deadline
    }
    /// Past its deadline at a level (never while waiting for the submitter).
    async fn overdue(&self, ctx: &Context<'_>) -> bool {
        core::is_overdue(&self.0.status, engine(ctx).now())
    }
    async fn resolution(&self) -> Option<Resolution> {
        self.0.status.resolution.clone().map(Resolution)
    }
    /// For a merged case: the case it went into (null if you cannot see it).
    async fn merged_into(&self, ctx: &Context<'_>) -> ApiResult<Option<Case>> {
        let Some(id) = self.0.status.merged_into else {
            return Ok(None);
        };
        let me = caller(ctx)?.principal();
        Ok(engine(ctx).case(&me, id).await.map_err(to_gql)?.map(Case))
    }
    /// The append-only log, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseEvent>> {
        let loader = ctx.data_unchecked::<Events>();
        let events = loader
            .load_one(self.0.id)
            .await
            .map_err(to_gql)?
            .unwrap_or_default();
        Ok(events.into_iter().map(CaseEvent).collect())
    }
    /// The actions the caller may take on this case now.
    async fn available_actions(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseAction>> {
        let me = caller(ctx)?.principal();
        Ok(engine(ctx)
            .available_actions(&me, &self.0)
            .into_iter()
            .map(Into::into)
            .collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.facts.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.status.updated_at
    }
}

/// Relay page information.
#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject)]
pub struct CaseEdge {
    pub cursor: String,
    pub node: Case,
}

/// A page of cases, newest first (a stable order: by id, descending).
#[derive(SimpleObject)]
pub struct CaseConnection {
    pub edges: Vec<CaseEdge>,
    pub page_info: PageInfo,
}

/// Filters for `cases`. All given filters must hold.
#[derive(InputObject, Default)]
pub struct CaseFilter {
    pub states: Option<Vec<CaseState>>,
    pub levels: Option<Vec<Level>>,
    /// Focus area codes.
    pub focus_areas: Option<Vec<String>>,
    /// Only cases the caller holds.
    pub assigned_to_me: Option<bool>,
    /// Only cases past their deadline at a level.
    pub overdue: Option<bool>,
    pub urgency: Option<Urgency>,
    /// Only open cases whose barrier already has a breakthrough decided:
    /// they can be resolved by reference to that decision.
    pub precedent_available: Option<bool>,
    /// Only the cases linked to this barrier.
    pub barrier_id: Option<ID>,
}

#[derive(InputObject)]
pub struct RuleInput {
    pub citation: String,
    pub bwb_id: Option<String>,
    pub scope: RuleScope,
    /// Ministry code, e.g. `SZW`.
    pub owning_ministry: Option<String>,
}

#[derive(InputObject)]
pub struct SubmitCaseInput {
    pub title: String,
    pub description: String,
    /// Focus area code, e.g. `ZDO`.
    pub focus_area: String,
    pub domains: Vec<PolicyDomain>,
    pub rule: RuleInput,
    /// What the professional wants to do and cannot.
    pub desired_action: String,
    pub households_affected: Option<i32>,
    pub estimated_cost: Option<Money>,
    #[graphql(default)]
    pub urgency: Urgency,
}

#[derive(InputObject)]
pub struct ResolveCaseInput {
    pub outcome: Outcome,
    /// Plain language, for the professional who submitted the case.
    pub explanation: String,
    /// Required (above zero) with `FUNDING_UNLOCKED`, refused otherwise.
    pub funds_unlocked: Option<Money>,
    /// Required with `STRUCTURAL_BREAKTHROUGH`: when the change takes effect.
    pub effective_from: Option<Day>,
    /// Required with `EXPERIMENT`: when the room to deviate ends.
    pub experiment_ends: Option<Day>,
    /// Required with `EXPERIMENT`: when it is evaluated (not after its end).
    pub evaluation_date: Option<Day>,
}

#[derive(InputObject)]
pub struct CreateUserInput {
    pub name: String,
    pub role: Role,
    /// Focus area codes.
    #[graphql(default)]
    pub areas: Vec<String>,
    /// Ministry code.
    pub ministry: Option<String>,
    /// E-mail address: unique, compared without case.
    pub email: Option<String>,
}

/// A level's service norm.
#[derive(SimpleObject)]
pub struct ServiceNorm {
    pub level: Level,
    pub days: i32,
    pub auto_escalate: bool,
}
