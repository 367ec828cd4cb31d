//! Ministry statistics as sums that can be kept: what one case adds to
//! them ([`Contribution`]), the additive sum of many ([`Tally`]), and how a
//! period splits into stored sums and the loose ends read case by case
//! ([`cover`]).
//!
//! Every figure of the statistics is a sum over cases, or is read off one
//! (the areas affected are the areas with a non-zero count, the median and
//! 90th percentile of time per level are nearest ranks in a histogram). So
//! sums per ministry, *series* (everything, one focus area, or one policy
//! domain) and UTC year, month and day can be kept and added, and a period
//! is a handful of them plus, at its edges, the cases of the partial days.
//!
//! Durations go into the histograms already rounded to tenths of a day, as
//! the statistics show them. Rounding is monotone, so the nearest-rank
//! value of the rounded durations is the rounded nearest-rank value of the
//! exact ones: the percentiles stay exact.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::{CaseState, Level, Outcome, PolicyDomain, Timestamp, level_durations_of};

/// What a stored sum covers: all time (the per-barrier counts, which have
/// no period) or one UTC year, month or day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grain {
    All,
    Year,
    Month,
    Day,
}

impl Grain {
    /// The one-letter code stored with a sum.
    pub const fn code(self) -> &'static str {
        match self {
            Grain::All => "A",
            Grain::Year => "Y",
            Grain::Month => "M",
            Grain::Day => "D",
        }
    }
    pub fn parse(s: &str) -> Option<Grain> {
        [Grain::All, Grain::Year, Grain::Month, Grain::Day]
            .into_iter()
            .find(|g| g.code() == s)
    }
}

/// Sums are kept for times from 1 January 1970 up to 2200 (UTC); anything
/// outside (which no case can have) is read case by case, like an edge.
pub const NODES_FROM_MS: i64 = 0;
/// See [`NODES_FROM_MS`].
pub const NODES_UNTIL_MS: i64 = 7_258_118_400_000; // 2200-01-01T00:00:00Z

/// The series that is everything of a ministry.
pub const ALL_SERIES: &str = "";

/// The series of one focus area.
pub fn area_series(area: &str) -> String {
    format!("a:{area}")
}

/// The series of one policy domain.
pub fn domain_series(d: PolicyDomain) -> String {
    format!("d:{}", d.as_str())
}

/// The series a filter reads; `None` when it asks for an area and a domain
/// together, which have no stored series (read case by case).
pub fn series_of(area: Option<&str>, domain: Option<PolicyDomain>) -> Option<String> {
    match (area, domain) {
        (None, None) => Some(ALL_SERIES.to_owned()),
        (Some(a), None) => Some(area_series(a)),
        (None, Some(d)) => Some(domain_series(d)),
        (Some(_), Some(_)) => None,
    }
}

/// The columns of one case that its contribution is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatCase {
    /// The ministry that owns its rule: its barrier's, or its own
    /// citation's when not linked; `None` counts nowhere.
    pub ministry: Option<String>,
    pub focus_area: String,
    pub domains: Vec<PolicyDomain>,
    pub created_at: Timestamp,
    pub state: CaseState,
    pub outcome: Option<Outcome>,
    pub funds_cents: Option<i64>,
    pub decided_at: Option<Timestamp>,
    pub barrier_id: Option<i64>,
}

/// What a decision adds, at the moment it was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decided {
    pub at_ms: i64,
    /// Whether its outcome counts: the case is (still) decided. (Two
    /// fields, not `Option<Option<_>>`, which JSON cannot tell apart.)
    pub counted: bool,
    /// The outcome (`None`: closed without breakthrough).
    pub outcome: Option<String>,
    /// Euros unlocked by a resolution, in cents.
    pub funds_cents: Option<i64>,
    /// The Amsterdam month of the decision (`2026-03`), for the chart of
    /// funds per month.
    pub month: String,
}

/// Everything one case adds to its ministry's statistics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    pub ministry: String,
    pub area: String,
    pub domains: Vec<String>,
    pub created_ms: i64,
    /// Time per level, in tenths of a day, once per level it left.
    pub levels: Vec<(String, i64)>,
    pub decided: Option<Decided>,
    pub barrier: Option<i64>,
}

/// A duration in days, rounded to one decimal as the statistics show it,
/// as an integer number of tenths.
pub fn tenths_of_days(ms: i64) -> i64 {
    ((ms as f64 / 86_400_000.0) * 10.0).round() as i64
}

