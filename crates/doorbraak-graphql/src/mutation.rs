//! Mutations. Each case mutation takes the version the caller last saw.

use async_graphql::{Context, ID, Object};
use doorbraak_core as core;
use doorbraak_engine::CommandInput;

use crate::errors::{ApiResult, ErrorCode, to_gql};
use crate::loaders::Events;
use crate::query::parse_id;
use crate::types::{
    Case, CreateUserInput, CreatedUser, FocusArea, Level, Ministry, ResolveCaseInput, ServiceNorm,
    SubmitCaseInput, User, caller, engine,
};

#[derive(Default)]
pub struct CaseMutations;

/// Request data: the transition a mutation request brings, counted from
/// its arrival ([`doorbraak_engine::Engine::transition_coming`]). The
/// first case action of the request takes it.
pub struct Arriving(std::sync::Mutex<Option<doorbraak_engine::Coming>>);

impl Arriving {
    pub fn new(coming: Option<doorbraak_engine::Coming>) -> Arriving {
        Arriving(std::sync::Mutex::new(coming))
    }

    fn take(ctx: &Context<'_>) -> Option<doorbraak_engine::Coming> {
        ctx.data_opt::<Arriving>()?.0.lock().ok()?.take()
    }
}

async fn act(
    ctx: &Context<'_>,
    id: &ID,
    expected_version: i32,
    cmd: CommandInput,
) -> ApiResult<Case> {
    let me = caller(ctx)?.principal();
    let id = parse_id(id).ok_or_else(|| ErrorCode::NotFound.error("case not found"))?;
    // Boxed: the engine's future is large, and built in place on the
    // heap it is not copied into this one's state.
    let history = wants_events(ctx);
    let (case, events) = Box::pin(engine(ctx).act_with_history(
        &me,
        id,
        expected_version,
        cmd,
        history,
        Arriving::take(ctx),
    ))
    .await
    .map_err(to_gql)?;
    answered(ctx, case, events).await
}

/// Does the answer to this write ask for the case's events?
pub(crate) fn wants_events(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("events").exists()
}

/// The answer to a committed write. Its events come from memory when it
/// asks for them, not from a read after the commit: a database that goes
/// away just then cannot turn a committed write into an error.
pub(crate) async fn answered(
    ctx: &Context<'_>,
    case: core::Case,
    events: Option<Vec<doorbraak_engine::StoredEvent>>,
) -> ApiResult<Case> {
    if let Some(events) = events {
        ctx.data_unchecked::<Events>()
            .feed_one(case.id, events)
            .await;
    }
    Ok(Case(case))
}

#[Object]
impl CaseMutations {
    /// A professional submits a blocking rule.
    async fn submit_case(&self, ctx: &Context<'_>, input: SubmitCaseInput) -> ApiResult<Case> {
        let me = caller(ctx)?.principal();
        let input = core::SubmitInput {
            title: input.title,
            description: input.description,
            focus_area: input.focus_area,
            domains: input.domains.into_iter().map(Into::into).collect(),
            rule_citation: input.rule.citation,
            rule_bwb_id: input.rule.bwb_id,
            rule_scope: Some(input.rule.scope.into()),
            rule_owning_ministry: input.rule.owning_ministry,
            desired_action: input.desired_action,
            households_affected: input.households_affected,
            estimated_cost: input.estimated_cost.map(|m| m.0),
            urgency: input.urgency.into(),
        };
        let (case, events) = engine(ctx)
            .submit_with_history(&me, &input)
            .await
            .map_err(to_gql)?;
        answered(ctx, case, wants_events(ctx).then_some(events)).await
    }

    async fn pick_up_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> ApiResult<Case> {
        act(ctx, &id, expected_version, CommandInput::PickUp).await
    }

    async fn release_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> ApiResult<Case> {
        act(ctx, &id, expected_version, CommandInput::Release).await
    }

    /// Pauses the level's clock until the submitter answers.
    async fn request_information(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        question: String,
    ) -> ApiResult<Case> {
        act(
            ctx,
            &id,
            expected_version,
            CommandInput::RequestInformation { question },
        )
        .await
    }

    async fn provide_information(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        answer: String,
    ) -> ApiResult<Case> {
        act(
            ctx,
            &id,
            expected_version,
            CommandInput::ProvideInformation { answer },
        )
        .await
    }

