//! Tests: a case's facts and status as the unit tests of the statements
//! and the outbox build them.

use doorbraak_core::{
    CaseFacts, CaseState, Effect, Level, PolicyDomain, Rule, RuleScope, Status, Timestamp, Urgency,
};

/// The facts of case ZDO-2026-0001, submitted at `at`, with `ministry`
/// as the rule's owner.
pub(crate) fn facts(at: Timestamp, ministry: Option<&str>) -> CaseFacts {
    CaseFacts {
        reference: "ZDO-2026-0001".into(),
        title: "Oppasrooster".into(),
        description: "Ouders mogen niet op elkaars peuters passen.".into(),
        focus_area: "ZDO".into(),
        domains: vec![PolicyDomain::Youth],
        rule: Rule {
            citation: "Wet kinderopvang art. 1.45".into(),
            bwb_id: None,
            scope: RuleScope::Municipal,
            owning_ministry: ministry.map(str::to_owned),
        },
        desired_action: "Toestaan.".into(),
        households_affected: Some(12),
        estimated_cost: None,
        urgency: Urgency::Normal,
        submitted_by: 1,
        created_at: at,
    }
}

/// A case waiting at the programme bureau since `at`, held by nobody.
pub(crate) fn waiting(at: Timestamp) -> Status {
    Status {
        state: CaseState::AtProgrammeBureau,
        level: Level::ProgrammeBureau,
        highest_level: Level::ProgrammeBureau,
        assignee: None,
        deadline: Some(at),
        paused_at: None,
        resolution: None,
        merged_into: None,
        barrier: None,
        version: 1,
        updated_at: at,
    }
}

/// What an event that leads to `after` records as its effect.
pub(crate) fn effect(after: &Status) -> Effect {
    Effect {
        level: after.level,
        assignee: after.assignee,
        deadline: after.deadline,
        paused_at: after.paused_at,
        resolution: after.resolution.clone(),
        merged_into: after.merged_into,
        barrier: after.barrier,
    }
}