/// The Amsterdam year and month of a moment.
pub fn local_month(t: Timestamp) -> (i32, u32) {
    let d = t.with_timezone(&chrono_tz::Europe::Amsterdam).date_naive();
    (d.year(), d.month())
}

fn month_key((y, m): (i32, u32)) -> String {
    format!("{y:04}-{m:02}")
}

/// Parses a month key back (`2026-03` → (2026, 3)).
pub fn parse_month_key(k: &str) -> Option<(i32, u32)> {
    let (y, m) = k.split_once('-')?;
    Some((y.parse().ok()?, m.parse().ok()?))
}

impl Contribution {
    /// What `case`, with its state steps (each event's resulting state and
    /// time, in order), adds; `None` when its rule has no ministry.
    pub fn of(
        case: &StatCase,
        steps: impl IntoIterator<Item = (CaseState, Timestamp)>,
    ) -> Option<Contribution> {
        let ministry = case.ministry.clone()?;
        let decided = case.decided_at.and_then(|at| {
            let counted = case.state.is_decided();
            let funds_cents = if case.state == CaseState::Resolved {
                case.funds_cents
            } else {
                None
            };
            (counted || funds_cents.is_some()).then(|| Decided {
                at_ms: at.timestamp_millis(),
                counted,
                outcome: case.outcome.map(|o| o.as_str().to_owned()),
                funds_cents,
                month: month_key(local_month(at)),
            })
        });
        Some(Contribution {
            ministry,
            area: case.focus_area.clone(),
            domains: case.domains.iter().map(|d| d.as_str().to_owned()).collect(),
            created_ms: case.created_at.timestamp_millis(),
            levels: level_durations_of(steps)
                .into_iter()
                .map(|(l, d)| (l.as_str().to_owned(), tenths_of_days(d.num_milliseconds())))
                .collect(),
            decided,
            barrier: case.barrier_id,
        })
    }

    /// Is this case in `series`?
    pub fn in_series(&self, series: &str) -> bool {
        if series == ALL_SERIES {
            return true;
        }
        match series.split_once(':') {
            Some(("a", a)) => self.area == a,
            Some(("d", d)) => self.domains.iter().any(|x| x == d),
            _ => false,
        }
    }

    /// The series this case counts in.
    pub fn series(&self) -> Vec<String> {
        let mut s = vec![ALL_SERIES.to_owned(), format!("a:{}", self.area)];
        s.extend(self.domains.iter().map(|d| format!("d:{d}")));
        s
    }

    /// What its submission adds (at `created_ms`).
    pub fn created_tally(&self) -> Tally {
        let mut t = Tally {
            cases: 1,
            ..Tally::default()
        };
        t.areas.insert(self.area.clone(), 1);
        for (l, d) in &self.levels {
            *t.levels
                .entry(l.clone())
                .or_default()
                .entry(*d)
                .or_default() += 1;
        }
        t
    }

    /// What its decision adds (at its time), if anything.
    pub fn decided_tally(&self) -> Option<(i64, Tally)> {
        let d = self.decided.as_ref()?;
        let mut t = Tally::default();
        if d.counted {
            t.outcomes.insert(d.outcome.clone().unwrap_or_default(), 1);
        }
        if let Some(c) = d.funds_cents {
            t.funds_cents = c;
            t.funds_by_month.insert(d.month.clone(), c);
        }
        Some((d.at_ms, t))
    }

    /// What it adds to its barrier's counts (which have no period).
    pub fn barrier_tally(&self) -> Option<Tally> {
        let b = self.barrier?;
        let mut t = Tally::default();
        t.barriers
            .entry(b)
            .or_default()
            .insert(self.area.clone(), 1);
        Some(t)
    }

    /// Its parts whose time `keep` accepts (submission and decision).
    pub fn within(&self, keep: impl Fn(i64) -> bool) -> Tally {
        let mut t = Tally::default();
        if keep(self.created_ms) {
            t.add(&self.created_tally(), 1);
        }
        if let Some((at, d)) = self.decided_tally()
            && keep(at)
        {
            t.add(&d, 1);
        }
        t
    }

