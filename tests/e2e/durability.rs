//! What is written stays written: restarts, and rebuilding state from the log.

use serde_json::json;

use crate::both;
use crate::support::{Db, TestApp, cast};

const ALL: &str = "{ cases(first: 100) { edges { node { id reference title description state level highest: highestLevel version \
    deadline assignee { name } resolution { outcome explanation fundsUnlocked level decidedAt } mergedInto { id } \
    estimatedCost events { sequence action fromState toState actorRole note at actor { name } } } } } }";

async fn a_restart_keeps_every_case_and_event(db: Db) {
    let mut app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let a = app.submit(&c.prof, "Blijft bewaard").await;
    let a = app.act(&c.pb, "pickUpCase", &a, "").await;
    let a = app
        .act(
            &c.pb,
            "requestInformation",
            &a,
            r#"question: "Welke wijk?""#,
        )
        .await;
    let b = app.submit(&c.other_prof, "Ook bewaard").await;
    let b = app
        .act(&c.pb, "resolveCase", &b, r#"input: { outcome: FUNDING_UNLOCKED, explanation: "Geld vrijgemaakt.", fundsUnlocked: "99.99" }"#)
        .await;
    let before = app.ok(&app.admin, ALL, json!({})).await;
    let tokens_before = app.ok(&c.prof, "{ me { name } }", json!({})).await;
    app.restart().await;
    let after = app.ok(&app.admin, ALL, json!({})).await;
    assert_eq!(before, after);
    assert_eq!(
        app.ok(&c.prof, "{ me { name } }", json!({})).await,
        tokens_before,
        "tokens survive"
    );
    // And the cases keep moving after the restart.
    let a = app
        .act(
            &c.prof,
            "provideInformation",
            &a,
            r#"answer: "Zaandam Oost, Rosmolenbuurt.""#,
        )
        .await;
    assert_eq!(a["version"], 4);
    // A new case continues the area's sequence.
    let n = app.submit(&c.prof, "Na de herstart").await;
    assert_eq!(n["reference"], "ZDO-2026-0003");
    assert_eq!(b["resolution"]["fundsUnlocked"], "99.99");
}

async fn the_state_is_rebuilt_from_the_log(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let case = app.submit(&c.prof, &format!("Herbouw {i}")).await;
        let case = app.act(&c.pb, "pickUpCase", &case, "").await;
        let case = if i % 2 == 0 {
            app.act(&c.pb, "escalateCase", &case, r#"motivation: "Omhoog.""#)
                .await
        } else {
            case
        };
        let case = if i % 3 == 0 {
            app.act(
                &c.prof,
                "withdrawCase",
                &case,
                r#"reason: "Niet meer nodig.""#,
            )
            .await
        } else {
            case
        };
        app.advance_days(1);
        ids.push(case["id"].as_str().unwrap().parse::<i64>().unwrap());
    }
    // The test reads the log itself, around the engine.
    let store = doorbraak_store::Store::connect(&app.db_url).await.unwrap();
    let events = store
        .events_of(&doorbraak_core::ReadScope::All, &ids)
        .await
        .unwrap();
    for id in ids {
        let case = store.case_by_id(id).await.unwrap().unwrap();
        let log: Vec<_> = events
            .iter()
            .filter(|e| e.case_id == id)
            .map(|e| e.event.clone())
            .collect();
        assert_eq!(
            doorbraak_core::replay(&log).as_ref(),
            Some(&case.status),
            "case {id}"
        );
    }
}

both!(
    a_restart_keeps_every_case_and_event,
    the_state_is_rebuilt_from_the_log
);

/// SQLite's synchronous mode is explicit: NORMAL by default, FULL when
/// asked, as the database connection itself reports it; the binary refuses
/// a mode it does not know. (A power cut cannot be tested here; what FULL
/// costs per transition is measured by `scripts/bench.sh`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_synchronous_mode_is_what_was_asked() {
    use doorbraak_store::{PoolSizes, SqliteSync, Store};
    let dir = tempfile::tempdir().unwrap();
    for (asked, want) in [
        (None, SqliteSync::Normal),
        (Some(SqliteSync::Full), SqliteSync::Full),
    ] {
        let url = format!(
            "sqlite://{}",
            dir.path().join(format!("{want:?}.db")).display()
        );
        let sizes = PoolSizes {
            sqlite_sync: asked.unwrap_or_default(),
            ..PoolSizes::default()
        };
        let store = Store::connect_with(&url, &sizes).await.unwrap();
        assert_eq!(store.sqlite_sync().await.unwrap(), Some(want));
        store.close().await;
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doorbraak"))
        .args(["migrate"])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("x.db").display()),
        )
        .env("DOORBRAAK_SQLITE_SYNCHRONOUS", "sometimes")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown SQLite synchronous mode"), "{err}");
}
