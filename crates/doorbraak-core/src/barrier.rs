//! The barrier register's rules: how a barrier's status follows its cases,
//! how alike two rule citations are, and how long cases spend per level.

use std::collections::HashSet;

use chrono::{Duration, NaiveDate};

use crate::Timestamp;
use crate::machine::{Event, EventAction};
use crate::model::names_impl;
use crate::model::{CaseAction, CaseState, Level, Outcome};

/// Where a barrier stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BarrierStatus {
    Open,
    BreakthroughDecided,
    Implemented,
    NoBreakthrough,
}

names_impl!(BarrierStatus, "barrier status", {
    Open => "OPEN",
    BreakthroughDecided => "BREAKTHROUGH_DECIDED",
    Implemented => "IMPLEMENTED",
    NoBreakthrough => "NO_BREAKTHROUGH",
});

impl BarrierStatus {
    /// A breakthrough was decided (and perhaps implemented): open cases of
    /// the barrier may be resolved by reference to it, at any level.
    pub const fn has_breakthrough(self) -> bool {
        matches!(
            self,
            BarrierStatus::BreakthroughDecided | BarrierStatus::Implemented
        )
    }
}

/// How long before an experiment's evaluation date (or end) it needs
/// evaluation.
pub const EVALUATION_WINDOW_DAYS: i64 = 30;

/// The last evaluation or end date that counts as "needs evaluation" on
/// `today`: the store lists experiments due by then.
pub fn evaluation_due_by(today: NaiveDate) -> NaiveDate {
    today + Duration::days(EVALUATION_WINDOW_DAYS)
}

/// Does an experiment with these dates need evaluation on `today`? Only a
/// decided experiment does, from 30 days before its evaluation date or its
/// end, whichever comes first.
pub fn needs_evaluation(
    status: BarrierStatus,
    outcome: Option<Outcome>,
    experiment_ends: Option<NaiveDate>,
    evaluation_date: Option<NaiveDate>,
    today: NaiveDate,
) -> bool {
    let due = evaluation_due_by(today);
    status == BarrierStatus::BreakthroughDecided
        && outcome == Some(Outcome::Experiment)
        && [experiment_ends, evaluation_date]
            .into_iter()
            .flatten()
            .any(|d| d <= due)
}

/// The barrier status that an event on one of its cases leads to, if it
/// changes anything:
/// - a structural breakthrough or an experiment decides the barrier (also
///   one that was refused before: a later decision overrules it);
/// - a closure without breakthrough by the national representative or the
///   breakthrough meeting refuses an open barrier (a local "no" does not
///   speak for the Rijk);
/// - an implemented or decided barrier is not undone by a case.
pub fn barrier_status_after(current: BarrierStatus, event: &Event) -> Option<BarrierStatus> {
    let decided_outcome = event
        .effect
        .resolution
        .as_ref()
        .and_then(|r| r.outcome)
        .filter(|o| matches!(o, Outcome::StructuralBreakthrough | Outcome::Experiment));
    match (event.action, current) {
        (
            EventAction::Case(CaseAction::Resolve),
            BarrierStatus::Open | BarrierStatus::NoBreakthrough,
        ) if decided_outcome.is_some() => Some(BarrierStatus::BreakthroughDecided),
        (EventAction::Case(CaseAction::CloseNoBreakthrough), BarrierStatus::Open)
            if event.to_state == CaseState::ClosedNoBreakthrough
                && event.effect.level >= Level::NationalRepresentative =>
        {
            Some(BarrierStatus::NoBreakthrough)
        }
        _ => None,
    }
}

