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

/// The value of a field that parsed; a refusal joins the list.
fn keep<T>(problems: &mut Vec<Refusal>, r: Result<T, Refusal>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push(e);
            None
        }
    }
}

/// Largest number of households one case may claim.
const MAX_HOUSEHOLDS: i32 = 10_000_000;

impl NewCase {
    /// Checks a submission by `p`. Field names in refusals are the API's
    /// (`input.title`, `input.rule.bwbId`, …). The first problem found is
    /// the refusal; [`NewCase::problems`] lists them all.
    pub fn parse(
        p: &Principal,
        input: &SubmitInput,
        reference: &dyn ReferenceData,
    ) -> Result<NewCase, Refusal> {
        Self::parse_all(p, input, reference).map_err(|mut all| all.remove(0))
    }

    /// Every problem of a submission, in the order of the form's fields
    /// (empty when it would be accepted), so a form can show each error
    /// next to its field at once.
    pub fn problems(
        p: &Principal,
        input: &SubmitInput,
        reference: &dyn ReferenceData,
    ) -> Vec<Refusal> {
        Self::parse_all(p, input, reference)
            .err()
            .unwrap_or_default()
    }

    fn parse_all(
        p: &Principal,
        input: &SubmitInput,
        reference: &dyn ReferenceData,
    ) -> Result<NewCase, Vec<Refusal>> {
        if p.role != Role::Professional {
            return Err(vec![Refusal::Forbidden(
                "only professionals submit cases".to_owned(),
            )]);
        }
        let mut problems = Vec::new();
        let title = keep(
            &mut problems,
            Text::parse("input.title", &input.title, 5, 200),
        );
        let description = keep(
            &mut problems,
            Text::parse("input.description", &input.description, 20, 10_000),
        );
        let area = keep(
            &mut problems,
            AreaCode::parse("input.focusArea", &input.focus_area).and_then(|area| {
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
                Ok(area)
            }),
        );
        let domains = keep(
            &mut problems,
            if input.domains.is_empty() {
                Err(Refusal::validation(
                    "input.domains",
                    "must name at least one policy domain",
                ))
            } else {
                let mut d = input.domains.clone();
                d.sort();
                d.dedup();
                Ok(d)
            },
        );
        let citation = keep(
            &mut problems,
            Text::parse("input.rule.citation", &input.rule_citation, 3, 300),
        );
        let bwb_id = keep(
            &mut problems,
            match input.rule_bwb_id.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(raw) => BwbId::parse("input.rule.bwbId", raw).map(Some),
            },
        );
        let scope = keep(
            &mut problems,
            input
                .rule_scope
                .ok_or_else(|| Refusal::validation("input.rule.scope", "is required")),
        );
        let owning_ministry = keep(
            &mut problems,
            match input.rule_owning_ministry.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(raw) => {
                    MinistryCode::parse("input.rule.owningMinistry", raw).and_then(|code| {
                        if reference.has_ministry(code.as_str()) {
                            Ok(Some(code))
                        } else {
                            Err(Refusal::validation(
                                "input.rule.owningMinistry",
                                "is not a known ministry code",
                            ))
                        }
                    })
                }
            },
        );
        let desired_action = keep(
            &mut problems,
            Text::parse("input.desiredAction", &input.desired_action, 5, 5_000),
        );
        let households = keep(
            &mut problems,
            match input.households_affected {
                Some(h) if !(0..=MAX_HOUSEHOLDS).contains(&h) => Err(Refusal::validation(
                    "input.householdsAffected",
                    format!("must be between 0 and {MAX_HOUSEHOLDS}"),
                )),
                h => Ok(h),
            },
        );
        let estimated_cost = keep(
            &mut problems,
            input
                .estimated_cost
                .map(|d| Euros::from_decimal("input.estimatedCost", d))
                .transpose(),
        );
        match (
            title,
            description,
            area,
            domains,
            citation,
            bwb_id,
            scope,
            owning_ministry,
            desired_action,
            households,
            estimated_cost,
        ) {
            (
                Some(title),
                Some(description),
                Some(focus_area),
                Some(domains),
                Some(citation),
                Some(bwb_id),
                Some(scope),
                Some(owning_ministry),
                Some(desired_action),
                Some(households_affected),
                Some(estimated_cost),
            ) => Ok(NewCase {
                title: title.into_string(),
                description: description.into_string(),
                focus_area,
                domains,
                rule: Rule {
                    citation: citation.into_string(),
                    bwb_id: bwb_id.map(|b| b.as_str().to_owned()),
                    scope,
                    owning_ministry: owning_ministry.map(|m| m.as_str().to_owned()),
                },
                desired_action: desired_action.into_string(),
                households_affected,
                estimated_cost,
                urgency: input.urgency,
            }),
            _ => Err(problems),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Known;
    impl ReferenceData for Known {
        fn has_area(&self, code: &str) -> bool {
            code == "ZDO"
        }
        fn has_ministry(&self, code: &str) -> bool {
            code == "SZW"
        }
    }

    fn professional() -> Principal {
        Principal {
            id: 1,
            role: Role::Professional,
            areas: vec!["ZDO".into()],
            ministry: None,
        }
    }

    #[test]
    fn every_problem_is_listed_in_the_order_of_the_form() {
        let input = SubmitInput {
            title: "Kort".into(),
            rule_citation: "Participatiewet, artikel 31".into(),
            rule_owning_ministry: Some("XYZ".into()),
            focus_area: "ZDO".into(),
            households_affected: Some(-1),
            ..SubmitInput::default()
        };
        let fields: Vec<String> = NewCase::problems(&professional(), &input, &Known)
            .into_iter()
            .map(|r| match r {
                Refusal::Validation { field, .. } | Refusal::PersonalData { field } => field,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            fields,
            [
                "input.title",
                "input.description",
                "input.domains",
                "input.rule.scope",
                "input.rule.owningMinistry",
                "input.desiredAction",
                "input.householdsAffected"
            ]
        );
        // The first problem is the refusal `parse` gives.
        assert_eq!(
            NewCase::parse(&professional(), &input, &Known).err(),
            NewCase::problems(&professional(), &input, &Known)
                .into_iter()
                .next()
        );
    }
}
