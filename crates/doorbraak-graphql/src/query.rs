//! Queries.

use async_graphql::{Context, ID, Object};
use doorbraak_core as core;
use doorbraak_engine::CaseQuery;

use crate::errors::{ApiResult, to_gql, validation};
use crate::loaders::{AgendaLoader, BarrierLoader, Events, MeetingLoader, Users};
use crate::types::{
    Case, CaseConnection, CaseEdge, CaseFilter, FocusArea, Ministry, ServiceNorm, User, caller,
    engine,
};
use async_graphql::dataloader::{DataLoader, HashMapCache};

#[derive(Default)]
pub struct CaseQueries;

pub(crate) fn parse_id(id: &ID) -> Option<core::CaseId> {
    id.parse::<i64>().ok().filter(|v| *v > 0)
}

/// Loads, in one batch each, what the selection will ask of every case in a
/// page (events, then the users they name), so a page costs a fixed number
/// of queries whatever its size.
async fn prefetch(ctx: &Context<'_>, cases: &[core::Case]) -> ApiResult<()> {
    let node = ctx.look_ahead().field("edges").field("node");
    let mut users: Vec<core::UserId> = Vec::new();
    let events = node.field("events");
    if events.exists() {
        let ids = cases.iter().map(|c| c.id);
        let logs = ctx
            .data_unchecked::<Events>()
            .load_many(ids)
            .await
            .map_err(to_gql)?;
        if events.field("actor").exists() {
            users.extend(logs.values().flatten().map(|e| e.event.actor));
        }
    }
    if node.field("submittedBy").exists() {
        users.extend(cases.iter().map(|c| c.facts.submitted_by));
    }
    if node.field("assignee").exists() {
        users.extend(cases.iter().filter_map(|c| c.status.assignee));
    }
    if !users.is_empty() {
        users.sort_unstable();
        users.dedup();
        ctx.data_unchecked::<Users>()
            .load_many(users)
            .await
            .map_err(to_gql)?;
    }
    if node.field("barrier").exists() || node.field("precedentAvailable").exists() {
        let ids: Vec<i64> = cases.iter().filter_map(|c| c.status.barrier).collect();
        ctx.data_unchecked::<DataLoader<BarrierLoader, HashMapCache>>()
            .load_many(ids)
            .await
            .map_err(to_gql)?;
    }
    if node.field("meetings").exists()
        || node.field("nextMeeting").exists()
        || node.field("awaitingMeeting").exists()
    {
        let items = ctx
            .data_unchecked::<DataLoader<AgendaLoader, HashMapCache>>()
            .load_many(cases.iter().map(|c| c.id))
            .await
            .map_err(to_gql)?;
        let meetings: Vec<i64> = items.values().flatten().map(|i| i.meeting_id).collect();
        ctx.data_unchecked::<DataLoader<MeetingLoader, HashMapCache>>()
            .load_many(meetings)
            .await
            .map_err(to_gql)?;
    }
    Ok(())
}

#[Object]
impl CaseQueries {
    /// The caller.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<User> {
        Ok(User(caller(ctx)?.clone()))
    }

    /// One case, by id or by reference (give exactly one). Null when it does
    /// not exist or is outside your scope: the two are indistinguishable.
    async fn case(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        reference: Option<String>,
    ) -> ApiResult<Option<Case>> {
        let me = caller(ctx)?.principal();
        let e = engine(ctx);
        let found = match (id, reference) {
            (Some(id), None) => match parse_id(&id) {
                Some(id) => e.case(&me, id).await,
                None => Ok(None),
            },
            (None, Some(r)) => e.case_by_reference(&me, &r).await,
            _ => {
                return Err(validation(
                    "id",
                    "give either id or reference, not both or neither",
                ));
            }
        };
        Ok(found.map_err(to_gql)?.map(Case))
    }

    /// The cases you may see, newest first, as a Relay connection.
    #[graphql(
        complexity = "first.unwrap_or(crate::paging::DEFAULT_PAGE).clamp(1, crate::paging::MAX_PAGE) as usize * child_complexity"
    )]
    async fn cases(
        &self,
        ctx: &Context<'_>,
        filter: Option<CaseFilter>,
        #[graphql(desc = "Page size, 1 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The endCursor of the previous page.")] after: Option<String>,
    ) -> ApiResult<CaseConnection> {
        let me = caller(ctx)?;
        let e = engine(ctx);
        let paging = crate::paging::paging("case", first, after.as_deref())?;
        let f = filter.unwrap_or_default();
        let mut areas = Vec::new();
        for a in f.focus_areas.unwrap_or_default() {
            let code =
                core::AreaCode::parse("filter.focusAreas", &a).map_err(|r| to_gql(r.into()))?;
            areas.push(code.as_str().to_owned());
        }
        let query = CaseQuery {
            states: f
                .states
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            levels: f
                .levels
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            areas,
            assignee: f.assigned_to_me.unwrap_or(false).then_some(me.id),
            overdue_at: f.overdue.unwrap_or(false).then(|| e.now()),
            urgency: f.urgency.map(Into::into),
            precedent_available: f.precedent_available.unwrap_or(false),
            barrier: match f.barrier_id {
                Some(b) => Some(
                    parse_id(&b)
                        .ok_or_else(|| validation("filter.barrierId", "is not a barrier id"))?,
                ),
                None => None,
            },
            ..CaseQuery::default()
        };
        let page = e
            .list_cases(&me.principal(), &query, paging.after, paging.first)
            .await
            .map_err(to_gql)?;
        prefetch(ctx, &page.cases).await?;
        let (edges, page_info) = crate::paging::page(
            "case",
            page.cases,
            |c| c.id,
            |cursor, c| CaseEdge {
                cursor,
                node: Case(c),
            },
            page.has_next,
            paging,
        );
        Ok(CaseConnection { edges, page_info })
    }

    /// The 20 urban focus areas (and any an administrator added).
    async fn focus_areas(&self, ctx: &Context<'_>) -> ApiResult<Vec<FocusArea>> {
        caller(ctx)?;
        Ok(engine(ctx)
            .focus_areas()
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The ministries that own rules.
    async fn ministries(&self, ctx: &Context<'_>) -> ApiResult<Vec<Ministry>> {
        caller(ctx)?;
        Ok(engine(ctx)
            .ministries()
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The service norm of each level.
    async fn service_norms(&self, ctx: &Context<'_>) -> ApiResult<Vec<ServiceNorm>> {
        caller(ctx)?;
        let policy = engine(ctx).policy();
        Ok(core::Level::ALL
            .iter()
            .map(|l| ServiceNorm {
                level: (*l).into(),
                days: policy.norm_days[*l as usize] as i32,
                auto_escalate: policy.auto_escalate[*l as usize],
            })
            .collect())
    }

    /// Every user (administrators only).
    async fn users(&self, ctx: &Context<'_>) -> ApiResult<Vec<User>> {
        let me = caller(ctx)?;
        Ok(engine(ctx)
            .all_users(me)
            .await
            .map_err(to_gql)?
            .into_iter()
            .map(User)
            .collect())
    }
}
