//! The closed vocabularies of the domain. Each enum has one stable
//! SCREAMING_SNAKE name per variant, used in the database and the API alike.

/// A value that is not one of an enum's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {kind}")]
pub struct ParseEnumError {
    pub kind: &'static str,
    pub value: String,
}

macro_rules! names_impl {
    ($ty:ident, $kind:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The stable name (as in the API and the database).
            pub const fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $ty {
            type Err = $crate::model::ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    _ => Err($crate::model::ParseEnumError { kind: $kind, value: s.to_owned() }),
                }
            }
        }
    };
}

pub(crate) use names_impl;

/// What a user is, which decides what they may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Professional,
    ProgrammeBureau,
    AllianceSecretary,
    NationalRepresentative,
    BreakthroughSecretariat,
    MinistryAnalyst,
    Administrator,
}
names_impl!(Role, "role", {
    Professional => "PROFESSIONAL",
    ProgrammeBureau => "PROGRAMME_BUREAU",
    AllianceSecretary => "ALLIANCE_SECRETARY",
    NationalRepresentative => "NATIONAL_REPRESENTATIVE",
    BreakthroughSecretariat => "BREAKTHROUGH_SECRETARIAT",
    MinistryAnalyst => "MINISTRY_ANALYST",
    Administrator => "ADMINISTRATOR",
});

impl Role {
    /// Parses a role name as people type it on a command line: any case,
    /// with `_` or `-` between words (`national-representative`).
    pub fn parse_lenient(s: &str) -> Result<Role, ParseEnumError> {
        let normal: String = s
            .trim()
            .chars()
            .map(|c| {
                if c == '-' {
                    '_'
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        normal.parse().map_err(|_| ParseEnumError {
            kind: "role",
            value: s.to_owned(),
        })
    }
}

/// The rungs of the escalation ladder, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    ProgrammeBureau,
    Alliance,
    NationalRepresentative,
    BreakthroughMeeting,
}
names_impl!(Level, "level", {
    ProgrammeBureau => "PROGRAMME_BUREAU",
    Alliance => "ALLIANCE",
    NationalRepresentative => "NATIONAL_REPRESENTATIVE",
    BreakthroughMeeting => "BREAKTHROUGH_MEETING",
});

impl Level {
    /// One rung up, or `None` at the top.
    pub const fn up(self) -> Option<Level> {
        match self {
            Level::ProgrammeBureau => Some(Level::Alliance),
            Level::Alliance => Some(Level::NationalRepresentative),
            Level::NationalRepresentative => Some(Level::BreakthroughMeeting),
            Level::BreakthroughMeeting => None,
        }
    }
    /// One rung down, or `None` at the bottom.
    pub const fn down(self) -> Option<Level> {
        match self {
            Level::ProgrammeBureau => None,
            Level::Alliance => Some(Level::ProgrammeBureau),
            Level::NationalRepresentative => Some(Level::Alliance),
            Level::BreakthroughMeeting => Some(Level::NationalRepresentative),
        }
    }
    /// The alliance and the breakthrough meeting decide in meetings, so a
    /// case at these levels may be on an agenda.
    pub const fn meets(self) -> bool {
        matches!(self, Level::Alliance | Level::BreakthroughMeeting)
    }
    /// The state of a case that is being handled at this level.
    pub const fn state(self) -> CaseState {
        match self {
            Level::ProgrammeBureau => CaseState::AtProgrammeBureau,
            Level::Alliance => CaseState::AtAlliance,
            Level::NationalRepresentative => CaseState::AtNationalRepresentative,
            Level::BreakthroughMeeting => CaseState::AtBreakthroughMeeting,
        }
    }
}

/// Where a case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseState {
    AtProgrammeBureau,
    AtAlliance,
    AtNationalRepresentative,
    AtBreakthroughMeeting,
    AwaitingInformation,
    Resolved,
    ClosedNoBreakthrough,
    Rejected,
    Merged,
    Withdrawn,
}
names_impl!(CaseState, "case state", {
    AtProgrammeBureau => "AT_PROGRAMME_BUREAU",
    AtAlliance => "AT_ALLIANCE",
    AtNationalRepresentative => "AT_NATIONAL_REPRESENTATIVE",
    AtBreakthroughMeeting => "AT_BREAKTHROUGH_MEETING",
    AwaitingInformation => "AWAITING_INFORMATION",
    Resolved => "RESOLVED",
    ClosedNoBreakthrough => "CLOSED_NO_BREAKTHROUGH",
    Rejected => "REJECTED",
    Merged => "MERGED",
    Withdrawn => "WITHDRAWN",
});

impl CaseState {
    /// The level whose handlers hold the case now, for the four `AT_*` states.
    pub const fn active_level(self) -> Option<Level> {
        match self {
            CaseState::AtProgrammeBureau => Some(Level::ProgrammeBureau),
            CaseState::AtAlliance => Some(Level::Alliance),
            CaseState::AtNationalRepresentative => Some(Level::NationalRepresentative),
            CaseState::AtBreakthroughMeeting => Some(Level::BreakthroughMeeting),
            CaseState::AwaitingInformation
            | CaseState::Resolved
            | CaseState::ClosedNoBreakthrough
            | CaseState::Rejected
            | CaseState::Merged
            | CaseState::Withdrawn => None,
        }
    }
    /// The meeting level a case in this state waits for: the alliance and
    /// the breakthrough meeting decide in meetings, from an agenda.
    pub const fn meeting_level(self) -> Option<Level> {
        match self {
            CaseState::AtAlliance => Some(Level::Alliance),
            CaseState::AtBreakthroughMeeting => Some(Level::BreakthroughMeeting),
            CaseState::AtProgrammeBureau
            | CaseState::AtNationalRepresentative
            | CaseState::AwaitingInformation
            | CaseState::Resolved
            | CaseState::ClosedNoBreakthrough
            | CaseState::Rejected
            | CaseState::Merged
            | CaseState::Withdrawn => None,
        }
    }
    /// Still moving: at a level, or waiting for the submitter.
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            CaseState::AtProgrammeBureau
                | CaseState::AtAlliance
                | CaseState::AtNationalRepresentative
                | CaseState::AtBreakthroughMeeting
                | CaseState::AwaitingInformation
        )
    }
    /// Decided on its merits: the submitter may still contest for a while.
    pub const fn is_decided(self) -> bool {
        matches!(self, CaseState::Resolved | CaseState::ClosedNoBreakthrough)
    }
    /// Final: nothing is accepted any more.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            CaseState::Rejected | CaseState::Merged | CaseState::Withdrawn
        )
    }
}

