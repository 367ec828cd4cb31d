//! Rows to core values and back.

use chrono::{DateTime, Utc};
use doorbraak_core::{
    Case, CaseFacts, CaseState, Effect, Euros, Event, EventAction, Level, Outcome, PolicyDomain,
    Resolution, Role, Rule, RuleScope, Status, Timestamp, Urgency,
};
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::entity::{case, case_event};

pub fn ms(t: Timestamp) -> i64 {
    t.timestamp_millis()
}

pub fn from_ms(v: i64) -> Result<Timestamp, StoreError> {
    DateTime::<Utc>::from_timestamp_millis(v)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {v} out of range")))
}

pub fn parse<T: std::str::FromStr>(what: &str, v: &str) -> Result<T, StoreError> {
    v.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what}: `{v}`")))
}

fn cents(v: Option<i64>) -> Result<Option<Euros>, StoreError> {
    v.map(|c| Euros::from_cents(c).ok_or_else(|| StoreError::Corrupt(format!("amount {c}"))))
        .transpose()
}

pub fn date_text(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub fn date_opt(v: &Option<String>) -> Result<Option<chrono::NaiveDate>, StoreError> {
    v.as_deref()
        .map(|s| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| StoreError::Corrupt(format!("date `{s}`")))
        })
        .transpose()
}

pub fn domains_to_text(d: &[PolicyDomain]) -> String {
    d.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(",")
}

/// The stored domains (comma-separated names) as the core's values.
pub fn domains_from_text(v: &str) -> Result<Vec<PolicyDomain>, StoreError> {
    v.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| parse::<PolicyDomain>("domain", s))
        .collect()
}

pub fn case_from_row(r: case::Model) -> Result<Case, StoreError> {
    let domains = domains_from_text(&r.domains)?;
    let resolution = match (
        &r.resolution_level,
        &r.resolution_explanation,
        r.resolution_decided_at,
    ) {
        (Some(level), Some(explanation), Some(at)) => Some(Resolution {
            outcome: r
                .resolution_outcome
                .as_deref()
                .map(|o| parse::<Outcome>("outcome", o))
                .transpose()?,
            explanation: explanation.clone(),
            funds_unlocked: cents(r.resolution_funds_cents)?,
            level: parse::<Level>("level", level)?,
            decided_at: from_ms(at)?,
            effective_from: date_opt(&r.resolution_effective_from)?,
            experiment_ends: date_opt(&r.resolution_experiment_ends)?,
            evaluation_date: date_opt(&r.resolution_evaluation_date)?,
        }),
        _ => None,
    };
    Ok(Case {
        id: r.id,
        facts: CaseFacts {
            reference: r.reference,
            title: r.title,
            description: r.description,
            focus_area: r.focus_area,
            domains,
            rule: Rule {
                citation: r.rule_citation,
                bwb_id: r.rule_bwb_id,
                scope: parse::<RuleScope>("rule scope", &r.rule_scope)?,
                owning_ministry: r.rule_ministry,
            },
            desired_action: r.desired_action,
            households_affected: r.households_affected,
            estimated_cost: cents(r.estimated_cost_cents)?,
            urgency: parse::<Urgency>("urgency", &r.urgency)?,
            submitted_by: r.submitted_by,
            created_at: from_ms(r.created_at)?,
        },
        status: Status {
            state: parse::<CaseState>("state", &r.state)?,
            level: parse::<Level>("level", &r.level)?,
            highest_level: parse::<Level>("level", &r.highest_level)?,
            assignee: r.assignee_id,
            deadline: r.deadline.map(from_ms).transpose()?,
            paused_at: r.paused_at.map(from_ms).transpose()?,
            resolution,
            merged_into: r.merged_into,
            barrier: r.barrier_id,
            version: r.version,
            updated_at: from_ms(r.updated_at)?,
        },
    })
}

/// The status columns of a case row, set from a status.
pub fn set_status(m: &mut case::ActiveModel, s: &Status) {
    use sea_orm::ActiveValue::Set;
    m.state = Set(s.state.as_str().to_owned());
    m.level = Set(s.level.as_str().to_owned());
    m.highest_level = Set(s.highest_level.as_str().to_owned());
    m.assignee_id = Set(s.assignee);
    m.deadline = Set(s.deadline.map(ms));
    m.paused_at = Set(s.paused_at.map(ms));
    let r = s.resolution.as_ref();
    m.resolution_outcome = Set(r.and_then(|r| r.outcome).map(|o| o.as_str().to_owned()));
    m.resolution_explanation = Set(r.map(|r| r.explanation.clone()));
    m.resolution_funds_cents = Set(r.and_then(|r| r.funds_unlocked).map(Euros::cents));
    m.resolution_level = Set(r.map(|r| r.level.as_str().to_owned()));
    m.resolution_decided_at = Set(r.map(|r| ms(r.decided_at)));
    m.merged_into = Set(s.merged_into);
    m.barrier_id = Set(s.barrier);
    m.resolution_effective_from = Set(r.and_then(|r| r.effective_from).map(date_text));
    m.resolution_experiment_ends = Set(r.and_then(|r| r.experiment_ends).map(date_text));
    m.resolution_evaluation_date = Set(r.and_then(|r| r.evaluation_date).map(date_text));
    m.version = Set(s.version);
    m.updated_at = Set(ms(s.updated_at));
}

