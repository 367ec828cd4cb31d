//! Who may read what, as the table "Who reads what" in DOMAIN.md sets it
//! out. Every list, every lookup and every path from one object to another
//! goes through these functions: a case in full ([`may_read`]), a case as a
//! summary through the register ([`may_read_summary`]), and the register
//! itself ([`barrier_scope`]).

use crate::UserId;
use crate::machine::{Case, Principal};
use crate::model::{Level, Role};

/// May `p` see the name of user `whom`? Handlers and administrators see
/// the names of the people on a case; a professional sees roles, not
/// names, and only their own name.
pub fn may_see_name(p: &Principal, whom: UserId) -> bool {
    p.role != Role::Professional || p.id == whom
}

/// May `p` see the e-mail address of user `whom`? Only the user and the
/// administrators who keep it: an address is personal data, and no one
/// else needs it to work a case (messages are sent by the service).
pub fn may_see_email(p: &Principal, whom: UserId) -> bool {
    p.id == whom || p.role == Role::Administrator
}

/// The meetings of a level a user may read in full (with their agendas),
/// in a form a store can turn into a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeetingScope {
    All,
    /// Alliance meetings of these focus areas.
    Areas(Vec<String>),
    Nothing,
}

/// Alliance meetings are for the programme bureau, the secretary and the
/// representatives of the area; breakthrough meetings for the
/// secretariat; all for administrators. Others reach a meeting only
/// through their own case on it, and then see its date and level and no
/// other case ([`may_read`] filters the agenda).
pub fn meeting_scope(p: &Principal, level: Level) -> MeetingScope {
    match (level, p.role) {
        (_, Role::Administrator) => MeetingScope::All,
        (
            Level::Alliance,
            Role::ProgrammeBureau | Role::AllianceSecretary | Role::NationalRepresentative,
        ) => MeetingScope::Areas(p.areas.clone()),
        (Level::BreakthroughMeeting, Role::BreakthroughSecretariat) => MeetingScope::All,
        (
            Level::Alliance,
            Role::Professional | Role::BreakthroughSecretariat | Role::MinistryAnalyst,
        )
        | (
            Level::BreakthroughMeeting,
            Role::Professional
            | Role::ProgrammeBureau
            | Role::AllianceSecretary
            | Role::NationalRepresentative
            | Role::MinistryAnalyst,
        )
        | (Level::ProgrammeBureau | Level::NationalRepresentative, _) => MeetingScope::Nothing,
    }
}

/// May `p` read a meeting of `level` (in `area`, for an alliance) in full?
/// Agrees with [`meeting_scope`] by construction.
pub fn may_read_meeting(p: &Principal, level: Level, area: Option<&str>) -> bool {
    match meeting_scope(p, level) {
        MeetingScope::All => true,
        MeetingScope::Areas(areas) => area.is_some_and(|a| areas.iter().any(|x| x == a)),
        MeetingScope::Nothing => false,
    }
}

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

/// The barriers of the register a user may read, in a form a store can
/// turn into a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BarrierScope {
    /// The whole register (handlers, the secretariat, administrators: the
    /// register exists to join areas).
    All,
    /// The barriers this ministry owns (ministry analysts).
    Ministry(String),
    /// The barriers of cases this user submitted (professionals).
    SubmittedBy(UserId),
    /// None (an analyst without a ministry).
    Nothing,
}

pub fn barrier_scope(p: &Principal) -> BarrierScope {
    match p.role {
        Role::Administrator
        | Role::BreakthroughSecretariat
        | Role::ProgrammeBureau
        | Role::AllianceSecretary
        | Role::NationalRepresentative => BarrierScope::All,
        Role::MinistryAnalyst => match &p.ministry {
            Some(m) => BarrierScope::Ministry(m.clone()),
            None => BarrierScope::Nothing,
        },
        Role::Professional => BarrierScope::SubmittedBy(p.id),
    }
}

