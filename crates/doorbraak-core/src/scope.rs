//! Who may read which case. Every list and every lookup goes through this.

use crate::UserId;
use crate::machine::{Case, Principal};
use crate::model::{Level, Role};

/// The set of cases a user may read, in a form a store can turn into a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadScope {
    /// Every case (administrators).
    All,
    /// The cases this user submitted (professionals).
    SubmittedBy(UserId),
    /// The cases of these focus areas (programme bureau, alliance,
    /// national representatives).
    Areas(Vec<String>),
    /// Cases that have ever reached this level (the breakthrough secretariat
    /// sees what came to the national meeting, not every local case).
    ReachedLevel(Level),
    /// No case at all (ministry analysts see the barrier register instead).
    Nothing,
}

pub fn read_scope(p: &Principal) -> ReadScope {
    match p.role {
        Role::Administrator => ReadScope::All,
        Role::Professional => ReadScope::SubmittedBy(p.id),
        Role::ProgrammeBureau | Role::AllianceSecretary | Role::NationalRepresentative => {
            ReadScope::Areas(p.areas.clone())
        }
        Role::BreakthroughSecretariat => ReadScope::ReachedLevel(Level::BreakthroughMeeting),
        Role::MinistryAnalyst => ReadScope::Nothing,
    }
}

/// May `p` read `case`? Agrees with [`read_scope`] by construction.
pub fn may_read(p: &Principal, case: &Case) -> bool {
    match read_scope(p) {
        ReadScope::All => true,
        ReadScope::SubmittedBy(id) => case.facts.submitted_by == id,
        ReadScope::Areas(areas) => areas.contains(&case.facts.focus_area),
        ReadScope::ReachedLevel(level) => case.status.highest_level >= level,
        ReadScope::Nothing => false,
    }
}
