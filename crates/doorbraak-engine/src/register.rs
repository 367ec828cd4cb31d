//! The barrier register, precedents and what ministries see.

use std::collections::HashMap;

use chrono::NaiveDate;
use doorbraak_core::{
    BwbId, Case, CaseId, CaseState, Level, MinistryCode, Outcome, PolicyDomain, Principal, Role,
    RuleScope, StatisticsScope, Text, Timestamp, barrier_scope, check_link, citation_similarity,
    link_event, may_read_statistics, may_read_summary, may_search_precedents, statistics_scope,
    text_similarity,
};
use doorbraak_store::{BarrierQuery, BarrierRecord, NewBarrier, PrecedentHit, StatRow};

use crate::{Engine, EngineError, StoredEvent};

/// How a barrier is chosen when linking a case.
#[derive(Debug, Clone)]
pub enum BarrierChoice {
    Existing(i64),
    New {
        citation: String,
        bwb_id: Option<String>,
        scope: RuleScope,
        owning_ministry: String,
    },
}

/// A case of a barrier, without any text or names: what
/// [`doorbraak_core::may_read_summary`] lets a reader see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSummary {
    pub id: CaseId,
    pub reference: String,
    pub state: CaseState,
    pub level: Level,
    pub focus_area: String,
    pub outcome: Option<Outcome>,
}

impl CaseSummary {
    fn of(c: &Case) -> CaseSummary {
        CaseSummary {
            id: c.id,
            reference: c.facts.reference.as_str().to_owned(),
            state: c.status.state,
            level: c.status.level,
            focus_area: c.facts.focus_area.clone(),
            outcome: c.status.resolution.as_ref().and_then(|r| r.outcome),
        }
    }
}

/// Time per level over a set of cases, in days.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelDuration {
    pub level: Level,
    pub cases: usize,
    pub median_days: Option<f64>,
    pub p90_days: Option<f64>,
}

/// What a ministry sees of its rules over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct MinistryStatistics {
    pub ministry: String,
    pub barriers_reported: usize,
    pub barriers_decided: usize,
    pub barriers_implemented: usize,
    pub barriers_refused: usize,
    pub cases_total: usize,
    pub areas_affected: usize,
    pub funds_unlocked_cents: i64,
    pub outcomes: Vec<(Option<Outcome>, usize)>,
    pub level_durations: Vec<LevelDuration>,
    /// Per barrier: (barrier, cases, areas), most cases first.
    pub per_barrier: Vec<(BarrierRecord, usize, usize)>,
    /// The amounts unlocked in the period per Amsterdam month of the
    /// decision (year, month), oldest first: for a chart over time.
    pub funds_by_month: Vec<((i32, u32), i64)>,
}

/// The filters of a statistics request.
#[derive(Debug, Clone, Default)]
pub struct StatFilter {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub area: Option<String>,
    pub domain: Option<PolicyDomain>,
}

impl StatFilter {
    pub(crate) fn in_period(&self, t: Timestamp) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|x| t < x)
    }
    pub(crate) fn matches(&self, r: &StatRow) -> bool {
        self.area.as_ref().is_none_or(|a| *a == r.focus_area)
            && self.domain.as_ref().is_none_or(|d| r.domains.contains(d))
    }
}

/// One ministry's part of the periodic report.
#[derive(Debug, Clone, PartialEq)]
pub struct MinistryReport {
    pub ministry: String,
    pub statistics: MinistryStatistics,
    pub lessons: Vec<Lesson>,
}

/// One lesson for the periodic report: what was decided, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lesson {
    pub case_reference: String,
    pub citation: String,
    pub outcome: Option<Outcome>,
    pub explanation: String,
    pub decided_at: Timestamp,
}

pub(crate) fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

impl Engine {
    /// A barrier by id; `None` when missing or outside the caller's scope.
    pub async fn barrier(
        &self,
        p: &Principal,
        id: i64,
    ) -> Result<Option<BarrierRecord>, EngineError> {
        if !self.store.barrier_visible(&barrier_scope(p), id).await? {
            return Ok(None);
        }
        Ok(self.store.barrier_by_id(id).await?)
    }