/// May `p` read a barrier owned by `ministry`, with cases submitted by
/// `submitters`? Agrees with [`barrier_scope`] by construction.
pub fn may_read_barrier(p: &Principal, ministry: &str, submitters: &[UserId]) -> bool {
    match barrier_scope(p) {
        BarrierScope::All => true,
        BarrierScope::Ministry(m) => m == ministry,
        BarrierScope::SubmittedBy(id) => submitters.contains(&id),
        BarrierScope::Nothing => false,
    }
}

/// May `p` see `case`, linked to a barrier owned by `barrier_ministry`, as
/// a summary (reference, focus area, state, level, outcome; never text or
/// names)? Whoever reads the case in full may; handlers and the
/// secretariat see every case of the register, in any area; an analyst the
/// cases of their ministry's barriers; a professional none but their own.
pub fn may_read_summary(p: &Principal, case: &Case, barrier_ministry: &str) -> bool {
    if may_read(p, case) {
        return true;
    }
    match p.role {
        Role::Administrator
        | Role::ProgrammeBureau
        | Role::AllianceSecretary
        | Role::NationalRepresentative
        | Role::BreakthroughSecretariat => true,
        Role::MinistryAnalyst => p.ministry.as_deref() == Some(barrier_ministry),
        Role::Professional => false,
    }
}

/// Whose statistics and reports a user may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatisticsScope {
    /// Every ministry's (administrators, the breakthrough secretariat).
    All,
    /// Their own ministry's (analysts, and national representatives, who
    /// take their ministry's cases to The Hague).
    Ministry(String),
    Nothing,
}

pub fn statistics_scope(p: &Principal) -> StatisticsScope {
    match p.role {
        Role::Administrator | Role::BreakthroughSecretariat => StatisticsScope::All,
        Role::MinistryAnalyst | Role::NationalRepresentative => match &p.ministry {
            Some(m) => StatisticsScope::Ministry(m.clone()),
            None => StatisticsScope::Nothing,
        },
        Role::Professional | Role::ProgrammeBureau | Role::AllianceSecretary => {
            StatisticsScope::Nothing
        }
    }
}

/// May `p` read the statistics and reports of `ministry`?
pub fn may_read_statistics(p: &Principal, ministry: &str) -> bool {
    match statistics_scope(p) {
        StatisticsScope::All => true,
        StatisticsScope::Ministry(m) => m == ministry,
        StatisticsScope::Nothing => false,
    }
}

/// Earlier answers (precedents) are open to everyone signed in, on
/// purpose: "it turns out the rule already allows this" should be found
/// instead of asked again. Spelled out per role, so a new role has to be
/// decided on.
pub fn may_search_precedents(p: &Principal) -> bool {
    match p.role {
        Role::Professional
        | Role::ProgrammeBureau
        | Role::AllianceSecretary
        | Role::NationalRepresentative
        | Role::BreakthroughSecretariat
        | Role::MinistryAnalyst
        | Role::Administrator => true,
    }
}

/// May `p` run the meetings of a level (schedule them, put cases on the
/// agenda, close them)? The alliance secretary runs their alliance's, the
/// breakthrough secretariat the national breakthrough meeting.
pub fn may_run_meetings(p: &Principal, level: Level, area: Option<&str>) -> bool {
    match (level, area) {
        (Level::Alliance, Some(a)) => p.role == Role::AllianceSecretary && p.has_area(a),
        (Level::BreakthroughMeeting, None) => p.role == Role::BreakthroughSecretariat,
        _ => false,
    }
}

/// May `p` record that a barrier's change is in force? The owning
/// ministry (its analysts and representatives), the secretariat and
/// administrators.
pub fn may_record_implementation(p: &Principal, owning_ministry: &str) -> bool {
    match p.role {
        Role::Administrator | Role::BreakthroughSecretariat => true,
        Role::MinistryAnalyst | Role::NationalRepresentative => {
            p.ministry.as_deref() == Some(owning_ministry)
        }
        Role::Professional | Role::ProgrammeBureau | Role::AllianceSecretary => false,
    }
}
