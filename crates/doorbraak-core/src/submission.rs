//! Validation of a new case, field by field, before anything is stored.

use rust_decimal::Decimal;

use crate::machine::{Principal, Refusal, Rule};
use crate::model::{PolicyDomain, Role, RuleScope, Urgency};
use crate::values::{AreaCode, BwbId, Euros, MinistryCode, Text};

/// What a professional submits, as received.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubmitInput {
    pub title: String,
    pub description: String,
    pub focus_area: String,
    pub domains: Vec<PolicyDomain>,
    pub rule_citation: String,
    pub rule_bwb_id: Option<String>,
    pub rule_scope: Option<RuleScope>,
    pub rule_owning_ministry: Option<String>,
    pub desired_action: String,
    pub households_affected: Option<i32>,
    pub estimated_cost: Option<Decimal>,
    pub urgency: Urgency,
}

/// The reference data a submission is checked against.
pub trait ReferenceData {
    fn has_area(&self, code: &str) -> bool;
    fn has_ministry(&self, code: &str) -> bool;
}

/// A submission that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCase {
    pub title: String,
    pub description: String,
    pub focus_area: AreaCode,
    pub domains: Vec<PolicyDomain>,
    pub rule: Rule,
    pub desired_action: String,
    pub households_affected: Option<i32>,
    pub estimated_cost: Option<Euros>,
    pub urgency: Urgency,
}

/// Largest number of households one case may claim.
const MAX_HOUSEHOLDS: i32 = 10_000_000;

impl NewCase {
    /// Checks a submission by `p`. Field names in refusals are the API's
    /// (`input.title`, `input.rule.bwbId`, …).
    pub fn parse(
        p: &Principal,
        input: &SubmitInput,
        reference: &dyn ReferenceData,
    ) -> Result<NewCase, Refusal> {
        if p.role != Role::Professional {
            return Err(Refusal::Forbidden(
                "only professionals submit cases".to_owned(),
            ));
        }
        let title = Text::parse("input.title", &input.title, 5, 200)?;
        let description = Text::parse("input.description", &input.description, 20, 10_000)?;
        let area = AreaCode::parse("input.focusArea", &input.focus_area)?;
        if !reference.has_area(area.as_str()) {
            return Err(Refusal::validation(
                "input.focusArea",
                "is not a known focus area",
            ));
        }
        if !p.areas.is_empty() && !p.has_area(area.as_str()) {
            return Err(Refusal::Forbidden(format!(
                "you work in {}; submit the case in one of your own focus areas",
                p.areas.join(", ")
            )));
        }
        if input.domains.is_empty() {
            return Err(Refusal::validation(
                "input.domains",
                "must name at least one policy domain",
            ));
        }
        let mut domains = input.domains.clone();
        domains.sort();
        domains.dedup();
        let citation = Text::parse("input.rule.citation", &input.rule_citation, 3, 300)?;
        let bwb_id = match input.rule_bwb_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(BwbId::parse("input.rule.bwbId", raw)?),
        };
        let scope = input
            .rule_scope
            .ok_or_else(|| Refusal::validation("input.rule.scope", "is required"))?;
        let owning_ministry = match input.rule_owning_ministry.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => {
                let code = MinistryCode::parse("input.rule.owningMinistry", raw)?;
                if !reference.has_ministry(code.as_str()) {
                    return Err(Refusal::validation(
                        "input.rule.owningMinistry",
                        "is not a known ministry code",
                    ));
                }
                Some(code)
            }
        };
        let desired_action = Text::parse("input.desiredAction", &input.desired_action, 5, 5_000)?;
        if let Some(h) = input.households_affected
            && !(0..=MAX_HOUSEHOLDS).contains(&h)
        {
            return Err(Refusal::validation(
                "input.householdsAffected",
                format!("must be between 0 and {MAX_HOUSEHOLDS}"),
            ));
        }
        let estimated_cost = input
            .estimated_cost
            .map(|d| Euros::from_decimal("input.estimatedCost", d))
            .transpose()?;
        Ok(NewCase {
            title: title.into_string(),
            description: description.into_string(),
            focus_area: area,
            domains,
            rule: Rule {
                citation: citation.into_string(),
                bwb_id: bwb_id.map(|b| b.as_str().to_owned()),
                scope,
                owning_ministry: owning_ministry.map(|m| m.as_str().to_owned()),
            },
            desired_action: desired_action.into_string(),
            households_affected: input.households_affected,
            estimated_cost,
            urgency: input.urgency,
        })
    }
}