    /// The stored sums this case adds to, with what it adds to each.
    pub fn entries(&self) -> Vec<(NodeKey, Tally)> {
        let mut out = Vec::new();
        let created = self.created_tally();
        let decided = self.decided_tally();
        let barrier = self.barrier_tally();
        for s in self.series() {
            let key = |grain, start| NodeKey {
                ministry: self.ministry.clone(),
                series: s.clone(),
                grain,
                start,
            };
            if let Some(b) = &barrier {
                out.push((key(Grain::All, 0), b.clone()));
            }
            for (at, t) in std::iter::once((self.created_ms, &created))
                .chain(decided.iter().map(|(at, t)| (*at, t)))
            {
                if !(NODES_FROM_MS..NODES_UNTIL_MS).contains(&at) {
                    continue;
                }
                for g in [Grain::Year, Grain::Month, Grain::Day] {
                    out.push((key(g, node_start(g, at)), t.clone()));
                }
            }
        }
        out
    }
}

/// Which stored sum: a ministry's series over one grain starting at `start`
/// (UTC milliseconds; 0 for [`Grain::All`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeKey {
    pub ministry: String,
    pub series: String,
    pub grain: Grain,
    pub start: i64,
}

/// Counts and sums that add up. Zero entries are dropped, so two tallies
/// of the same cases are equal however they were summed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Cases submitted.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cases: i64,
    /// Cases submitted, per focus area.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub areas: BTreeMap<String, i64>,
    /// Of the cases submitted, per level: tenths of a day → cases.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub levels: BTreeMap<String, BTreeMap<i64, i64>>,
    /// Decisions per outcome (`""`: closed without breakthrough).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outcomes: BTreeMap<String, i64>,
    /// Euros unlocked by resolutions, in cents.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub funds_cents: i64,
    /// The same, per Amsterdam month of the decision.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub funds_by_month: BTreeMap<String, i64>,
    /// Per barrier, per focus area: cases linked to it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub barriers: BTreeMap<i64, BTreeMap<String, i64>>,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

fn add_map<K: Ord + Clone>(into: &mut BTreeMap<K, i64>, from: &BTreeMap<K, i64>, sign: i64) {
    for (k, v) in from {
        let e = into.entry(k.clone()).or_default();
        *e += sign * v;
        if *e == 0 {
            into.remove(k);
        }
    }
}

fn add_nested<K: Ord + Clone, J: Ord + Clone>(
    into: &mut BTreeMap<K, BTreeMap<J, i64>>,
    from: &BTreeMap<K, BTreeMap<J, i64>>,
    sign: i64,
) {
    for (k, m) in from {
        let e = into.entry(k.clone()).or_default();
        add_map(e, m, sign);
        if e.is_empty() {
            into.remove(k);
        }
    }
}

impl Tally {
    /// Adds `other` once (`sign` 1) or takes it away (`sign` -1).
    pub fn add(&mut self, other: &Tally, sign: i64) {
        self.cases += sign * other.cases;
        add_map(&mut self.areas, &other.areas, sign);
        add_nested(&mut self.levels, &other.levels, sign);
        add_map(&mut self.outcomes, &other.outcomes, sign);
        self.funds_cents += sign * other.funds_cents;
        add_map(&mut self.funds_by_month, &other.funds_by_month, sign);
        add_nested(&mut self.barriers, &other.barriers, sign);
    }

    pub fn is_empty(&self) -> bool {
        *self == Tally::default()
    }

    /// The nearest-rank `q`-th percentile (0–100) of a level's durations,
    /// in days, and how many durations there are.
    pub fn level_percentile(&self, level: Level, q: f64) -> (usize, Option<f64>) {
        let Some(h) = self.levels.get(level.as_str()) else {
            return (0, None);
        };
        let n: i64 = h.values().sum();
        if n <= 0 {
            return (0, None);
        }
        let rank = (((q / 100.0) * n as f64).ceil() as i64).clamp(1, n);
        let mut seen = 0;
        for (tenths, count) in h {
            seen += count;
            if seen >= rank {
                return (n as usize, Some(*tenths as f64 / 10.0));
            }
        }
        (n as usize, None)
    }
}

/// The UTC start of the year, month or day that `ms` falls in.
pub fn node_start(g: Grain, ms: i64) -> i64 {
    let Some(t) = Utc.timestamp_millis_opt(ms).single() else {
        return ms;
    };
    let d = t.date_naive();
    let start = match g {
        Grain::All => return 0,
        Grain::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1),
        Grain::Month => NaiveDate::from_ymd_opt(d.year(), d.month(), 1),
        Grain::Day => Some(d),
    };
    start.map_or(ms, day_ms)
}

fn day_ms(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis())
}

