//! The barrier register, precedents, statistics and meetings.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use doorbraak_core as core;
use doorbraak_engine::{
    AgendaItemRecord, BarrierChoice, BarrierQuery, BarrierRecord, CaseSummary as CaseSummaryRow,
    MeetingRecord, MeetingStatus as MStatus, StatFilter,
};

use async_graphql::dataloader::{DataLoader, HashMapCache};

use crate::errors::{ApiResult, ErrorCode, to_gql, validation};
use crate::loaders::{AgendaLoader, BarrierLoader, MeetingLoader};
use crate::query::parse_id;
use crate::scalars::{Day, Money};
use crate::types::{
    Case, CaseAction, CaseState, FocusArea, Level, Ministry, Outcome, PageInfo, RuleScope,
    area_obj, caller, engine, ministry_obj,
};

/// Where a barrier stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "core::BarrierStatus")]
pub enum BarrierStatus {
    Open,
    BreakthroughDecided,
    Implemented,
    NoBreakthrough,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum MeetingStatus {
    Open,
    Closed,
}

/// One entry of the register: all cases about one rule, across areas.
pub struct Barrier(pub BarrierRecord);

#[Object]
impl Barrier {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn citation(&self) -> &str {
        &self.0.citation
    }
    async fn bwb_id(&self) -> Option<&str> {
        self.0.bwb_id.as_deref()
    }
    async fn scope(&self) -> RuleScope {
        self.0.scope.into()
    }
    async fn owning_ministry(&self, ctx: &Context<'_>) -> Ministry {
        ministry_obj(engine(ctx), &self.0.owning_ministry)
    }
    async fn status(&self) -> BarrierStatus {
        self.0.status.into()
    }
    /// The outcome that decided the barrier (structural breakthrough or experiment).
    async fn decision_outcome(&self) -> Option<Outcome> {
        self.0.decision_outcome.map(Into::into)
    }
    /// What was decided (or why there is no breakthrough).
    async fn decision(&self) -> Option<&str> {
        self.0.decision_note.as_deref()
    }
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
    /// Structural: when the change takes effect.
    async fn effective_from(&self) -> Option<Day> {
        self.0.effective_from.map(Day)
    }
    async fn experiment_ends(&self) -> Option<Day> {
        self.0.experiment_ends.map(Day)
    }
    async fn evaluation_date(&self) -> Option<Day> {
        self.0.evaluation_date.map(Day)
    }
    /// An experiment that ends or is due for evaluation within 30 days.
    async fn needs_evaluation(&self, ctx: &Context<'_>) -> bool {
        core::needs_evaluation(
            self.0.status,
            self.0.decision_outcome,
            self.0.experiment_ends,
            self.0.evaluation_date,
            engine(ctx).now().date_naive(),
        )
    }
    /// When the owner recorded that the change is in force.
    async fn in_force_on(&self) -> Option<Day> {
        self.0.in_force_on.map(Day)
    }
    async fn implementation_note(&self) -> Option<&str> {
        self.0.implementation_note.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Its cases that you may see, as summaries (never text or names).
    /// A professional sees only their own. A barrier can have thousands of
    /// cases, so for the complexity limit this list counts 20 times what
    /// each summary asks.
    #[graphql(complexity = "LONG_LIST * child_complexity")]
    async fn cases(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseSummary>> {
        Ok(self
            .summaries(ctx)
            .await?
            .into_iter()
            .map(CaseSummary)
            .collect())
    }
    /// The focus areas of the cases you may see.
    async fn areas(&self, ctx: &Context<'_>) -> ApiResult<Vec<FocusArea>> {
        let mut codes: Vec<String> = self
            .summaries(ctx)
            .await?
            .into_iter()
            .map(|c| c.focus_area)
            .collect();
        codes.sort();
        codes.dedup();
        Ok(codes.iter().map(|c| area_obj(engine(ctx), c)).collect())
    }
}

impl Barrier {
    async fn summaries(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseSummaryRow>> {
        let me = caller(ctx)?.principal();
        let mut map = engine(ctx)
            .barrier_cases(&me, std::slice::from_ref(&self.0))
            .await
            .map_err(to_gql)?;
        Ok(map.remove(&self.0.id).unwrap_or_default())
    }
}

/// How much a list without paging counts for the complexity limit, per
/// field asked of each element: nested in a page of 100 cases, a barrier's
/// cases or a meeting's agenda is then refused, alone it is not.
const LONG_LIST: usize = 20;

/// A case as the register shows it: no text.
pub struct CaseSummary(CaseSummaryRow);

#[Object]
impl CaseSummary {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn reference(&self) -> &str {
        &self.0.reference
    }
    async fn state(&self) -> CaseState {
        self.0.state.into()
    }
    async fn level(&self) -> Level {
        self.0.level.into()
    }
    async fn focus_area(&self, ctx: &Context<'_>) -> FocusArea {
        area_obj(engine(ctx), &self.0.focus_area)
    }
    async fn outcome(&self) -> Option<Outcome> {
        self.0.outcome.map(Into::into)
    }
}

#[derive(SimpleObject)]
pub struct BarrierSuggestion {
    pub barrier: Barrier,
    /// 0 to 1: how likely the case is about this barrier's rule.
    pub score: f64,
}

#[derive(SimpleObject)]
pub struct BarrierEdge {
    pub cursor: String,
    pub node: Barrier,
}

#[derive(SimpleObject)]
pub struct BarrierConnection {
    pub edges: Vec<BarrierEdge>,
    pub page_info: PageInfo,
}

#[derive(InputObject, Default)]
pub struct BarrierFilter {
    /// Ministry code.
    pub ministry: Option<String>,
    pub status: Option<BarrierStatus>,
    /// Barriers with a case in this focus area.
    pub focus_area: Option<String>,
    /// Only experiments ending or due for evaluation within 30 days.
    pub needs_evaluation: Option<bool>,
}

#[derive(InputObject)]
pub struct NewBarrierInput {
    pub citation: String,
    pub bwb_id: Option<String>,
    pub scope: RuleScope,
    /// Ministry code.
    pub owning_ministry: String,
}

/// An earlier answer: a resolved case's rule and explanation (never its description).
#[derive(SimpleObject)]
pub struct Precedent {
    pub case_reference: String,
    pub citation: String,
    pub outcome: Outcome,
    pub explanation: String,
    pub focus_area: FocusArea,
    pub resolved_at: DateTime<Utc>,
}

#[derive(SimpleObject)]
pub struct LevelDuration {
    pub level: Level,
    /// Completed stays at the level that were counted.
    pub cases: i32,
    pub median_days: Option<f64>,
    pub p90_days: Option<f64>,
}

#[derive(SimpleObject)]
pub struct OutcomeCount {
    /// Null for closures without breakthrough.
    pub outcome: Option<Outcome>,
    pub count: i32,
}

#[derive(SimpleObject)]
pub struct BarrierCount {
    pub barrier: Barrier,
    pub cases: i32,
    pub areas: i32,
}

/// What a ministry sees of its rules over a period.
#[derive(SimpleObject)]
pub struct MinistryStatistics {
    pub ministry: Ministry,
    /// Barriers of the ministry created in the period.
    pub barriers_reported: i32,
    /// Barriers with a breakthrough decided in the period.
    pub barriers_decided: i32,
    /// Barriers whose change came in force (was recorded) in the period.
    pub barriers_implemented: i32,
    /// Barriers refused (no breakthrough) in the period.
    pub barriers_refused: i32,
    /// Cases about the ministry's rules submitted in the period.
    pub cases_total: i32,
    pub areas_affected: i32,
    /// Euros unlocked by resolutions in the period, summed exactly.
    pub funds_unlocked: Money,
    pub outcomes: Vec<OutcomeCount>,
    pub level_durations: Vec<LevelDuration>,
    pub barriers: Vec<BarrierCount>,
}

/// A lesson: a decision and its explanation.
#[derive(SimpleObject)]
pub struct Lesson {
    pub case_reference: String,
    pub citation: String,
    pub outcome: Option<Outcome>,
    pub explanation: String,
    pub decided_at: DateTime<Utc>,
}

/// The periodic report of one ministry.
#[derive(SimpleObject)]
pub struct MinistryReport {
    pub ministry: Ministry,
    pub barriers_reported: i32,
    pub barriers_decided: i32,
    pub barriers_implemented: i32,
    pub barriers_refused: i32,
    pub lessons: Vec<Lesson>,
}

/// A meeting of an alliance or of the breakthrough meeting.
pub struct Meeting(pub MeetingRecord);

#[Object]
impl Meeting {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn level(&self) -> Level {
        self.0.level.into()
    }
    async fn focus_area(&self, ctx: &Context<'_>) -> Option<FocusArea> {
        self.0
            .focus_area
            .as_deref()
            .map(|a| area_obj(engine(ctx), a))
    }
    async fn scheduled_at(&self) -> DateTime<Utc> {
        self.0.scheduled_at
    }
    async fn status(&self) -> MeetingStatus {
        match self.0.status {
            MStatus::Open => MeetingStatus::Open,
            MStatus::Closed => MeetingStatus::Closed,
        }
    }
    /// Every item put on this meeting's agenda, in order.
    #[graphql(complexity = "LONG_LIST * child_complexity")]
    async fn agenda(&self, ctx: &Context<'_>) -> ApiResult<Vec<AgendaItem>> {
        items(ctx, &self.0, false).await
    }
    /// The minutes: the items decided in this meeting.
    #[graphql(complexity = "LONG_LIST * child_complexity")]
    async fn decisions(&self, ctx: &Context<'_>) -> ApiResult<Vec<AgendaItem>> {
        items(ctx, &self.0, true).await
    }
}

async fn items(
    ctx: &Context<'_>,
    m: &MeetingRecord,
    decided_only: bool,
) -> ApiResult<Vec<AgendaItem>> {
    let e = engine(ctx);
    let me = caller(ctx)?.principal();
    let rows: Vec<AgendaItemRecord> = e
        .agenda(&me, &[m.id])
        .await
        .map_err(to_gql)?
        .into_iter()
        .filter(|i| !decided_only || i.decision.is_some())
        .collect();
    let ids: Vec<i64> = rows.iter().map(|i| i.case_id).collect();
    let cases = e.cases_by_ids(&me, &ids).await.map_err(to_gql)?;
    Ok(rows
        .into_iter()
        .filter_map(|i| {
            let c = cases.iter().find(|c| c.id == i.case_id)?.clone();
            Some(AgendaItem {
                item: i,
                case: c,
                meeting: m.clone(),
            })
        })
        .collect())
}

/// A case on a meeting's agenda, with the decision taken on it there.
pub struct AgendaItem {
    item: AgendaItemRecord,
    case: core::Case,
    meeting: MeetingRecord,
}

#[Object]
impl AgendaItem {
    async fn case(&self) -> Case {
        Case(self.case.clone())
    }
    /// The decision taken on the case in this meeting; null while undecided
    /// or when the item was carried over.
    async fn decision(&self) -> Option<CaseAction> {
        match self.item.decision {
            Some(core::EventAction::Case(a)) => Some(a.into()),
            Some(core::EventAction::Submit | core::EventAction::LinkBarrier) | None => None,
        }
    }
    async fn note(&self) -> Option<&str> {
        self.item.note.as_deref()
    }
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.item.decided_at
    }
    async fn added_at(&self) -> DateTime<Utc> {
        self.item.added_at
    }
    /// The item was not decided here and went on to a later meeting (or
    /// waits for one to be scheduled).
    async fn carried_over(&self) -> bool {
        self.item.onward != doorbraak_engine::Onward::Stayed
    }
    /// The meeting it was carried over or moved from.
    async fn carried_from(&self) -> Option<ID> {
        self.item.carried_from.map(|m| ID(m.to_string()))
    }
    async fn meeting(&self) -> Meeting {
        Meeting(self.meeting.clone())
    }
}

#[derive(SimpleObject)]
pub struct MeetingEdge {
    pub cursor: String,
    pub node: Meeting,
}

#[derive(SimpleObject)]
pub struct MeetingConnection {
    pub edges: Vec<MeetingEdge>,
    pub page_info: PageInfo,
}

#[derive(Default)]
pub struct RegisterQueries;

#[Object]
impl RegisterQueries {
    /// The barrier register, as far as you may see it, newest first.
    async fn barriers(
        &self,
        ctx: &Context<'_>,
        filter: Option<BarrierFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<BarrierConnection> {
        let me = caller(ctx)?.principal();
        let e = engine(ctx);
        let paging = crate::paging::paging("barrier", first, after.as_deref())?;
        let f = filter.unwrap_or_default();
        let q = BarrierQuery {
            ministry: f.ministry.map(|m| m.trim().to_ascii_uppercase()),
            status: f.status.map(Into::into),
            area: f.focus_area.map(|a| a.trim().to_ascii_uppercase()),
            evaluation_due_by: f
                .needs_evaluation
                .unwrap_or(false)
                .then(|| core::evaluation_due_by(e.now().date_naive())),
        };
        let (rows, more) = e
            .barriers(&me, &q, paging.after, paging.first)
            .await
            .map_err(to_gql)?;
        let (edges, page_info) = crate::paging::page(
            "barrier",
            rows,
            |b| b.id,
            |cursor, b| BarrierEdge {
                cursor,
                node: Barrier(b),
            },
            more,
            paging,
        );
        Ok(BarrierConnection { edges, page_info })
    }

    /// One barrier; null when absent or outside your scope.
    async fn barrier(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Barrier>> {
        let me = caller(ctx)?.principal();
        let Some(id) = parse_id(&id) else {
            return Ok(None);
        };
        Ok(engine(ctx)
            .barrier(&me, id)
            .await
            .map_err(to_gql)?
            .map(Barrier))
    }

    /// Barriers that are probably about the same rule as this case, across
    /// all areas, best first (by BWB id, citation and ministry).
    async fn barrier_suggestions(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
    ) -> ApiResult<Vec<BarrierSuggestion>> {
        let me = caller(ctx)?.principal();
        let id = parse_id(&case_id).ok_or_else(|| ErrorCode::NotFound.error("case not found"))?;
        Ok(engine(ctx)
            .barrier_suggestions(&me, id)
            .await
            .map_err(to_gql)?
            .into_iter()
            .map(|(b, score)| BarrierSuggestion {
                barrier: Barrier(b),
                score,
            })
            .collect())
    }

    /// Earlier answers across all areas: the citations and explanations of
    /// resolved cases (never their descriptions), best match first.
    async fn precedents(
        &self,
        ctx: &Context<'_>,
        query: String,
        first: Option<i32>,
    ) -> ApiResult<Vec<Precedent>> {
        let me = caller(ctx)?.principal();
        let hits = engine(ctx)
            .precedents(&me, &query, first.unwrap_or(10).max(0) as u64)
            .await
            .map_err(to_gql)?;
        Ok(hits
            .into_iter()
            .map(|h| Precedent {
                case_reference: h.reference,
                citation: h.citation,
                outcome: h.outcome.into(),
                explanation: h.explanation,
                focus_area: area_obj(engine(ctx), &h.focus_area),
                resolved_at: h.resolved_at,
            })
            .collect())
    }

    /// What a ministry sees of its rules: counts, outcomes, time per level
    /// and euros unlocked, for a period (`from` inclusive, `to` exclusive),
    /// optionally for one focus area or policy domain.
    async fn ministry_statistics(
        &self,
        ctx: &Context<'_>,
        ministry: String,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        focus_area: Option<String>,
        domain: Option<crate::types::PolicyDomain>,
    ) -> ApiResult<MinistryStatistics> {
        let me = caller(ctx)?.principal();
        let e = engine(ctx);
        let f = StatFilter {
            from,
            to,
            area: focus_area.map(|a| a.trim().to_ascii_uppercase()),
            domain: domain.map(Into::into),
        };
        let s = e
            .ministry_statistics(&me, &ministry, &f)
            .await
            .map_err(to_gql)?;
        let ministry = e
            .ministry(&s.ministry)
            .map(Ministry::from)
            .ok_or_else(|| ErrorCode::NotFound.error("ministry not found"))?;
        Ok(MinistryStatistics {
            ministry,
            barriers_reported: s.barriers_reported as i32,
            barriers_decided: s.barriers_decided as i32,
            barriers_implemented: s.barriers_implemented as i32,
            barriers_refused: s.barriers_refused as i32,
            cases_total: s.cases_total as i32,
            areas_affected: s.areas_affected as i32,
            funds_unlocked: Money(rust_decimal::Decimal::new(s.funds_unlocked_cents, 2)),
            outcomes: s
                .outcomes
                .into_iter()
                .map(|(o, n)| OutcomeCount {
                    outcome: o.map(Into::into),
                    count: n as i32,
                })
                .collect(),
            level_durations: s
                .level_durations
                .into_iter()
                .map(|d| LevelDuration {
                    level: d.level.into(),
                    cases: d.cases as i32,
                    median_days: d.median_days,
                    p90_days: d.p90_days,
                })
                .collect(),
            barriers: s
                .per_barrier
                .into_iter()
                .map(|(b, n, a)| BarrierCount {
                    barrier: Barrier(b),
                    cases: n as i32,
                    areas: a as i32,
                })
                .collect(),
        })
    }

    /// The report of a period, per ministry you may read: barriers reported,
    /// decided, implemented and refused, with the lessons in the
    /// explanations of the decisions taken.
    async fn barrier_report(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> ApiResult<Vec<MinistryReport>> {
        let me = caller(ctx)?.principal();
        let e = engine(ctx);
        let f = StatFilter {
            from: Some(from),
            to: Some(to),
            ..StatFilter::default()
        };
        let mut out = Vec::new();
        for r in e.barrier_report(&me, &f).await.map_err(to_gql)? {
            let Some(ministry) = e.ministry(&r.ministry).map(Ministry::from) else {
                continue;
            };
            let s = r.statistics;
            out.push(MinistryReport {
                ministry,
                barriers_reported: s.barriers_reported as i32,
                barriers_decided: s.barriers_decided as i32,
                barriers_implemented: s.barriers_implemented as i32,
                barriers_refused: s.barriers_refused as i32,
                lessons: r
                    .lessons
                    .into_iter()
                    .map(|l| Lesson {
                        case_reference: l.case_reference,
                        citation: l.citation,
                        outcome: l.outcome.map(Into::into),
                        explanation: l.explanation,
                        decided_at: l.decided_at,
                    })
                    .collect(),
            });
        }
        Ok(out)
    }

    /// Meetings of a level (and focus area, for alliances), oldest first.
    async fn meetings(
        &self,
        ctx: &Context<'_>,
        level: Level,
        focus_area: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<MeetingConnection> {
        let me = caller(ctx)?.principal();
        let paging = crate::paging::paging("meeting", first, after.as_deref())?;
        let area = focus_area.map(|a| a.trim().to_ascii_uppercase());
        let (rows, more) = engine(ctx)
            .meetings(
                &me,
                level.into(),
                area.as_deref(),
                paging.after,
                paging.first,
            )
            .await
            .map_err(to_gql)?;
        let (edges, page_info) = crate::paging::page(
            "meeting",
            rows,
            |m| m.id,
            |cursor, m| MeetingEdge {
                cursor,
                node: Meeting(m),
            },
            more,
            paging,
        );
        Ok(MeetingConnection { edges, page_info })
    }

    /// One meeting; null when absent or not for you.
    async fn meeting(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Meeting>> {
        let me = caller(ctx)?.principal();
        let Some(id) = parse_id(&id) else {
            return Ok(None);
        };
        Ok(engine(ctx)
            .meeting(&me, id)
            .await
            .map_err(to_gql)?
            .map(Meeting))
    }
}

#[derive(Default)]
pub struct RegisterMutations;

#[Object]
impl RegisterMutations {
    /// Links a case to an existing barrier (`barrierId`) or a new one
    /// (`newBarrier`); give exactly one.
    async fn link_barrier(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        barrier_id: Option<ID>,
        new_barrier: Option<NewBarrierInput>,
    ) -> ApiResult<Case> {
        let me = caller(ctx)?.principal();
        let case_id = parse_id(&id).ok_or_else(|| ErrorCode::NotFound.error("case not found"))?;
        let choice = match (barrier_id, new_barrier) {
            (Some(b), None) => BarrierChoice::Existing(
                parse_id(&b).ok_or_else(|| ErrorCode::NotFound.error("barrier not found"))?,
            ),
            (None, Some(n)) => BarrierChoice::New {
                citation: n.citation,
                bwb_id: n.bwb_id,
                scope: n.scope.into(),
                owning_ministry: n.owning_ministry,
            },
            _ => {
                return Err(validation(
                    "barrierId",
                    "give either barrierId or newBarrier",
                ));
            }
        };
        let (case, events) = engine(ctx)
            .link_barrier(
                &me,
                case_id,
                expected_version,
                choice,
                crate::mutation::wants_events(ctx),
            )
            .await
            .map_err(to_gql)?;
        crate::mutation::answered(ctx, case, events).await
    }

    /// The owning ministry records that a decided change is in force.
    async fn record_implementation(
        &self,
        ctx: &Context<'_>,
        barrier_id: ID,
        in_force_on: Day,
        note: String,
    ) -> ApiResult<Barrier> {
        let me = caller(ctx)?.principal();
        let id =
            parse_id(&barrier_id).ok_or_else(|| ErrorCode::NotFound.error("barrier not found"))?;
        Ok(Barrier(
            engine(ctx)
                .record_implementation(&me, id, in_force_on.0, &note)
                .await
                .map_err(to_gql)?,
        ))
    }

    /// Alliance secretaries schedule their alliance's meetings (with
    /// `focusArea`); the breakthrough secretariat the national ones.
    async fn schedule_meeting(
        &self,
        ctx: &Context<'_>,
        level: Level,
        focus_area: Option<String>,
        scheduled_at: DateTime<Utc>,
    ) -> ApiResult<Meeting> {
        let me = caller(ctx)?.principal();
        Ok(Meeting(
            engine(ctx)
                .schedule_meeting(&me, level.into(), focus_area.as_deref(), scheduled_at)
                .await
                .map_err(to_gql)?,
        ))
    }

    /// Puts a case on another open meeting's agenda.
    async fn move_to_meeting(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        meeting_id: ID,
    ) -> ApiResult<Meeting> {
        let me = caller(ctx)?.principal();
        let c = parse_id(&case_id).ok_or_else(|| ErrorCode::NotFound.error("case not found"))?;
        let m =
            parse_id(&meeting_id).ok_or_else(|| ErrorCode::NotFound.error("meeting not found"))?;
        Ok(Meeting(
            engine(ctx)
                .move_to_meeting(&me, c, m)
                .await
                .map_err(to_gql)?,
        ))
    }

    /// Closes a meeting: undecided items carry over to the next meeting.
    async fn close_meeting(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Meeting> {
        let me = caller(ctx)?.principal();
        let id = parse_id(&id).ok_or_else(|| ErrorCode::NotFound.error("meeting not found"))?;
        Ok(Meeting(
            engine(ctx).close_meeting(&me, id).await.map_err(to_gql)?,
        ))
    }
}

/// A case's meeting history, for the `Case.meetings` field (batched).
pub async fn meeting_history(ctx: &Context<'_>, case: &core::Case) -> ApiResult<Vec<AgendaItem>> {
    let items = ctx
        .data_unchecked::<DataLoader<AgendaLoader, HashMapCache>>()
        .load_one(case.id)
        .await
        .map_err(to_gql)?
        .unwrap_or_default();
    let ids: Vec<i64> = items.iter().map(|i| i.meeting_id).collect();
    let meetings = ctx
        .data_unchecked::<DataLoader<MeetingLoader, HashMapCache>>()
        .load_many(ids)
        .await
        .map_err(to_gql)?;
    Ok(items
        .into_iter()
        .filter_map(|item| {
            let meeting = meetings.get(&item.meeting_id)?.clone();
            Some(AgendaItem {
                item,
                case: case.clone(),
                meeting,
            })
        })
        .collect())
}

/// A case's barrier, for the `Case.barrier` field (batched).
pub async fn case_barrier(ctx: &Context<'_>, id: i64) -> ApiResult<Option<Barrier>> {
    Ok(ctx
        .data_unchecked::<DataLoader<BarrierLoader, HashMapCache>>()
        .load_one(id)
        .await
        .map_err(to_gql)?
        .map(Barrier))
}

/// The open meeting whose agenda a case is on, for `Case.nextMeeting`.
pub async fn next_meeting(ctx: &Context<'_>, case: &core::Case) -> ApiResult<Option<Meeting>> {
    if case.status.state.meeting_level().is_none() {
        return Ok(None);
    }
    let open = meeting_history(ctx, case).await?.into_iter().find(|i| {
        i.item.decision.is_none()
            && i.item.onward == doorbraak_engine::Onward::Stayed
            && i.meeting.status == MStatus::Open
    });
    Ok(open.map(|i| Meeting(i.meeting)))
}