    async fn escalate_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        motivation: String,
    ) -> ApiResult<Case> {
        act(
            ctx,
            &id,
            expected_version,
            CommandInput::Escalate { motivation },
        )
        .await
    }

    async fn refer_back_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        motivation: String,
    ) -> ApiResult<Case> {
        act(
            ctx,
            &id,
            expected_version,
            CommandInput::ReferBack { motivation },
        )
        .await
    }

    async fn resolve_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: ResolveCaseInput,
    ) -> ApiResult<Case> {
        let cmd = CommandInput::Resolve {
            outcome: input.outcome.into(),
            explanation: input.explanation,
            funds_unlocked: input.funds_unlocked.map(|m| m.0),
            dates: core::DecisionDates {
                effective_from: input.effective_from.map(|d| d.0),
                experiment_ends: input.experiment_ends.map(|d| d.0),
                evaluation_date: input.evaluation_date.map(|d| d.0),
            },
        };
        act(ctx, &id, expected_version, cmd).await
    }

    async fn close_case_without_breakthrough(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        explanation: String,
    ) -> ApiResult<Case> {
        act(
            ctx,
            &id,
            expected_version,
            CommandInput::CloseNoBreakthrough { explanation },
        )
        .await
    }

    /// Programme bureau: not a blocking rule.
    async fn reject_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        reason: String,
    ) -> ApiResult<Case> {
        act(ctx, &id, expected_version, CommandInput::Reject { reason }).await
    }

    /// Programme bureau: the case duplicates `intoId`.
    async fn merge_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        into_id: ID,
    ) -> ApiResult<Case> {
        let into = parse_id(&into_id)
            .ok_or_else(|| ErrorCode::NotFound.error("case to merge into not found"))?;
        act(ctx, &id, expected_version, CommandInput::Merge { into }).await
    }

    async fn withdraw_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        reason: String,
    ) -> ApiResult<Case> {
        act(
            ctx,
            &id,
            expected_version,
            CommandInput::Withdraw { reason },
        )
        .await
    }

    /// The submitter contests a decision within 30 days; the case returns to
    /// the level that decided it.
    async fn contest_resolution(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        reason: String,
    ) -> ApiResult<Case> {
        act(ctx, &id, expected_version, CommandInput::Contest { reason }).await
    }

    /// Administrators create users; the token is shown in the answer only.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> ApiResult<CreatedUser> {
        let me = caller(ctx)?;
        let (user, token) = engine(ctx)
            .create_user_as(
                me,
                &doorbraak_engine::UserInput {
                    name: input.name,
                    role: input.role.into(),
                    areas: input.areas,
                    ministry: input.ministry,
                    email: input.email,
                },
            )
            .await
            .map_err(to_gql)?;
        Ok(CreatedUser {
            user: User(user),
            token,
        })
    }

    /// Administrators change a user's name, role, areas, ministry and e-mail
    /// address (all at once); their token stays valid.
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: CreateUserInput,
    ) -> ApiResult<User> {
        let me = caller(ctx)?;
        let id = id
            .parse::<i64>()
            .map_err(|_| ErrorCode::NotFound.error("user not found"))?;
        let user = engine(ctx)
            .update_user(
                me,
                id,
                &doorbraak_engine::UserInput {
                    name: input.name,
                    role: input.role.into(),
                    areas: input.areas,
                    ministry: input.ministry,
                    email: input.email,
                },
            )
            .await
            .map_err(to_gql)?;
        Ok(User(user))
    }

    /// Administrators turn a user off (`active: false`) or on again. A
    /// deactivated user's token and sessions stop working at once.
    async fn set_user_active(&self, ctx: &Context<'_>, id: ID, active: bool) -> ApiResult<User> {
        let me = caller(ctx)?;
        let id = id
            .parse::<i64>()
            .map_err(|_| ErrorCode::NotFound.error("user not found"))?;
        let user = engine(ctx)
            .set_user_active(me, id, active)
            .await
            .map_err(to_gql)?;
        Ok(User(user))
    }

    /// Administrators issue a new token for a user; the old one stops working.
    async fn issue_token(&self, ctx: &Context<'_>, user_id: ID) -> ApiResult<CreatedUser> {
        let me = caller(ctx)?;
        let id = user_id
            .parse::<i64>()
            .map_err(|_| ErrorCode::NotFound.error("user not found"))?;
        let (user, token) = engine(ctx).issue_token(me, id).await.map_err(to_gql)?;
        Ok(CreatedUser {
            user: User(user),
            token,
        })
    }

    /// Administrators add a focus area (the 20 of the programme are seeded).
    async fn add_focus_area(
        &self,
        ctx: &Context<'_>,
        code: String,
        name: String,
    ) -> ApiResult<FocusArea> {
        let me = caller(ctx)?;
        let e = engine(ctx);
        e.add_focus_area(me, &code, &name).await.map_err(to_gql)?;
        e.focus_area(&code.trim().to_ascii_uppercase())
            .map(FocusArea::from)
            .ok_or_else(|| ErrorCode::Internal.error("internal error"))
    }

    /// Administrators add a ministry that owns rules.
    async fn add_ministry(
        &self,
        ctx: &Context<'_>,
        code: String,
        name: String,
        #[graphql(default)] provides_representative: bool,
    ) -> ApiResult<Ministry> {
        let me = caller(ctx)?;
        let e = engine(ctx);
        e.add_ministry(me, &code, &name, provides_representative)
            .await
            .map_err(to_gql)?;
        e.ministry(&code.trim().to_ascii_uppercase())
            .map(Ministry::from)
            .ok_or_else(|| ErrorCode::Internal.error("internal error"))
    }

    /// Administrators set a level's service norm (applies to deadlines set
    /// from now on).
    async fn set_service_norm(
        &self,
        ctx: &Context<'_>,
        level: Level,
        days: i32,
        #[graphql(default)] auto_escalate: bool,
    ) -> ApiResult<ServiceNorm> {
        let me = caller(ctx)?;
        engine(ctx)
            .set_service_norm(me, level.into(), days, auto_escalate)
            .await
            .map_err(to_gql)?;
        Ok(ServiceNorm {
            level,
            days,
            auto_escalate,
        })
    }
}
