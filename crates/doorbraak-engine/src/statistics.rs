//! Ministry statistics: from the kept sums (`doorbraak_core::stats`,
//! `doorbraak_store::stats`), and case by case.
//!
//! [`Engine::ministry_statistics`] reads a period's whole years, months and
//! days as sums, corrects them for the cases not yet folded in (what they
//! were folded in as comes off, what they add now goes on), and reads the
//! cases of the partial days at the edges one by one. So its cost follows
//! the number of sums and the cases of two partial days, not the history.
//! [`Engine::fold_statistics`] is the folder the server runs in the
//! background (and `doorbraak generate` once at the end).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use doorbraak_core::stats::{ALL_SERIES, Tally, cover, local_month, parse_month_key, series_of};
use doorbraak_core::{
    CaseId, CaseState, Level, Outcome, Principal, Timestamp, level_durations_of, percentile,
};
use doorbraak_store::{BarrierQuery, BarrierRecord, BarrierScope, StatRow};

use crate::register::round1;
use crate::{Engine, EngineError, LevelDuration, MinistryStatistics, StatFilter};

/// Cases per fold when filling a database offline (`doorbraak generate`):
/// large batches, because the day, month and year sums they share are
/// rewritten once per batch.
pub const BULK_FOLD_BATCH: u64 = 20_000;

/// The barrier figures of a ministry's statistics.
struct BarrierFigures {
    reported: usize,
    decided: usize,
    implemented: usize,
    refused: usize,
    per_barrier: Vec<(BarrierRecord, usize, usize)>,
}

/// Counts the ministry's `barriers` by what happened to them in the period
/// and lists them with their (cases, areas) from `per`, most cases first.
/// With an area or domain filter, only barriers with a case that passes it
/// (those in `per`) count.
fn barrier_figures(
    barriers: &[BarrierRecord],
    filtered: bool,
    per: &HashMap<i64, (usize, usize)>,
    f: &StatFilter,
) -> BarrierFigures {
    let relevant: Vec<&BarrierRecord> = barriers
        .iter()
        .filter(|b| !filtered || per.contains_key(&b.id))
        .collect();
    let count = |pick: &dyn Fn(&BarrierRecord) -> Option<Timestamp>| {
        relevant
            .iter()
            .filter(|b| pick(b).is_some_and(|t| f.in_period(t)))
            .count()
    };
    let mut per_barrier: Vec<(BarrierRecord, usize, usize)> = relevant
        .iter()
        .map(|b| {
            let (n, a) = per.get(&b.id).copied().unwrap_or((0, 0));
            ((*b).clone(), n, a)
        })
        .collect();
    per_barrier.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.id.cmp(&b.0.id)));
    BarrierFigures {
        reported: count(&|b| Some(b.created_at)),
        decided: count(&|b| b.decided_at),
        implemented: count(&|b| b.implemented_at),
        refused: count(&|b| b.refused_at),
        per_barrier,
    }
}

