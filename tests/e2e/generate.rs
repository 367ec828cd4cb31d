//! `doorbraak generate`: what it writes is what the engine would have
//! written. Every generated case's events replay to its stored state, the
//! closed meetings decided every item on them, and the engine goes on from
//! the generated data (new ids and references follow on, statistics read it).

use std::collections::{BTreeMap, BTreeSet};

use doorbraak_core::{CaseState, Level, ReadScope, replay};
use doorbraak_store::Store;
use serde_json::json;

use crate::both;
use crate::support::{Db, TestApp, cast};

async fn count(db_url: &str, sql: &'static str) -> i64 {
    if db_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(db_url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(db_url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

/// `count` for any query (the statistics tests').
pub(crate) async fn count_of(db_url: &str, sql: &'static str) -> i64 {
    count(db_url, sql).await
}

/// PostgreSQL keeps who holds what in `case_holders` beside the cases'
/// `assignee_id` (migration 10): the two agree row for row. Returns how
/// many cases are held (on SQLite, where the column is all there is,
/// counted on the cases).
pub(crate) async fn held_cases(db_url: &str) -> i64 {
    if db_url.starts_with("sqlite:") {
        return count(
            db_url,
            "SELECT COUNT(*) FROM cases WHERE assignee_id IS NOT NULL",
        )
        .await;
    }
    let apart = count(
        db_url,
        "SELECT COUNT(*) FROM cases c FULL JOIN case_holders h ON h.case_id = c.id \
         WHERE c.assignee_id IS DISTINCT FROM h.assignee_id",
    )
    .await;
    assert_eq!(apart, 0, "case_holders and cases.assignee_id disagree");
    count(db_url, "SELECT COUNT(*) FROM case_holders").await
}

/// Runs one statement on the test's database, behind the engine's back.
pub(crate) async fn execute(db_url: &str, sql: &'static str) {
    if db_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(db_url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(db_url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

async fn generated_cases_replay_to_their_state(db: Db) {
    let app = TestApp::spawn(db).await;
    let report = app.engine.generate(800, 7).await.unwrap();
    assert_eq!(report.cases, 800, "{report:?}");
    assert!(
        report.barriers > 20 && report.meetings > 100 && report.agenda_items > 300,
        "{report:?}"
    );
    assert!(report.events > 3 * report.cases, "{report:?}");

    let store = Store::connect(&app.db_url).await.unwrap();
    let ids: Vec<i64> = (1..=800).collect();
    let cases = store.cases_by_ids(&ids).await.unwrap();
    assert_eq!(cases.len(), 800);
    let mut logs: BTreeMap<i64, Vec<doorbraak_core::Event>> = BTreeMap::new();
    for e in store.events_of(&ReadScope::All, &ids).await.unwrap() {
        logs.entry(e.case_id).or_default().push(e.event);
    }
    let (mut states, mut levels, mut outcomes, mut years) = (
        BTreeSet::new(),
        BTreeSet::new(),
        BTreeSet::new(),
        BTreeSet::new(),
    );
    let mut references = BTreeSet::new();
    for c in &cases {
        let log = &logs[&c.id];
        assert_eq!(
            replay(log.iter()).as_ref(),
            Some(&c.status),
            "case {} does not replay",
            c.id
        );
        assert!(
            references.insert(c.facts.reference.clone()),
            "reference twice"
        );
        states.insert(c.status.state.as_str());
        levels.insert(c.status.highest_level);
        years.insert(chrono::Datelike::year(&c.facts.created_at));
        if let Some(o) = c.status.resolution.as_ref().and_then(|r| r.outcome) {
            outcomes.insert(o.as_str());
        }
    }
    // All levels, every outcome, open and closed cases, several years.
    assert_eq!(levels.len(), Level::ALL.len(), "{levels:?}");
    assert_eq!(outcomes.len(), 5, "{outcomes:?}");
    for s in [
        CaseState::Resolved,
        CaseState::ClosedNoBreakthrough,
        CaseState::Rejected,
    ] {
        assert!(states.contains(s.as_str()), "{states:?}");
    }
    assert!(cases.iter().any(|c| c.status.state.is_open()), "{states:?}");
    // Every resolved case, and only those, went into the precedent search.
    let resolved = cases
        .iter()
        .filter(|c| c.status.state == CaseState::Resolved)
        .count();
    assert_eq!(report.precedents, resolved, "{report:?}");
    assert!(years.len() >= 4, "{years:?}");

    // A closed meeting decided every item on it; an open one has no decisions yet.
    let undecided = count(
        &app.db_url,
        "SELECT COUNT(*) FROM agenda_items i JOIN meetings m ON m.id = i.meeting_id \
         WHERE m.status = 'CLOSED' AND i.decision IS NULL",
    )
    .await;
    assert_eq!(undecided, 0);
    let early = count(
        &app.db_url,
        "SELECT COUNT(*) FROM agenda_items i JOIN meetings m ON m.id = i.meeting_id \
         WHERE m.status = 'OPEN' AND i.decision IS NOT NULL",
    )
    .await;
    assert_eq!(early, 0);
    // Each case linked to a barrier cites its rule; no outbox rows: the past is not announced.
    assert_eq!(
        count(
            &app.db_url,
            "SELECT COUNT(*) FROM cases c JOIN barriers b ON b.id = c.barrier_id WHERE b.citation <> c.rule_citation",
        )
        .await,
        0
    );
    assert_eq!(count(&app.db_url, "SELECT COUNT(*) FROM outbox").await, 0);

    // The engine goes on: a new case gets the next id and a fresh reference,
    // and climbs; the statistics read the generated cases.
    let c = cast(&app).await;
    let case = app.submit(&c.prof, "Na het genereren").await;
    assert_eq!(case["id"], json!("801"));
    let reference = case["reference"].as_str().unwrap().to_owned();
    assert!(!references.contains(&reference), "{reference}");
    let held = held_cases(&app.db_url).await;
    assert!(held > 0, "some generated cases are held");
    let case = app.act(&c.pb, "pickUpCase", &case, "").await;
    assert_eq!(case["state"], json!("AT_PROGRAMME_BUREAU"));
    assert_eq!(held_cases(&app.db_url).await, held + 1);
    let ministry = cases
        .iter()
        .find_map(|c| c.facts.rule.owning_ministry.clone())
        .unwrap();
    let stats = app
        .ok(
            &app.admin,
            "query($m: String!) { ministryStatistics(ministry: $m) { casesTotal barriersReported } }",
            json!({ "m": ministry }),
        )
        .await;
    assert!(
        stats["ministryStatistics"]["casesTotal"].as_i64().unwrap() > 10,
        "{stats}"
    );
    assert!(
        stats["ministryStatistics"]["barriersReported"]
            .as_i64()
            .unwrap()
            > 0,
        "{stats}"
    );
}

/// The same seed at the same moment gives the same history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_cases() {
    let mut seen = Vec::new();
    for _ in 0..2 {
        let app = TestApp::spawn(Db::Sqlite).await;
        app.engine.generate(300, 11).await.unwrap();
        let store = Store::connect(&app.db_url).await.unwrap();
        let ids: Vec<i64> = (1..=300).collect();
        let cases: Vec<(String, String, i32)> = store
            .cases_by_ids(&ids)
            .await
            .unwrap()
            .into_iter()
            .map(|c| {
                (
                    c.facts.reference,
                    c.status.state.as_str().to_owned(),
                    c.status.version,
                )
            })
            .collect();
        seen.push(cases);
    }
    assert_eq!(seen[0].len(), 300);
    assert_eq!(seen[0], seen[1]);
}

both!(generated_cases_replay_to_their_state);
