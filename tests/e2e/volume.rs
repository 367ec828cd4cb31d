//! Ten thousand cases across all twenty areas: the register, statistics and
//! search return the numbers that an independent tally of the seeding says.

use std::collections::{BTreeSet, HashMap};

use chrono::TimeDelta;
use doorbraak_core::{PolicyDomain, Principal, RuleScope, SubmitInput, Urgency};
use doorbraak_engine::{BarrierChoice, CommandInput};
use rust_decimal::Decimal;
use serde_json::json;

use crate::both;
use crate::support::{Db, TestApp, t0};

const AREAS: [&str; 20] = [
    "ANW", "AZO", "ARO", "BRN", "DLW", "DHZ", "DDW", "EWZ", "GRN", "HLN", "LWO", "LLO", "NCA",
    "RSR", "RTZ", "SNO", "TNW", "UOV", "VWW", "ZDO",
];
const MINISTRIES: [&str; 5] = ["SZW", "OCW", "BZK", "VWS", "JENV"];
const CASES: usize = 10_000;
const BARRIERS: usize = 10;

/// The barrier number in a citation "Regeling nummer {b} art. {b+1}".
fn barrier_of(citation: &str) -> usize {
    citation.split(' ').nth(2).unwrap().parse().unwrap()
}

fn areas_of(cases: &[(usize, &str)]) -> usize {
    cases.iter().map(|(_, a)| *a).collect::<BTreeSet<_>>().len()
}

fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn ten_thousand_cases(db: Db) {
    let app = TestApp::spawn(db).await;
    let e = &app.engine;
    let areas: Vec<String> = AREAS.iter().map(|a| a.to_string()).collect();
    let (prof, _) = e
        .create_user(
            "Veel Professional",
            doorbraak_core::Role::Professional,
            &[],
            None,
        )
        .await
        .unwrap();
    let (pb, _) = e
        .create_user(
            "Heel Bureau",
            doorbraak_core::Role::ProgrammeBureau,
            &areas,
            None,
        )
        .await
        .unwrap();
    let analyst = app
        .user("Sara SZW", "MINISTRY_ANALYST", &[], Some("SZW"))
        .await;
    let prof: Principal = prof.principal();
    let pb: Principal = pb.principal();

    // Tallies kept by the test itself while seeding.
    let mut barrier_ids: Vec<i64> = Vec::new();
    let mut cases_of: HashMap<usize, Vec<(usize, &str)>> = HashMap::new();
    let mut funds: HashMap<&str, i64> = HashMap::new();
    let mut resolved_days: HashMap<&str, Vec<f64>> = HashMap::new();
    let mut second_day: HashMap<&str, usize> = HashMap::new();
    let mut zdo: HashMap<&str, usize> = HashMap::new();
    let mut work_income: HashMap<&str, usize> = HashMap::new();
    let mut references: HashMap<usize, String> = HashMap::new();

    for i in 0..CASES {
        if i == CASES / 2 {
            app.clock.advance(TimeDelta::days(1));
        }
        let b = i % BARRIERS;
        let area = AREAS[i % AREAS.len()];
        let ministry = MINISTRIES[b % MINISTRIES.len()];
        let input = SubmitInput {
            title: format!("Zaak {i} over regel {b}"),
            description: format!(
                "Beschrijving {i} van de situatie, niet doorzoekbaar: geheimwoord{i}."
            ),
            focus_area: area.to_owned(),
            domains: vec![if i % 2 == 0 {
                PolicyDomain::WorkIncome
            } else {
                PolicyDomain::Housing
            }],
            rule_citation: format!("Regeling nummer {b} art. {}", b + 1),
            rule_bwb_id: None,
            rule_scope: Some(RuleScope::National),
            rule_owning_ministry: Some(ministry.to_owned()),
            desired_action: "Afwijken van de regel voor deze huishoudens.".to_owned(),
            households_affected: Some(1),
            estimated_cost: Some(Decimal::new((i as i64 * 37) % 100_000 + 1, 2)),
            urgency: Urgency::Normal,
        };
        let case = e.submit(&prof, &input).await.unwrap();
        references.insert(i, case.facts.reference.clone());
        let choice = match barrier_ids.get(b) {
            Some(id) => BarrierChoice::Existing(*id),
            None => BarrierChoice::New {
                citation: format!("Regeling nummer {b} art. {}", b + 1),
                bwb_id: None,
                scope: RuleScope::National,
                owning_ministry: ministry.to_owned(),
            },
        };
        let case = e
            .link_barrier(&pb, case.id, 1, choice, false)
            .await
            .unwrap()
            .0;
        if barrier_ids.len() == b {
            barrier_ids.push(case.status.barrier.unwrap());
        }
        cases_of.entry(b).or_default().push((i, area));
        if i >= CASES / 2 {
            *second_day.entry(ministry).or_default() += 1;
        }
        if i % 2 == 0 {
            *work_income.entry(ministry).or_default() += 1;
        }
        if area == "ZDO" {
            *zdo.entry(ministry).or_default() += 1;
        }
    }
    // Resolve every seventh case, a day later for each thousand.
    app.clock.advance(TimeDelta::days(1));
    for i in (0..CASES).step_by(7) {
        if i % 1_000 < 7 {
            app.clock.advance(TimeDelta::days(1));
        }
        let b = i % BARRIERS;
        let ministry = MINISTRIES[b % MINISTRIES.len()];
        let cents = (i as i64 * 13) % 99_999 + 1;
        let case = e
            .case_by_reference(&pb, &references[&i])
            .await
            .unwrap()
            .unwrap();
        let cmd = CommandInput::Resolve {
            outcome: doorbraak_core::Outcome::FundingUnlocked,
            explanation: format!("Budget ontschot voor thema{b}, kenmerk{i}."),
            funds_unlocked: Some(Decimal::new(cents, 2)),
            dates: Default::default(),
        };
        let done = e.act(&pb, case.id, case.status.version, cmd).await.unwrap();
        *funds.entry(ministry).or_default() += cents;
        let days = (done.status.updated_at - case.facts.created_at).num_milliseconds() as f64
            / 86_400_000.0;
        resolved_days.entry(ministry).or_default().push(days);
    }

    // The statistics of one ministry, against the tallies.
    let q = "query($m: String!, $from: DateTime, $to: DateTime, $a: String) { ministryStatistics(ministry: $m, from: $from, to: $to, focusArea: $a) { \
        barriersReported barriersDecided casesTotal areasAffected fundsUnlocked outcomes { outcome count } \
        levelDurations { level cases medianDays p90Days } barriers { cases areas barrier { citation } } } }";
    for (n, ministry) in MINISTRIES.iter().enumerate() {
        let s = app.ok(&app.admin, q, json!({ "m": ministry })).await["ministryStatistics"].clone();
        let mine: Vec<usize> = (0..BARRIERS)
            .filter(|b| b % MINISTRIES.len() == n)
            .collect();
        let total: usize = mine.iter().map(|b| cases_of[b].len()).sum();
        assert_eq!(s["casesTotal"], total, "{ministry}");
        assert_eq!(s["barriersReported"], mine.len());
        assert_eq!(s["barriersDecided"], 0);
        let areas: BTreeSet<&str> = mine
            .iter()
            .flat_map(|b| cases_of[b].iter().map(|(_, a)| *a))
            .collect();
        assert_eq!(s["areasAffected"], areas.len());
        let expected = Decimal::new(funds[ministry], 2);
        assert_eq!(
            s["fundsUnlocked"],
            expected.to_string(),
            "euros summed exactly for {ministry}"
        );
        let resolved = resolved_days[ministry].len();
        assert_eq!(
            s["outcomes"],
            json!([{ "outcome": "FUNDING_UNLOCKED", "count": resolved }])
        );
        let mut days = resolved_days[ministry].clone();
        days.sort_by(f64::total_cmp);
        let pb_level = &s["levelDurations"][0];
        assert_eq!(pb_level["level"], "PROGRAMME_BUREAU");
        assert_eq!(pb_level["cases"], resolved);
        let round = |v: f64| (v * 10.0).round() / 10.0;
        assert_eq!(
            pb_level["medianDays"].as_f64().unwrap(),
            round(nearest_rank(&days, 50.0))
        );
        assert_eq!(
            pb_level["p90Days"].as_f64().unwrap(),
            round(nearest_rank(&days, 90.0))
        );
        for row in s["barriers"].as_array().unwrap() {
            let b = barrier_of(row["barrier"]["citation"].as_str().unwrap());
            assert_eq!(row["cases"], cases_of[&b].len());
            assert_eq!(row["areas"], areas_of(&cases_of[&b]));
        }
        // A period: only the second day's submissions.
        let day2 = app
            .ok(&app.admin, q, json!({ "m": ministry, "from": (t0() + TimeDelta::days(1)).to_rfc3339(), "to": (t0() + TimeDelta::days(2)).to_rfc3339() }))
            .await;
        assert_eq!(
            day2["ministryStatistics"]["casesTotal"],
            second_day[ministry]
        );
        let dq = "query($m: String!, $d: PolicyDomain) { ministryStatistics(ministry: $m, domain: $d) { casesTotal } }";
        let by_domain = app
            .ok(&app.admin, dq, json!({ "m": ministry, "d": "WORK_INCOME" }))
            .await;
        assert_eq!(
            by_domain["ministryStatistics"]["casesTotal"],
            work_income.get(ministry).copied().unwrap_or(0)
        );
        let in_zdo = app
            .ok(&app.admin, q, json!({ "m": ministry, "a": "ZDO" }))
            .await;
        let in_zdo_expected = zdo.get(ministry).copied().unwrap_or(0);
        assert_eq!(in_zdo["ministryStatistics"]["casesTotal"], in_zdo_expected);
        assert_eq!(
            in_zdo["ministryStatistics"]["areasAffected"],
            usize::from(in_zdo_expected > 0)
        );
    }

    // The register as the SZW analyst sees it.
    let reg = app.ok(&analyst, "{ barriers(first: 100) { edges { node { citation owningMinistry { code } cases { reference } areas { code } } } } }", json!({})).await;
    let edges = reg["barriers"]["edges"].as_array().unwrap();
    let szw: Vec<usize> = (0..BARRIERS)
        .filter(|b| b % MINISTRIES.len() == 0)
        .collect();
    assert_eq!(edges.len(), szw.len());
    for edge in edges {
        let b = barrier_of(edge["node"]["citation"].as_str().unwrap());
        assert!(szw.contains(&b));
        assert_eq!(edge["node"]["owningMinistry"]["code"], "SZW");
        assert_eq!(
            edge["node"]["cases"].as_array().unwrap().len(),
            cases_of[&b].len()
        );
        assert_eq!(
            edge["node"]["areas"].as_array().unwrap().len(),
            areas_of(&cases_of[&b])
        );
    }
    let (code, _) = app.err(Some(&analyst), q, json!({ "m": "OCW" })).await;
    assert_eq!(code, "FORBIDDEN");

    // Search: one case by its own word, a theme across areas, never descriptions.
    let search = "query($q: String!, $n: Int) { precedents(query: $q, first: $n) { caseReference citation } }";
    // (9996 is resolved and no other case number starts with it: SQLite
    // matches words by prefix, so "kenmerk77" would also find kenmerk770.)
    let one = app
        .ok(&analyst, search, json!({ "q": "kenmerk9996", "n": 10 }))
        .await;
    assert_eq!(
        one["precedents"],
        json!([{ "caseReference": references[&9996], "citation": "Regeling nummer 6 art. 7" }])
    );
    let theme = app
        .ok(&analyst, search, json!({ "q": "thema3", "n": 50 }))
        .await;
    let hits = theme["precedents"].as_array().unwrap();
    let expected_theme = (0..CASES)
        .step_by(7)
        .filter(|i| i % BARRIERS == 3)
        .count()
        .min(50);
    assert_eq!(hits.len(), expected_theme);
    assert!(
        hits.iter()
            .all(|h| h["citation"] == "Regeling nummer 3 art. 4")
    );
    let secret = app
        .ok(&analyst, search, json!({ "q": "geheimwoord14", "n": 10 }))
        .await;
    assert_eq!(secret["precedents"], json!([]));
}

both!(ten_thousand_cases);
