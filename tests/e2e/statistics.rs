//! Ministry statistics from the kept sums equal the same statistics read
//! case by case, for every filter and period shape, whether the cases are
//! folded in, half folded in, or changed since they were.

use chrono::{DateTime, Utc};
use doorbraak_core::{PolicyDomain, Principal, Role};
use doorbraak_engine::{Engine, StatFilter};
use serde_json::json;

use crate::both;
use crate::support::{Db, TestApp, cast};

fn at(s: &str) -> Option<DateTime<Utc>> {
    Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
}

fn filters(areas: &[String]) -> Vec<StatFilter> {
    let period = |from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>| StatFilter {
        from,
        to,
        ..StatFilter::default()
    };
    let mut out = vec![
        StatFilter::default(),
        // A UTC year: one year's sum.
        period(at("2025-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z")),
        // An Amsterdam year: partial days at both ends.
        period(at("2024-12-31T23:00:00Z"), at("2025-12-31T23:00:00Z")),
        // Ragged ends, to the millisecond.
        period(
            at("2024-03-17T05:06:07.123Z"),
            at("2025-08-02T13:14:15.456Z"),
        ),
        period(at("2025-06-15T12:00:00Z"), None),
        period(None, at("2024-02-29T10:00:00Z")),
        // Within one day.
        period(at("2025-05-05T08:00:00Z"), at("2025-05-05T18:00:00Z")),
    ];
    for a in areas.iter().take(2) {
        out.push(StatFilter {
            area: Some(a.clone()),
            ..StatFilter::default()
        });
        out.push(StatFilter {
            area: Some(a.clone()),
            ..period(at("2024-12-31T23:00:00Z"), at("2025-12-31T23:00:00Z"))
        });
    }
    for d in [PolicyDomain::Housing, PolicyDomain::WorkIncome] {
        out.push(StatFilter {
            domain: Some(d),
            ..StatFilter::default()
        });
        out.push(StatFilter {
            domain: Some(d),
            ..period(at("2023-07-01T00:00:00Z"), at("2025-07-01T00:00:00Z"))
        });
    }
    out
}

async fn agree(
    e: &Engine,
    admin: &Principal,
    ministries: &[String],
    areas: &[String],
    stage: &str,
) {
    let mut compared = 0;
    for m in ministries {
        for f in filters(areas) {
            let sums = e.ministry_statistics(admin, m, &f).await.unwrap();
            let rows = e.ministry_statistics_by_rows(admin, m, &f).await.unwrap();
            assert_eq!(sums, rows, "{stage}: {m} {f:?}");
            compared += usize::from(sums.cases_total > 0);
        }
    }
    // The comparison is not of empty answers.
    assert!(compared >= ministries.len() * 5, "{stage}: {compared}");
}

async fn sums_equal_rows(db: Db) {
    let app = TestApp::spawn(db).await;
    let e = &app.engine;
    e.generate(1_200, 3).await.unwrap();
    let (admin, _) = e
        .create_user("Sam Statistiek", Role::Administrator, &[], None)
        .await
        .unwrap();
    let admin = admin.principal();
    let areas: Vec<String> = e.focus_areas().iter().map(|a| a.code.clone()).collect();
    let mut ministries: Vec<String> = e.ministries().iter().map(|m| m.code.clone()).collect();
    ministries.truncate(4);

    // Nothing folded in yet: every case is corrected for.
    agree(e, &admin, &ministries, &areas, "none folded").await;
    assert_eq!(e.fold_statistics(500).await.unwrap(), 500);
    agree(e, &admin, &ministries, &areas, "some folded").await;
    assert!(e.fold_all_statistics(300).await.unwrap() >= 700);
    assert_eq!(e.fold_statistics(500).await.unwrap(), 0, "all folded");
    agree(e, &admin, &ministries, &areas, "all folded").await;

    // Cases changed behind the sums' back, as transitions would: decisions
    // moved by weeks, barriers unlinked (the case moves to its own
    // citation's ministry, here another one), outcomes changed.
    let sql = [
        "UPDATE cases SET resolution_decided_at = resolution_decided_at + 3456789000, stat_dirty = 1 \
         WHERE id % 7 = 0 AND resolution_decided_at IS NOT NULL",
        "UPDATE cases SET barrier_id = NULL, rule_ministry = 'BZK', stat_dirty = 1 \
         WHERE id % 11 = 0 AND barrier_id IS NOT NULL",
        "UPDATE cases SET resolution_outcome = 'ALREADY_POSSIBLE', stat_dirty = 1 \
         WHERE id % 13 = 0 AND resolution_outcome IS NOT NULL",
    ];
    for s in sql {
        crate::generate::execute(&app.db_url, s).await;
    }
    agree(e, &admin, &ministries, &areas, "changed since folded").await;
    e.fold_all_statistics(250).await.unwrap();
    agree(e, &admin, &ministries, &areas, "changes folded").await;

    // A real climb through the API: every transition that changes the
    // state leaves the case to be folded again.
    let c = cast(&app).await;
    let case = app.submit(&c.prof, "Na het tellen").await;
    let case = app.act(&c.pb, "pickUpCase", &case, "").await;
    assert_eq!(case["state"], json!("AT_PROGRAMME_BUREAU"));
    e.fold_all_statistics(100).await.unwrap();
    let case = app
        .act(
            &c.pb,
            "resolveCase",
            &case,
            r#"input: { outcome: FUNDING_UNLOCKED, explanation: "Geld vrijgemaakt.", fundsUnlocked: "125.40" }"#,
        )
        .await;
    assert_eq!(case["state"], json!("RESOLVED"), "{case}");
    let dirty = crate::generate::count_of(
        &app.db_url,
        "SELECT COUNT(*) FROM cases WHERE stat_dirty = 1",
    )
    .await;
    assert_eq!(dirty, 1, "the resolution leaves its case to be folded");
    // The case is about a rule of SZW, in ZDO.
    let szw = vec!["SZW".to_owned()];
    let zdo = vec!["ZDO".to_owned()];
    agree(e, &admin, &szw, &zdo, "after a resolution").await;
    e.fold_all_statistics(100).await.unwrap();
    agree(e, &admin, &szw, &zdo, "resolution folded").await;
}

both!(sums_equal_rows);