impl Engine {
    /// What a ministry sees of its rules over a period.
    pub async fn ministry_statistics(
        &self,
        p: &Principal,
        ministry: &str,
        f: &StatFilter,
    ) -> Result<MinistryStatistics, EngineError> {
        let code = self.check_ministry_reader(p, ministry)?;
        let Some(series) = series_of(f.area.as_deref(), f.domain) else {
            return self.ministry_statistics_by_rows(p, ministry, f).await;
        };
        let ms = |t: Timestamp| t.timestamp_millis();
        let cover = cover(f.from.map(ms), f.to.map(ms));
        let snap = self.store.stat_snapshot(&code, &series, &cover).await?;
        let in_period =
            |t: i64| f.from.is_none_or(|a| t >= ms(a)) && f.to.is_none_or(|b| t < ms(b));
        let in_nodes = |t: i64| in_period(t) && !cover.in_edges(t);
        let in_edges = |t: i64| in_period(t) && cover.in_edges(t);
        let (mut period, mut all) = (snap.nodes, snap.all_time);
        for c in snap.dirty_folded.iter().filter(|c| c.in_series(&series)) {
            period.add(&c.within(in_nodes), -1);
            if let Some(b) = c.barrier_tally() {
                all.add(&b, -1);
            }
        }
        for c in snap.dirty_now.iter().filter_map(|i| i.contribution()) {
            if c.in_series(&series) {
                period.add(&c.within(in_nodes), 1);
                if let Some(b) = c.barrier_tally() {
                    all.add(&b, 1);
                }
            }
        }
        for c in snap.edges_now.iter().filter_map(|i| i.contribution()) {
            if c.in_series(&series) {
                period.add(&c.within(in_edges), 1);
            }
        }
        let barriers = self.ministry_barriers(&code).await?;
        let per: HashMap<i64, (usize, usize)> = all
            .barriers
            .iter()
            .map(|(b, areas)| (*b, (areas.values().sum::<i64>() as usize, areas.len())))
            .collect();
        let figures = barrier_figures(&barriers, series != ALL_SERIES, &per, f);
        Ok(from_tally(code, &period, figures))
    }

    /// Every barrier a ministry owns.
    async fn ministry_barriers(&self, code: &str) -> Result<Vec<BarrierRecord>, EngineError> {
        Ok(self
            .store
            .list_barriers(
                &BarrierScope::Ministry(code.to_owned()),
                &BarrierQuery::default(),
                None,
                None,
                u64::MAX >> 1,
            )
            .await?)
    }

    /// Folds up to `batch` cases whose contribution to the statistics may
    /// have changed into the sums. Returns how many it looked at (0: none
    /// were waiting).
    pub async fn fold_statistics(&self, batch: u64) -> Result<usize, EngineError> {
        let inputs = self.store.dirty_stat_cases(batch).await?;
        self.store.fold_stats(&inputs).await?;
        Ok(inputs.len())
    }

    /// Folds every waiting case in, `batch` at a time (a case that moves
    /// meanwhile stays for the next run). Returns how many it looked at.
    pub async fn fold_all_statistics(&self, batch: u64) -> Result<usize, EngineError> {
        let mut seen = 0;
        loop {
            let n = self.fold_statistics(batch).await?;
            seen += n;
            if (n as u64) < batch {
                return Ok(seen);
            }
        }
    }