    /// Those of some barriers the caller may read. Every barrier a
    /// readable case links to is among them: handlers see the whole
    /// register, a professional the barriers of their own cases.
    pub async fn barriers_by_ids(
        &self,
        p: &Principal,
        ids: &[i64],
    ) -> Result<Vec<BarrierRecord>, EngineError> {
        Ok(self.store.barriers_by_ids(&barrier_scope(p), ids).await?)
    }

    /// A page of the barriers the caller may read, newest first.
    pub async fn barriers(
        &self,
        p: &Principal,
        q: &BarrierQuery,
        after: Option<i64>,
        first: u64,
    ) -> Result<(Vec<BarrierRecord>, bool), EngineError> {
        let mut rows = self
            .store
            .list_barriers(&barrier_scope(p), q, None, after, first + 1)
            .await?;
        let more = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Ok((rows, more))
    }

    /// The cases of some barriers that the caller may see as summaries
    /// (no text, no names), by barrier id.
    pub async fn barrier_cases(
        &self,
        p: &Principal,
        barriers: &[BarrierRecord],
    ) -> Result<HashMap<i64, Vec<CaseSummary>>, EngineError> {
        let ids: Vec<i64> = barriers.iter().map(|b| b.id).collect();
        let mut out: HashMap<i64, Vec<CaseSummary>> =
            ids.iter().map(|i| (*i, Vec::new())).collect();
        for linked in self.store.barrier_cases(&ids).await? {
            let Some(b) = barriers.iter().find(|b| b.id == linked.barrier) else {
                continue;
            };
            if may_read_summary(p, &linked.case, &b.owning_ministry) {
                out.entry(b.id)
                    .or_default()
                    .push(CaseSummary::of(&linked.case));
            }
        }
        Ok(out)
    }