/// How a case was resolved (a closure without breakthrough has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    AlreadyPossible,
    IncidentalBreakthrough,
    StructuralBreakthrough,
    Experiment,
    FundingUnlocked,
}
names_impl!(Outcome, "outcome", {
    AlreadyPossible => "ALREADY_POSSIBLE",
    IncidentalBreakthrough => "INCIDENTAL_BREAKTHROUGH",
    StructuralBreakthrough => "STRUCTURAL_BREAKTHROUGH",
    Experiment => "EXPERIMENT",
    FundingUnlocked => "FUNDING_UNLOCKED",
});

/// Whose rule blocks: an organisation's own, the municipality's, or the Rijk's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleScope {
    Organisation,
    Municipal,
    National,
}
names_impl!(RuleScope, "rule scope", {
    Organisation => "ORGANISATION",
    Municipal => "MUNICIPAL",
    National => "NATIONAL",
});

/// The policy domains a case touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyDomain {
    Education,
    WorkIncome,
    DebtPoverty,
    Housing,
    HealthCare,
    Youth,
    Safety,
    Other,
}
names_impl!(PolicyDomain, "policy domain", {
    Education => "EDUCATION",
    WorkIncome => "WORK_INCOME",
    DebtPoverty => "DEBT_POVERTY",
    Housing => "HOUSING",
    HealthCare => "HEALTH_CARE",
    Youth => "YOUTH",
    Safety => "SAFETY",
    Other => "OTHER",
});

/// How urgent the submitter says the case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Urgency {
    #[default]
    Normal,
    Urgent,
}
names_impl!(Urgency, "urgency", {
    Normal => "NORMAL",
    Urgent => "URGENT",
});

/// Everything a user can do to a case after it is submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseAction {
    PickUp,
    Release,
    RequestInformation,
    ProvideInformation,
    Escalate,
    ReferBack,
    Resolve,
    CloseNoBreakthrough,
    Reject,
    Merge,
    Withdraw,
    Contest,
}
names_impl!(CaseAction, "case action", {
    PickUp => "PICK_UP",
    Release => "RELEASE",
    RequestInformation => "REQUEST_INFORMATION",
    ProvideInformation => "PROVIDE_INFORMATION",
    Escalate => "ESCALATE",
    ReferBack => "REFER_BACK",
    Resolve => "RESOLVE",
    CloseNoBreakthrough => "CLOSE_NO_BREAKTHROUGH",
    Reject => "REJECT",
    Merge => "MERGE",
    Withdraw => "WITHDRAW",
    Contest => "CONTEST",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(*r));
        }
        for s in CaseState::ALL {
            assert_eq!(s.as_str().parse::<CaseState>(), Ok(*s));
        }
        for a in CaseAction::ALL {
            assert_eq!(a.as_str().parse::<CaseAction>(), Ok(*a));
        }
        assert!("SUBMITTED".parse::<CaseState>().is_err());
    }

    #[test]
    fn roles_parse_as_typed_on_a_command_line() {
        assert_eq!(
            Role::parse_lenient("national-representative"),
            Ok(Role::NationalRepresentative)
        );
        assert_eq!(
            Role::parse_lenient("Programme_Bureau"),
            Ok(Role::ProgrammeBureau)
        );
        assert!(Role::parse_lenient("mayor").is_err());
    }

    #[test]
    fn ladder_ends() {
        assert_eq!(Level::ProgrammeBureau.down(), None);
        assert_eq!(Level::BreakthroughMeeting.up(), None);
        for l in Level::ALL {
            assert_eq!(l.state().active_level(), Some(*l));
            if let Some(u) = l.up() {
                assert_eq!(u.down(), Some(*l));
            }
        }
    }
}