    /// The same figures as [`Engine::ministry_statistics`], read case by
    /// case from the cases and their events: what an area and a domain
    /// together are answered with (no sums are kept for the pair), and the
    /// reference the tests hold the sums to. Linear in the ministry's cases.
    pub async fn ministry_statistics_by_rows(
        &self,
        p: &Principal,
        ministry: &str,
        f: &StatFilter,
    ) -> Result<MinistryStatistics, EngineError> {
        let code = self.check_ministry_reader(p, ministry)?;
        let rows: Vec<StatRow> = self
            .store
            .stat_rows(&code)
            .await?
            .into_iter()
            .filter(|r| f.matches(r))
            .collect();
        let barriers = self.ministry_barriers(&code).await?;
        let created: Vec<&StatRow> = rows.iter().filter(|r| f.in_period(r.created_at)).collect();
        let decided: Vec<&StatRow> = rows
            .iter()
            .filter(|r| r.decided_at.is_some_and(|d| f.in_period(d)))
            .collect();
        let areas: BTreeSet<&str> = created.iter().map(|r| r.focus_area.as_str()).collect();
        let mut funds_by_month: BTreeMap<(i32, u32), i64> = BTreeMap::new();
        for (at, cents) in decided
            .iter()
            .filter(|r| r.state == CaseState::Resolved)
            .filter_map(|r| Some((r.decided_at?, r.funds_cents?)))
        {
            *funds_by_month.entry(local_month(at)).or_default() += cents;
        }
        let funds: i64 = funds_by_month.values().sum();
        let mut outcomes: BTreeMap<Option<&'static str>, (Option<Outcome>, usize)> =
            BTreeMap::new();
        for r in decided.iter().filter(|r| r.state.is_decided()) {
            let e = outcomes
                .entry(r.outcome.map(|o| o.as_str()))
                .or_insert((r.outcome, 0));
            e.1 += 1;
        }
        // Barriers count when one of their cases passes the area and domain filters.
        let filtered = f.area.is_some() || f.domain.is_some();
        let mut per: HashMap<i64, (usize, BTreeSet<&str>)> = HashMap::new();
        for r in &rows {
            if let Some(b) = r.barrier_id {
                let e = per.entry(b).or_default();
                e.0 += 1;
                e.1.insert(r.focus_area.as_str());
            }
        }
        let per: HashMap<i64, (usize, usize)> = per
            .into_iter()
            .map(|(b, (n, a))| (b, (n, a.len())))
            .collect();
        let figures = barrier_figures(&barriers, filtered, &per, f);

        // Time per level, over the cases submitted in the period.
        let ids: Vec<CaseId> = created.iter().map(|r| r.case_id).collect();
        let mut by_level: BTreeMap<Level, Vec<f64>> = BTreeMap::new();
        for chunk in ids.chunks(5_000) {
            // Aggregates only: who may see the statistics was checked above.
            let steps = self.store.state_steps(chunk).await?;
            // In case order, each case's steps in sequence order.
            for log in steps.chunk_by(|a, b| a.0 == b.0) {
                for (level, d) in level_durations_of(log.iter().map(|(_, s, at)| (*s, *at))) {
                    by_level
                        .entry(level)
                        .or_default()
                        .push(d.num_milliseconds() as f64 / 86_400_000.0);
                }
            }
        }
        let level_durations = Level::ALL
            .iter()
            .map(|l| {
                let mut v = by_level.remove(l).unwrap_or_default();
                v.sort_by(f64::total_cmp);
                LevelDuration {
                    level: *l,
                    cases: v.len(),
                    median_days: percentile(&v, 50.0).map(round1),
                    p90_days: percentile(&v, 90.0).map(round1),
                }
            })
            .collect();
        Ok(MinistryStatistics {
            ministry: code,
            barriers_reported: figures.reported,
            barriers_decided: figures.decided,
            barriers_implemented: figures.implemented,
            barriers_refused: figures.refused,
            cases_total: created.len(),
            areas_affected: areas.len(),
            funds_unlocked_cents: funds,
            outcomes: outcomes.into_values().collect(),
            level_durations,
            per_barrier: figures.per_barrier,
            funds_by_month: funds_by_month.into_iter().collect(),
        })
    }
}

/// The statistics a period's tally says.
fn from_tally(ministry: String, t: &Tally, figures: BarrierFigures) -> MinistryStatistics {
    let outcomes = t
        .outcomes
        .iter()
        .map(|(o, n)| {
            (
                (!o.is_empty()).then(|| o.parse::<Outcome>().ok()).flatten(),
                *n as usize,
            )
        })
        .collect();
    let level_durations = Level::ALL
        .iter()
        .map(|l| {
            let (cases, median_days) = t.level_percentile(*l, 50.0);
            LevelDuration {
                level: *l,
                cases,
                median_days,
                p90_days: t.level_percentile(*l, 90.0).1,
            }
        })
        .collect();
    MinistryStatistics {
        ministry,
        barriers_reported: figures.reported,
        barriers_decided: figures.decided,
        barriers_implemented: figures.implemented,
        barriers_refused: figures.refused,
        cases_total: t.cases as usize,
        areas_affected: t.areas.len(),
        funds_unlocked_cents: t.funds_cents,
        outcomes,
        level_durations,
        per_barrier: figures.per_barrier,
        funds_by_month: t
            .funds_by_month
            .iter()
            .filter_map(|(k, c)| Some((parse_month_key(k)?, *c)))
            .collect(),
    }
}
