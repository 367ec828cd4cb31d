//! The cases this instance last wrote, by id (see `cases::WRITTEN_MAX`
//! for why a kept case cannot mislead).
//!
//! A plain map in shards, each behind its own lock held for a lookup or
//! an insert only, never across an await. It replaced a moka cache,
//! whose bookkeeping (frequency sketch, eviction queues, housekeeping)
//! cost about 3% of the server's CPU per transition over HTTP
//! (ARCHITECTURE.md, "Tried"); for a hint the version guard checks, an
//! exact eviction order buys nothing. A shard that is full when a new
//! case comes is emptied: the cases in it are read again when acted on.

use std::collections::HashMap;
use std::sync::Mutex;

use doorbraak_core::{Case, CaseId};

/// How many shards: enough that the tokio threads of a small machine
/// seldom wait on each other.
const SHARDS: usize = 16;

pub(crate) struct Kept {
    shards: Vec<Mutex<HashMap<CaseId, Case>>>,
    per_shard: usize,
}

impl Kept {
    /// A map that keeps at most about `max` cases.
    pub(crate) fn new(max: usize) -> Kept {
        Kept {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_shard: max.div_ceil(SHARDS).max(1),
        }
    }

    fn shard(&self, id: CaseId) -> std::sync::MutexGuard<'_, HashMap<CaseId, Case>> {
        let i = id.rem_euclid(SHARDS as i64) as usize;
        // A panic while holding the lock left at worst a case missing or
        // stale by version, both of which the readers allow for.
        self.shards[i]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The case as last written, if it is kept.
    pub(crate) fn get(&self, id: CaseId) -> Option<Case> {
        self.shard(id).get(&id).cloned()
    }

    /// Keeps `case` as written, in place of what was kept for its id.
    pub(crate) fn insert(&self, case: Case) {
        let mut shard = self.shard(case.id);
        if shard.len() >= self.per_shard && !shard.contains_key(&case.id) {
            shard.clear();
        }
        shard.insert(case.id, case);
    }

    /// Forgets the case with this id.
    pub(crate) fn forget(&self, id: CaseId) {
        self.shard(id).remove(&id);
    }

    /// How many cases are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorbraak_core::*;

    fn case(id: CaseId, version: i32) -> Case {
        let at = chrono::DateTime::from_timestamp_millis(1_790_000_000_000).unwrap();
        Case {
            id,
            facts: CaseFacts {
                reference: format!("ZDO-2026-{id:04}"),
                title: "Oppasrooster".into(),
                description: "Ouders mogen niet op elkaars peuters passen.".into(),
                focus_area: "ZDO".into(),
                domains: vec![PolicyDomain::Youth],
                rule: Rule {
                    citation: "Wet kinderopvang art. 1.45".into(),
                    bwb_id: None,
                    scope: RuleScope::Municipal,
                    owning_ministry: None,
                },
                desired_action: "Toestaan.".into(),
                households_affected: None,
                estimated_cost: None,
                urgency: Urgency::Normal,
                submitted_by: 1,
                created_at: at,
            },
            status: Status {
                state: CaseState::AtProgrammeBureau,
                level: Level::ProgrammeBureau,
                highest_level: Level::ProgrammeBureau,
                assignee: None,
                deadline: None,
                paused_at: None,
                resolution: None,
                merged_into: None,
                barrier: None,
                version,
                updated_at: at,
            },
        }
    }

    #[test]
    fn keeps_the_last_write_and_forgets_on_request() {
        let kept = Kept::new(64);
        assert!(kept.get(7).is_none());
        kept.insert(case(7, 1));
        kept.insert(case(7, 2));
        assert_eq!(kept.get(7).map(|c| c.status.version), Some(2));
        kept.forget(7);
        assert!(kept.get(7).is_none());
    }

    #[test]
    fn stays_within_its_bound() {
        let kept = Kept::new(64);
        for id in 0..10_000 {
            kept.insert(case(id, 1));
            assert!(kept.len() <= 64, "{} kept after {id}", kept.len());
        }
        // The last case written is always kept.
        assert!(kept.get(9_999).is_some());
        // Rewriting a kept case in a full shard keeps its neighbours.
        let full = Kept::new(SHARDS * 2);
        full.insert(case(0, 1));
        full.insert(case(SHARDS as i64, 1));
        full.insert(case(0, 2));
        assert!(full.get(SHARDS as i64).is_some());
        assert_eq!(full.get(0).map(|c| c.status.version), Some(2));
    }
}