/// The start of the next year, month or day after the one starting at `ms`.
fn next_start(g: Grain, ms: i64) -> i64 {
    let Some(t) = Utc.timestamp_millis_opt(ms).single() else {
        return i64::MAX;
    };
    let d = t.date_naive();
    let next = match g {
        Grain::All => None,
        Grain::Year => NaiveDate::from_ymd_opt(d.year() + 1, 1, 1),
        Grain::Month if d.month() == 12 => NaiveDate::from_ymd_opt(d.year() + 1, 1, 1),
        Grain::Month => NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1),
        Grain::Day => d.succ_opt(),
    };
    next.map_or(i64::MAX, day_ms)
}

/// A run of stored sums of one grain: those starting from `first` to
/// `last`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRange {
    pub grain: Grain,
    pub first: i64,
    pub last: i64,
}

/// How a period `[from, to)` splits: runs of whole years, months and days
/// kept as sums, and the rest (partial days, and anything outside the
/// years sums are kept for) as intervals `[a, b)` to read case by case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cover {
    pub nodes: Vec<NodeRange>,
    pub edges: Vec<(Option<i64>, Option<i64>)>,
}

impl Cover {
    /// Is `ms` in one of the edges?
    pub fn in_edges(&self, ms: i64) -> bool {
        self.edges
            .iter()
            .any(|(a, b)| a.is_none_or(|a| ms >= a) && b.is_none_or(|b| ms < b))
    }
}