fn normalise(citation: &str) -> String {
    citation
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .filter(|w| !matches!(*w, "art" | "artikel" | "lid" | "sub" | "de" | "het" | "van"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn trigrams(s: &str) -> HashSet<[char; 3]> {
    let padded: Vec<char> = format!("  {s} ").chars().collect();
    padded.windows(3).map(|w| [w[0], w[1], w[2]]).collect()
}

/// How alike two citations are, from 0 (nothing shared) to 1 (the same
/// after normalising case, punctuation and filler words like "art.").
/// Trigram Jaccard similarity, so "Participatiewet art. 31" and
/// "Participatiewet artikel 31 lid 2" score high.
pub fn citation_similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (normalise(a), normalise(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    let (ta, tb) = (trigrams(&a), trigrams(&b));
    let shared = ta.intersection(&tb).count() as f64;
    let all = ta.union(&tb).count() as f64;
    if all == 0.0 { 0.0 } else { shared / all }
}

fn words(s: &str) -> HashSet<String> {
    const FILLER: &[&str] = &[
        "de", "het", "een", "van", "voor", "met", "niet", "mag", "mogen", "kan", "kunnen", "op",
        "in", "en", "te", "bij", "aan", "die", "dat", "zij", "wordt", "worden", "als", "om", "the",
        "and", "for",
    ];
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3 && !FILLER.contains(w))
        .map(str::to_owned)
        .collect()
}

/// How alike two short texts (titles) are, from 0 to 1: the share of
/// meaningful words they have in common (Jaccard over words of three
/// letters or more, common Dutch filler words left out).
pub fn text_similarity(a: &str, b: &str) -> f64 {
    let (wa, wb) = (words(a), words(b));
    let all = wa.union(&wb).count();
    if all == 0 {
        return 0.0;
    }
    wa.intersection(&wb).count() as f64 / all as f64
}

/// Time a case spent at each level, from its log: from entering a level
/// (`AT_*`) to leaving it, without the time spent waiting for the
/// submitter. Only completed stays count; a case still at a level adds
/// nothing for it. Several stays at one level are added up.
pub fn level_durations(events: &[Event]) -> Vec<(Level, Duration)> {
    level_durations_of(events.iter().map(|e| (e.to_state, e.at)))
}

/// [`level_durations`] from each event's resulting state and time, in
/// order: all it looks at, so statistics need not load whole events.
pub fn level_durations_of(
    steps: impl IntoIterator<Item = (CaseState, Timestamp)>,
) -> Vec<(Level, Duration)> {
    let mut out: Vec<(Level, Duration)> = Vec::new();
    let mut current: Option<(Level, Timestamp)> = None;
    let mut paused: Option<Timestamp> = None;
    let mut waited = Duration::zero();
    for (to_state, at) in steps {
        let entering = to_state.active_level();
        if to_state == CaseState::AwaitingInformation {
            paused.get_or_insert(at);
            continue;
        }
        if let Some(p) = paused.take() {
            waited += at - p;
        }
        match (current, entering) {
            (Some((l, _)), Some(n)) if l == n => {}
            (Some((l, since)), _) => {
                let spent = (at - since) - waited;
                match out.iter_mut().find(|(x, _)| *x == l) {
                    Some((_, d)) => *d += spent,
                    None => out.push((l, spent)),
                }
                current = entering.map(|n| (n, at));
                waited = Duration::zero();
            }
            (None, Some(n)) => {
                current = Some((n, at));
                waited = Duration::zero();
            }
            (None, None) => {}
        }
    }
    out
}

/// The `q`-th percentile (0–100) of sorted values, by the nearest-rank
/// method; `None` for no values.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_citations() {
        assert_eq!(
            citation_similarity("Participatiewet art. 31", "participatiewet artikel 31"),
            1.0
        );
        assert!(
            citation_similarity("Participatiewet art. 31", "Participatiewet art. 31 lid 2") > 0.6
        );
        assert!(citation_similarity("Participatiewet art. 31", "Wet kinderopvang art. 1.45") < 0.2);
        assert_eq!(citation_similarity("", "x"), 0.0);
    }

    #[test]
    fn similar_titles() {
        assert_eq!(
            text_similarity("Oppasrooster voor ouders", "ouders: oppasrooster!"),
            1.0
        );
        assert!(
            text_similarity(
                "Bijverdienen in de bijstand",
                "Bijverdienen naast een bijstandsuitkering"
            ) > 0.2
        );
        assert_eq!(
            text_similarity("Afvalbak in de wijk", "Sociale huur op inkomen"),
            0.0
        );
        assert_eq!(text_similarity("", "de en het"), 0.0);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(percentile(&v, 50.0), Some(5.0));
        assert_eq!(percentile(&v, 90.0), Some(9.0));
        assert_eq!(percentile(&[3.0], 90.0), Some(3.0));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