    /// Links a case to an existing barrier or a new one, on the version the
    /// caller saw. A new barrier and the link are one transaction. With
    /// `history`, the case's events after the commit too, as
    /// [`Engine::act_with_history`] gives them.
    pub async fn link_barrier(
        &self,
        p: &Principal,
        case_id: CaseId,
        expected_version: i32,
        choice: BarrierChoice,
        history: bool,
    ) -> Result<(Case, Option<Vec<StoredEvent>>), EngineError> {
        let case = self
            .case(p, case_id)
            .await?
            .ok_or(EngineError::NotFound("case"))?;
        if case.status.version != expected_version {
            return Err(EngineError::VersionConflict);
        }
        let now = self.now();
        // The right to link, before the arguments are looked at.
        check_link(&case, p, None)?;
        // An existing barrier's id, or the new barrier to create.
        let barrier: Result<i64, NewBarrier> = match choice {
            BarrierChoice::Existing(id) => {
                if self.store.barrier_by_id(id).await?.is_none() {
                    return Err(EngineError::NotFound("barrier"));
                }
                check_link(&case, p, Some(id))?;
                Ok(id)
            }
            BarrierChoice::New {
                citation,
                bwb_id,
                scope,
                owning_ministry,
            } => {
                let citation = Text::parse("newBarrier.citation", &citation, 3, 300)?.into_string();
                let bwb_id = match bwb_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                    Some(b) => Some(BwbId::parse("newBarrier.bwbId", b)?.as_str().to_owned()),
                    None => None,
                };
                let m = MinistryCode::parse("newBarrier.owningMinistry", &owning_ministry)?;
                if self.ministry(m.as_str()).is_none() {
                    return Err(EngineError::validation(
                        "newBarrier.owningMinistry",
                        "is not a known ministry",
                    ));
                }
                Err(NewBarrier {
                    citation,
                    bwb_id,
                    scope,
                    owning_ministry: m.as_str().to_owned(),
                })
            }
        };
        // Read only for a link that will be written.
        let mut events = self.history_before(p, case.id, history).await?;
        // The core makes the event from the barrier's id; for a new barrier
        // the store knows the id only inside its transaction.
        let status = self
            .store
            .link_case(&case, barrier.as_ref().map(|id| *id), p.id, now, |id| {
                link_event(&case, p, id, now)
            })
            .await?;
        self.changed(case.id, doorbraak_core::EventAction::LinkBarrier);
        if let (Some(list), Some(barrier)) = (&mut events, status.barrier) {
            // The event the store wrote, made again from the barrier's id
            // (a pure function of the case before, the actor and the time).
            list.push(StoredEvent {
                case_id: case.id,
                sequence: status.version,
                event: link_event(&case, p, barrier, now),
            });
        }
        Ok((Case { status, ..case }, events))
    }

    /// Barriers that are probably about the same rule as a case, best first.
    pub async fn barrier_suggestions(
        &self,
        p: &Principal,
        case_id: CaseId,
    ) -> Result<Vec<(BarrierRecord, f64)>, EngineError> {
        let case = self
            .case(p, case_id)
            .await?
            .ok_or(EngineError::NotFound("case"))?;
        if !matches!(
            p.role,
            Role::ProgrammeBureau | Role::NationalRepresentative | Role::Administrator
        ) {
            return Err(EngineError::Forbidden(
                "suggestions are for those who link cases to barriers".into(),
            ));
        }
        let rule = &case.facts.rule;
        // First by the rule: the same BWB id and a similar citation.
        let mut by_rule: Vec<(BarrierRecord, bool, f64)> = self
            .store
            .all_barriers()
            .await?
            .into_iter()
            .map(|b| {
                let same_bwb = rule.bwb_id.is_some() && rule.bwb_id == b.bwb_id;
                let sim = citation_similarity(&rule.citation, &b.citation);
                (b, same_bwb, sim)
            })
            .collect();
        by_rule.sort_by(|a, b| {
            (b.1, b.2)
                .partial_cmp(&(a.1, a.2))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        by_rule.truncate(SUGGESTION_CANDIDATES);
        // Then by what the cases are about: the titles of the cases already
        // linked to each candidate, against this case's title.
        let ids: Vec<i64> = by_rule.iter().map(|(b, _, _)| b.id).collect();
        let mut text: HashMap<i64, f64> = HashMap::new();
        for t in self.store.titles_of_barriers(&ids).await? {
            let sim = text_similarity(&case.facts.title, &t.title);
            let best = text.entry(t.barrier).or_insert(0.0);
            *best = best.max(sim);
        }
        let mut scored: Vec<(BarrierRecord, f64)> = by_rule
            .into_iter()
            .map(|(b, same_bwb, cit)| {
                let txt = text.get(&b.id).copied().unwrap_or(0.0);
                let same_ministry =
                    rule.owning_ministry.as_deref() == Some(b.owning_ministry.as_str());
                let score = if same_bwb {
                    0.55 + 0.35 * cit + 0.10 * txt
                } else {
                    0.70 * cit + 0.25 * txt
                } + if same_ministry { 0.05 } else { 0.0 };
                (b, round3(score.min(1.0)))
            })
            .filter(|(_, s)| *s >= 0.25)
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.id.cmp(&b.0.id)));
        scored.truncate(5);
        Ok(scored)
    }

    /// The owner records that a decided barrier's change is in force.
    pub async fn record_implementation(
        &self,
        p: &Principal,
        barrier_id: i64,
        in_force_on: NaiveDate,
        note: &str,
    ) -> Result<BarrierRecord, EngineError> {
        let b = self
            .barrier(p, barrier_id)
            .await?
            .ok_or(EngineError::NotFound("barrier"))?;
        if !doorbraak_core::may_record_implementation(p, &b.owning_ministry) {
            return Err(EngineError::Forbidden(format!(
                "only {} (the owning ministry) records that the change is in force",
                b.owning_ministry
            )));
        }
        let note = Text::parse("note", note, 3, 2_000)?.into_string();
        if !self
            .store
            .record_implementation(barrier_id, in_force_on, &note, self.now())
            .await?
        {
            return Err(EngineError::InvalidTransition(
                "only a barrier with a breakthrough decided can be implemented".into(),
            ));
        }
        self.store
            .barrier_by_id(barrier_id)
            .await?
            .ok_or(EngineError::NotFound("barrier"))
    }

    /// Earlier answers, across all areas: citations and explanations of
    /// resolved cases (never descriptions).
    pub async fn precedents(
        &self,
        p: &Principal,
        query: &str,
        first: u64,
    ) -> Result<Vec<PrecedentHit>, EngineError> {
        if !may_search_precedents(p) {
            return Err(EngineError::Forbidden(
                "earlier answers are for signed-in users".into(),
            ));
        }
        if first == 0 || first > 50 {
            return Err(EngineError::validation("first", "must be between 1 and 50"));
        }
        let words = doorbraak_core::search::query_words(query);
        if words.is_empty() {
            return Err(EngineError::validation(
                "query",
                "needs at least one word of two letters or more",
            ));
        }
        Ok(self.store.search_precedents(&words, first).await?)
    }

    pub(crate) fn check_ministry_reader(
        &self,
        p: &Principal,
        ministry: &str,
    ) -> Result<String, EngineError> {
        let code = MinistryCode::parse("ministry", ministry)?
            .as_str()
            .to_owned();
        if self.ministry(&code).is_none() {
            return Err(EngineError::validation(
                "ministry",
                "is not a known ministry",
            ));
        }
        if may_read_statistics(p, &code) {
            Ok(code)
        } else {
            Err(EngineError::Forbidden(
                "you may read the statistics of your own ministry only".into(),
            ))
        }
    }

    /// The periodic report: per ministry the caller may read, what was
    /// reported, decided, implemented and refused, with up to 50 lessons.
    pub async fn barrier_report(
        &self,
        p: &Principal,
        f: &StatFilter,
    ) -> Result<Vec<MinistryReport>, EngineError> {
        let codes: Vec<String> = match statistics_scope(p) {
            StatisticsScope::All => self.ministries().into_iter().map(|m| m.code).collect(),
            StatisticsScope::Ministry(m) => vec![m],
            StatisticsScope::Nothing => {
                return Err(EngineError::Forbidden(
                    "the report is for ministries and the secretariat".into(),
                ));
            }
        };
        let mut out = Vec::new();
        for ministry in codes {
            let statistics = self.ministry_statistics(p, &ministry, f).await?;
            let lessons = self.lessons(p, &ministry, f, 50).await?;
            out.push(MinistryReport {
                ministry,
                statistics,
                lessons,
            });
        }
        Ok(out)
    }

    /// The lessons of a period for a ministry: decisions with their
    /// explanations, newest first.
    pub async fn lessons(
        &self,
        p: &Principal,
        ministry: &str,
        f: &StatFilter,
        limit: usize,
    ) -> Result<Vec<Lesson>, EngineError> {
        let code = self.check_ministry_reader(p, ministry)?;
        let ids: Vec<CaseId> = self
            .store
            .stat_rows(&code)
            .await?
            .into_iter()
            .filter(|r| f.matches(r) && r.decided_at.is_some_and(|d| f.in_period(d)))
            .map(|r| r.case_id)
            .collect();
        let mut cases = Vec::new();
        for chunk in ids.chunks(5_000) {
            cases.extend(self.store.cases_by_ids(chunk).await?);
        }
        let mut lessons: Vec<Lesson> = cases
            .into_iter()
            .filter_map(|c| {
                let r = c.status.resolution?;
                Some(Lesson {
                    case_reference: c.facts.reference,
                    citation: c.facts.rule.citation,
                    outcome: r.outcome,
                    explanation: r.explanation,
                    decided_at: r.decided_at,
                })
            })
            .collect();
        lessons.sort_by_key(|l| std::cmp::Reverse(l.decided_at));
        lessons.truncate(limit);
        Ok(lessons)
    }
}

/// How many barriers, best by their rule, are compared by case titles too.
const SUGGESTION_CANDIDATES: usize = 25;

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