/// Splits the period `[from, to)` (`None`: unbounded) as [`Cover`] says.
pub fn cover(from: Option<i64>, to: Option<i64>) -> Cover {
    let mut c = Cover::default();
    if let (Some(a), Some(b)) = (from, to)
        && a >= b
    {
        return c;
    }
    let mut t = from.unwrap_or(i64::MIN).max(NODES_FROM_MS);
    let h = to.unwrap_or(i64::MAX).min(NODES_UNTIL_MS);
    if from.is_none_or(|a| a < NODES_FROM_MS) {
        c.edges.push((
            from,
            Some(to.map_or(NODES_FROM_MS, |b| b.min(NODES_FROM_MS))),
        ));
    }
    if t < h && node_start(Grain::Day, t) != t {
        let e = next_start(Grain::Day, node_start(Grain::Day, t)).min(h);
        c.edges.push((Some(t), Some(e)));
        t = e;
    }
    while t < h {
        let grain = [Grain::Year, Grain::Month, Grain::Day]
            .into_iter()
            .find(|g| node_start(*g, t) == t && next_start(*g, t) <= h);
        let Some(g) = grain else {
            c.edges.push((Some(t), Some(h)));
            break;
        };
        match c.nodes.last_mut() {
            Some(r) if r.grain == g && next_start(g, r.last) == t => r.last = t,
            _ => c.nodes.push(NodeRange {
                grain: g,
                first: t,
                last: t,
            }),
        }
        t = next_start(g, t);
    }
    if to.is_none_or(|b| b > NODES_UNTIL_MS) {
        let a = NODES_UNTIL_MS.max(from.unwrap_or(i64::MIN));
        c.edges.push((Some(a), to));
    }
    c.edges.retain(|(a, b)| match (a, b) {
        (Some(a), Some(b)) => a < b,
        _ => true,
    });
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    }

    /// Every moment of the period is in exactly one node or edge, and
    /// nothing outside it is.
    fn check_partition(from: Option<i64>, to: Option<i64>, probes: &[i64]) {
        let c = cover(from, to);
        for &p in probes {
            let inside = from.is_none_or(|a| p >= a) && to.is_none_or(|b| p < b);
            let in_nodes = c
                .nodes
                .iter()
                .filter(|r| {
                    let s = node_start(r.grain, p);
                    (NODES_FROM_MS..NODES_UNTIL_MS).contains(&p) && s >= r.first && s <= r.last
                })
                .count();
            let in_edges = c
                .edges
                .iter()
                .filter(|(a, b)| a.is_none_or(|a| p >= a) && b.is_none_or(|b| p < b))
                .count();
            assert_eq!(
                in_nodes + in_edges,
                usize::from(inside),
                "{from:?}..{to:?} at {p}: {c:?}"
            );
        }
    }

    #[test]
    fn a_period_splits_into_whole_years_months_days_and_edges() {
        let c = cover(
            Some(ms("2024-01-01T00:00:00Z")),
            Some(ms("2025-01-01T00:00:00Z")),
        );
        assert_eq!(c.edges, vec![]);
        assert_eq!(c.nodes.len(), 1);
        assert_eq!(c.nodes[0].grain, Grain::Year);

        // An Amsterdam year: partial days at both ends, months, then a
        // run of days.
        let c = cover(
            Some(ms("2023-12-31T23:00:00Z")),
            Some(ms("2024-12-31T23:00:00Z")),
        );
        assert_eq!(
            c.edges,
            vec![
                (
                    Some(ms("2023-12-31T23:00:00Z")),
                    Some(ms("2024-01-01T00:00:00Z"))
                ),
                (
                    Some(ms("2024-12-31T00:00:00Z")),
                    Some(ms("2024-12-31T23:00:00Z"))
                ),
            ]
        );
        let grains: Vec<Grain> = c.nodes.iter().map(|r| r.grain).collect();
        assert_eq!(grains, vec![Grain::Month, Grain::Day]);
        assert_eq!(c.nodes[0].last, ms("2024-11-01T00:00:00Z"));
        assert_eq!(c.nodes[1].first, ms("2024-12-01T00:00:00Z"));
        assert_eq!(c.nodes[1].last, ms("2024-12-30T00:00:00Z"));

        let unbounded = cover(None, None);
        assert_eq!(unbounded.nodes.len(), 1);
        assert_eq!(unbounded.nodes[0].grain, Grain::Year);
        assert_eq!(unbounded.edges.len(), 2);
        assert!(cover(Some(5), Some(5)).nodes.is_empty());
        assert!(cover(Some(5), Some(5)).edges.is_empty());
    }

    #[test]
    fn every_moment_is_counted_once() {
        let probes: Vec<i64> = [
            "1969-06-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "2023-02-28T23:59:59Z",
            "2023-03-01T00:00:00Z",
            "2023-03-15T12:00:00Z",
            "2024-02-29T10:00:00Z",
            "2024-12-31T22:59:59Z",
            "2024-12-31T23:00:00Z",
            "2025-01-01T00:00:00Z",
            "2026-07-04T05:06:07Z",
            "2199-12-31T23:59:59Z",
            "2200-01-01T00:00:00Z",
            "2300-01-01T00:00:00Z",
        ]
        .iter()
        .map(|s| ms(s))
        .collect();
        let bounds: Vec<Option<i64>> = std::iter::once(None)
            .chain(probes.iter().map(|p| Some(*p)))
            .chain([
                Some(ms("2023-03-15T00:00:00Z")),
                Some(ms("2024-01-01T00:00:00Z")),
            ])
            .collect();
        for &a in &bounds {
            for &b in &bounds {
                check_partition(a, b, &probes);
            }
        }
    }

    #[test]
    fn tallies_add_and_take_away_to_nothing() {
        let c = Contribution {
            ministry: "SZW".into(),
            area: "RTM".into(),
            domains: vec!["HOUSING".into(), "INCOME".into()],
            created_ms: ms("2025-03-01T10:00:00Z"),
            levels: vec![("PROGRAMME_BUREAU".into(), 31), ("ALLIANCE".into(), 7)],
            decided: Some(Decided {
                at_ms: ms("2025-04-01T10:00:00Z"),
                counted: true,
                outcome: Some("FUNDING_UNLOCKED".into()),
                funds_cents: Some(12_345),
                month: "2025-04".into(),
            }),
            barrier: Some(3),
        };
        let mut t = Tally::default();
        for (_, e) in c.entries() {
            t.add(&e, 1);
        }
        for (_, e) in c.entries() {
            t.add(&e, -1);
        }
        assert!(t.is_empty());
        // Four series (all, the area, two domains), each with the barrier's
        // all-time sum and a year, month and day for both moments.
        assert_eq!(c.entries().len(), 4 * (1 + 2 * 3));
        assert!(c.in_series("d:INCOME") && c.in_series("a:RTM") && !c.in_series("a:AMS"));
    }

    #[test]
    fn percentiles_from_a_histogram_are_nearest_rank() {
        let mut t = Tally::default();
        let h = t.levels.entry("ALLIANCE".into()).or_default();
        for v in 1..=10 {
            h.insert(v * 10, 1);
        }
        assert_eq!(t.level_percentile(Level::Alliance, 50.0), (10, Some(5.0)));
        assert_eq!(t.level_percentile(Level::Alliance, 90.0), (10, Some(9.0)));
        assert_eq!(
            t.level_percentile(Level::BreakthroughMeeting, 50.0),
            (0, None)
        );
        assert_eq!(tenths_of_days(86_400_000 * 3 / 2), 15);
    }
}
