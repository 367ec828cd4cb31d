//! The database goes away and comes back: answers stay quick and honest,
//! and the service heals by itself. Each test runs its own PostgreSQL
//! cluster, because it stops and starts it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{PgCluster, TestApp};

async fn halt(c: &Arc<PgCluster>) {
    let c = c.clone();
    tokio::task::spawn_blocking(move || c.halt()).await.unwrap();
}

async fn resume(c: &Arc<PgCluster>) {
    let c = c.clone();
    tokio::task::spawn_blocking(move || c.resume())
        .await
        .unwrap();
}

async fn get(url: &str) -> (u16, Option<String>, String) {
    let r = reqwest::get(url).await.expect("request");
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status().as_u16(), retry, r.text().await.unwrap())
}

async fn post(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
    vars: Value,
) -> (u16, Option<String>, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": query, "variables": vars }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("request");
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status().as_u16(), retry, r.json().await.unwrap())
}

/// A cluster of the test's own, a server on it, a professional, a bureau
/// member and one submitted case.
async fn on_own_cluster(tag: &str) -> (Arc<PgCluster>, TestApp, String, String, Value) {
    let cluster = Arc::new(PgCluster::start(tag));
    let app = TestApp::spawn_at(cluster.database().await, None, TestApp::relaxed()).await;
    let prof = app
        .user("Petra Professional", "PROFESSIONAL", &["ZDO"], None)
        .await;
    let bureau = app
        .user("Bram Bureau", "PROGRAMME_BUREAU", &["ZDO"], None)
        .await;
    let case = app.submit(&prof, "Een zaak tijdens een storing").await;
    (cluster, app, prof, bureau, case)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_goes_down_and_comes_back() {
    let (cluster, app, prof, bureau, case) = on_own_cluster("outage").await;
    app.case(&bureau, &case["id"]).await;

    halt(&cluster).await;

    let started = Instant::now();
    let (status, retry, _) = get(&format!("{}/readyz", app.base)).await;
    assert_eq!(status, 503);
    assert!(retry.is_some());
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    eprintln!(
        "database down: /readyz answered 503 in {:?}",
        started.elapsed()
    );

    // Reads, writes and sign-ins that need the database fail fast, with
    // 503, Retry-After and UNAVAILABLE.
    let q = "query($id: ID) { case(id: $id) { id version } }";
    let pick = "mutation($id: ID!) { pickUpCase(id: $id, expectedVersion: 1) { version } }";
    for (token, query) in [
        (Some(prof.as_str()), q),
        (Some(bureau.as_str()), pick),
        (
            Some("dbk_a-token-nobody-has-seen-before-0000000000"),
            "{ me { id } }",
        ),
    ] {
        let started = Instant::now();
        let (status, retry, body) = post(&app, token, query, json!({ "id": case["id"] })).await;
        let took = started.elapsed();
        assert_eq!(status, 503, "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAVAILABLE",
            "{body}"
        );
        assert!(retry.is_some());
        assert!(took < Duration::from_secs(3), "{query}: {took:?}");
        eprintln!("database down: 503 UNAVAILABLE in {took:?} for {query:.40}");
        let text = body.to_string();
        assert!(
            !text.contains("sqlx") && !text.contains("127.0.0.1"),
            "{text}"
        );
    }
    let (status, _, _) = get(&format!("{}/healthz", app.base)).await;
    assert_eq!(status, 200, "the process itself is fine");

    resume(&cluster).await;

    // It heals by itself.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _, _) = get(&format!("{}/readyz", app.base)).await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "not ready again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let now = app.case(&bureau, &case["id"]).await;
    assert_eq!(now["version"], 1, "the refused pick-up changed nothing");
    let moved = app.act(&bureau, "pickUpCase", &now, "").await;
    assert_eq!(moved["version"], 2);
}

/// Reads a case until the database answers.
async fn version_when_back(app: &TestApp, token: &str, id: &Value) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, _, body) = post(
            app,
            Some(token),
            "query($id: ID) { case(id: $id) { version } }",
            json!({ "id": id }),
        )
        .await;
        if status == 200 && body.get("errors").is_none() {
            return body["data"]["case"]["version"].as_i64().unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "the database did not come back: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_mutations_are_answered_as_successes_through_restarts() {
    let (cluster, app, _, bureau, case) = on_own_cluster("restarts").await;
    let id = case["id"].clone();

    // Each outage lasts until a request has met it (and at least 2 s,
    // longer than a request waits for a connection, 1.5 s), so refusals
    // are exercised however slowly a loaded machine runs the loop; the
    // requests in flight when the server stops test the moment of commit.
    let refused = Arc::new(AtomicUsize::new(0));
    let restarts = {
        let (cluster, refused) = (cluster.clone(), refused.clone());
        tokio::spawn(async move {
            for round in 0..3 {
                tokio::time::sleep(Duration::from_millis(400)).await;
                let before = refused.load(Ordering::SeqCst);
                halt(&cluster).await;
                let down = Instant::now();
                while down.elapsed() < Duration::from_secs(2)
                    || refused.load(Ordering::SeqCst) == before
                {
                    assert!(
                        down.elapsed() < Duration::from_secs(60),
                        "no request met outage {round} in 60 s"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                resume(&cluster).await;
            }
        })
    };

    let fields = "version state assignee { name } events { sequence }";
    let (mut version, mut held) = (1i64, false);
    let (mut successes, mut failures) = (0, 0);
    while !restarts.is_finished() || successes < 5 {
        let name = if held { "releaseCase" } else { "pickUpCase" };
        let q = format!(
            "mutation($id: ID!, $v: Int!) {{ {name}(id: $id, expectedVersion: $v) {{ {fields} }} }}"
        );
        let (_, _, body) = post(&app, Some(&bureau), &q, json!({ "id": id, "v": version })).await;
        let answer = &body["data"][name];
        if answer.is_object() {
            // Committed: the answer is a success, whole, with the new state.
            assert!(
                body.get("errors").is_none(),
                "a committed {name} came with errors: {body}"
            );
            assert_eq!(answer["version"].as_i64(), Some(version + 1), "{body}");
            assert_eq!(
                answer["events"].as_array().unwrap().len() as i64,
                version + 1
            );
            version += 1;
            held = !held;
            successes += 1;
        } else {
            // Refused: then it did not commit either.
            let code = body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            assert!(
                matches!(code.as_str(), "UNAVAILABLE" | "INTERNAL"),
                "{body}"
            );
            failures += 1;
            refused.fetch_add(1, Ordering::SeqCst);
            let now = version_when_back(&app, &bureau, &id).await;
            assert_eq!(now, version, "a {name} answered {code} had committed");
        }
    }
    restarts.await.unwrap();
    assert!(failures >= 3, "each outage met a request: {failures}");
    assert_eq!(version_when_back(&app, &bureau, &id).await, version);
    eprintln!(
        "through 3 restarts: {successes} committed and answered, {failures} refused and not committed"
    );
}