/// The status columns of a case row whose value in `after` differs from
/// the one in `before`, compared before they are turned into column
/// values, so an unchanged column costs no allocation. The same columns
/// as [`set_status`], which the tests hold it to (the long way: both
/// statuses through [`set_status`], compared column by column).
pub fn set_status_changes(m: &mut case::ActiveModel, before: &Status, after: &Status) {
    let before = Some(before);
    use sea_orm::ActiveValue::Set;
    // `put!(column, s => what of status s, into the column's value)`.
    macro_rules! put {
        ($column:ident, $s:ident => $value:expr, $into:expr) => {{
            let now = {
                let $s = after;
                $value
            };
            if before.map(|$s| $value) != Some(now) {
                m.$column = Set(($into)(now));
            }
        }};
    }
    fn same<T>(x: T) -> T {
        x
    }
    put!(state, s => s.state.as_str(), str::to_owned);
    put!(level, s => s.level.as_str(), str::to_owned);
    put!(highest_level, s => s.highest_level.as_str(), str::to_owned);
    put!(assignee_id, s => s.assignee, same);
    put!(deadline, s => s.deadline, |d: Option<_>| d.map(ms));
    put!(paused_at, s => s.paused_at, |d: Option<_>| d.map(ms));
    put!(resolution_outcome, s => s.resolution.as_ref().and_then(|r| r.outcome),
        |o: Option<Outcome>| o.map(|o| o.as_str().to_owned()));
    put!(resolution_explanation, s => s.resolution.as_ref().map(|r| r.explanation.as_str()),
        |e: Option<&str>| e.map(str::to_owned));
    put!(resolution_funds_cents, s => s.resolution.as_ref().and_then(|r| r.funds_unlocked),
        |f: Option<Euros>| f.map(Euros::cents));
    put!(resolution_level, s => s.resolution.as_ref().map(|r| r.level.as_str()),
        |l: Option<&str>| l.map(str::to_owned));
    put!(resolution_decided_at, s => s.resolution.as_ref().map(|r| r.decided_at),
        |d: Option<_>| d.map(ms));
    put!(merged_into, s => s.merged_into, same);
    put!(barrier_id, s => s.barrier, same);
    put!(resolution_effective_from, s => s.resolution.as_ref().and_then(|r| r.effective_from),
        |d: Option<_>| d.map(date_text));
    put!(resolution_experiment_ends, s => s.resolution.as_ref().and_then(|r| r.experiment_ends),
        |d: Option<_>| d.map(date_text));
    put!(resolution_evaluation_date, s => s.resolution.as_ref().and_then(|r| r.evaluation_date),
        |d: Option<_>| d.map(date_text));
    put!(version, s => s.version, same);
    put!(updated_at, s => s.updated_at, ms);
}

#[derive(Serialize, Deserialize)]
struct ResolutionJson {
    outcome: Option<String>,
    explanation: String,
    funds_cents: Option<i64>,
    level: String,
    decided_at: i64,
    #[serde(default)]
    effective_from: Option<String>,
    #[serde(default)]
    experiment_ends: Option<String>,
    #[serde(default)]
    evaluation_date: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct EffectJson {
    level: String,
    assignee: Option<i64>,
    deadline: Option<i64>,
    paused_at: Option<i64>,
    resolution: Option<ResolutionJson>,
    merged_into: Option<i64>,
    #[serde(default)]
    barrier: Option<i64>,
}

pub fn effect_to_json(e: &Effect) -> String {
    let j = EffectJson {
        level: e.level.as_str().to_owned(),
        assignee: e.assignee,
        deadline: e.deadline.map(ms),
        paused_at: e.paused_at.map(ms),
        resolution: e.resolution.as_ref().map(|r| ResolutionJson {
            outcome: r.outcome.map(|o| o.as_str().to_owned()),
            explanation: r.explanation.clone(),
            funds_cents: r.funds_unlocked.map(Euros::cents),
            level: r.level.as_str().to_owned(),
            decided_at: ms(r.decided_at),
            effective_from: r.effective_from.map(date_text),
            experiment_ends: r.experiment_ends.map(date_text),
            evaluation_date: r.evaluation_date.map(date_text),
        }),
        merged_into: e.merged_into,
        barrier: e.barrier,
    };
    serde_json::to_string(&j).unwrap_or_default()
}

fn effect_from_json(s: &str) -> Result<Effect, StoreError> {
    let j: EffectJson =
        serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("event effect: {e}")))?;
    Ok(Effect {
        level: parse("level", &j.level)?,
        assignee: j.assignee,
        deadline: j.deadline.map(from_ms).transpose()?,
        paused_at: j.paused_at.map(from_ms).transpose()?,
        resolution: j
            .resolution
            .map(|r| -> Result<Resolution, StoreError> {
                Ok(Resolution {
                    outcome: r
                        .outcome
                        .as_deref()
                        .map(|o| parse("outcome", o))
                        .transpose()?,
                    explanation: r.explanation,
                    funds_unlocked: cents(r.funds_cents)?,
                    level: parse("level", &r.level)?,
                    decided_at: from_ms(r.decided_at)?,
                    effective_from: date_opt(&r.effective_from)?,
                    experiment_ends: date_opt(&r.experiment_ends)?,
                    evaluation_date: date_opt(&r.evaluation_date)?,
                })
            })
            .transpose()?,
        merged_into: j.merged_into,
        barrier: j.barrier,
    })
}

pub fn event_from_row(r: &case_event::Model) -> Result<Event, StoreError> {
    Ok(Event {
        action: EventAction::parse(&r.action)
            .ok_or_else(|| StoreError::Corrupt(format!("event action `{}`", r.action)))?,
        from_state: r
            .from_state
            .as_deref()
            .map(|s| parse::<CaseState>("state", s))
            .transpose()?,
        to_state: parse("state", &r.to_state)?,
        actor: r.actor_id,
        actor_role: parse::<Role>("role", &r.actor_role)?,
        note: r.note.clone(),
        at: from_ms(r.at)?,
        effect: effect_from_json(&r.effect)?,
        meeting: r.meeting_id,
    })
}
