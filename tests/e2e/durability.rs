//! What is written stays written: restarts, and rebuilding state from the log.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

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

/// kill -9 in the middle of sixteen callers moving cases: after the
/// restart every move the server had answered is in the database, with
/// its event (on SQLite the writer thread commits moves in shared
/// batches, held open for moves on their way; nobody may hear back
/// before the COMMIT that holds their move).
async fn answered_moves_survive_kill_9(db: Db) {
    const CALLERS: usize = 16;
    let dir = tempfile::tempdir().unwrap();
    let url = match db {
        Db::Sqlite => "sqlite://doorbraak.db".to_owned(),
        Db::Postgres => crate::support::pg_database().await,
    };
    let env = [
        ("DOORBRAAK_RATE_LIMIT", "1000000000"),
        ("DOORBRAAK_RATE_BURST", "1000000000"),
        // Each COMMIT waits for the disk: the longer it takes, the
        // likelier a kill lands between an answer and a commit, if an
        // answer ever came first.
        ("DOORBRAAK_SQLITE_SYNCHRONOUS", "full"),
    ];
    let mut run = crate::cli::serve_env(dir.path(), &url, &env);
    let admin = crate::cli::first_token(&mut run);
    let http = reqwest::Client::new();
    let post = move |addr: String, token: String, query: String, vars: Value| {
        let http = http.clone();
        async move {
            let answer = http
                .post(format!("http://{addr}/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": query, "variables": vars }))
                .send()
                .await?;
            answer.json::<Value>().await
        }
    };
    let create = "mutation($i: CreateUserInput!) { createUser(input: $i) { token } }";
    let mut tokens = Vec::new();
    for (name, role) in [("Petra", "PROFESSIONAL"), ("Bram", "PROGRAMME_BUREAU")] {
        let i = json!({ "i": { "name": name, "role": role, "areas": ["ZDO"] } });
        let r = post(run.addr.clone(), admin.clone(), create.into(), i)
            .await
            .unwrap();
        tokens.push(
            r["data"]["createUser"]["token"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let (prof, bureau) = (tokens[0].clone(), tokens[1].clone());
    let submit = "mutation($i: SubmitCaseInput!) { submitCase(input: $i) { id version } }";
    let mut cases = Vec::new();
    for n in 0..CALLERS {
        let vars = crate::support::submit_vars(&format!("Zaak {n} onder belasting"));
        let r = post(run.addr.clone(), prof.clone(), submit.into(), vars)
            .await
            .unwrap();
        let case = &r["data"]["submitCase"];
        let id = case["id"].as_str().unwrap().to_owned();
        cases.push((id, case["version"].as_i64().unwrap()));
    }
    // Three times: each caller moves its own case (odd versions are
    // free, even ones picked up) until the server is killed, noting the
    // last version it was told of; after the restart each case holds at
    // least that, and every event up to what it holds.
    for _ in 0..3 {
        let answered = Arc::new(AtomicUsize::new(0));
        let addr = run.addr.clone();
        // The caller that hears the 300th answer kills the server at once:
        // if an answer could come before its COMMIT, that one's would
        // likely not have happened yet.
        let server = Arc::new(std::sync::Mutex::new(run));
        let mut callers = Vec::new();
        for (id, from) in cases {
            let (addr, token, answered) = (addr.clone(), bureau.clone(), answered.clone());
            let server = server.clone();
            let post = post.clone();
            callers.push(tokio::spawn(async move {
                let mut version = from;
                loop {
                    let name = match version % 2 {
                        1 => "pickUpCase",
                        _ => "releaseCase",
                    };
                    let q = format!(
                        "mutation($id: ID!, $v: Int!) {{ {name}(id: $id, expectedVersion: $v) {{ version }} }}"
                    );
                    let vars = json!({ "id": id, "v": version });
                    let Ok(r) = post(addr.clone(), token.clone(), q, vars).await else {
                        break; // the server is gone; this move was never answered
                    };
                    assert!(r["errors"].is_null(), "{r}");
                    version = r["data"][name]["version"].as_i64().unwrap();
                    if answered.fetch_add(1, Ordering::SeqCst) == 299 {
                        // SIGKILL, in the middle of the others' moves.
                        server.lock().unwrap().child.kill().unwrap();
                    }
                }
                (id, version)
            }));
        }
        let mut told = Vec::new();
        for c in callers {
            told.push(c.await.unwrap());
        }
        let mut killed = Arc::into_inner(server).unwrap().into_inner().unwrap();
        killed.child.wait().unwrap();
        run = crate::cli::serve_env(dir.path(), &url, &env);
        let read = "query($id: ID) { case(id: $id) { version events { sequence } } }";
        cases = Vec::new();
        for (id, version) in told {
            let vars = json!({ "id": id });
            let r = post(run.addr.clone(), bureau.clone(), read.into(), vars)
                .await
                .unwrap();
            let case = &r["data"]["case"];
            let stored = case["version"].as_i64().unwrap();
            assert!(
                stored >= version,
                "case {id}: answered {version}, stored {stored}"
            );
            let all: Vec<i64> = (1..=stored).collect();
            assert_eq!(crate::support::sequences(case), all, "case {id}");
            cases.push((id, stored));
        }
    }
    crate::cli::stop(run);
}

both!(
    a_restart_keeps_every_case_and_event,
    the_state_is_rebuilt_from_the_log,
    answered_moves_survive_kill_9
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
