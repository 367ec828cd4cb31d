//! Nothing a client sends takes the service down: the exact requests that
//! once crashed it or burned a core, the limits that now stop them, the
//! HTTP surface, and the operator's view (GraphiQL offline, introspection,
//! metrics).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::both;
use crate::support::{Db, TestApp, submit_vars};
use doorbraak_core::Role;
use doorbraak_server::{AppOptions, Limits, RateLimit};

const SUBMIT: &str = "mutation($i: SubmitCaseInput!) { submitCase(input: $i) { id version } }";

/// A request with full control over method, content type and body.
async fn raw(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    content_type: Option<&str>,
    accept: Option<&str>,
    token: Option<&str>,
    body: Vec<u8>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let client = reqwest::Client::new();
    let mut req = client
        .request(method, format!("{}{path}", app.base))
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.expect("body"))
}

/// A plain GET, with no token.
async fn get(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    raw(app, reqwest::Method::GET, path, None, None, None, vec![]).await
}

fn code(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    v["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_owned()
}

/// A user made through the engine, so that setting up spends nothing of
/// the rate limit.
async fn user(app: &TestApp, role: Role, areas: &[&str]) -> String {
    let areas: Vec<String> = areas.iter().map(|a| (*a).to_owned()).collect();
    let ministry =
        matches!(role, Role::NationalRepresentative | Role::MinistryAnalyst).then_some("SZW");
    app.engine
        .create_user("Iemand Anders", role, &areas, ministry)
        .await
        .expect("user")
        .1
}

async fn alive(app: &TestApp) {
    let (s, _, b) = get(app, "/healthz").await;
    assert_eq!((s, b.as_str()), (200, "ok"));
    let d = app.ok(&app.admin, "{ me { role } }", json!({})).await;
    assert_eq!(d["me"]["role"], "ADMINISTRATOR");
}

async fn deep_nesting_cannot_crash_the_server(db: Db) {
    let app = TestApp::spawn(db).await;
    let n = 2_000;
    let documents = [
        format!("{{ __typename(x: {}1{}) }}", "[".repeat(n), "]".repeat(n)),
        format!("{{ __typename(x: {}1{}) }}", "{a:".repeat(n), "}".repeat(n)),
        format!(
            "{{ __typename @skip(if: {}true{}) }}",
            "[".repeat(n),
            "]".repeat(n)
        ),
        format!(
            "query($v: Int = {}1{}) {{ __typename }}",
            "[".repeat(n),
            "]".repeat(n)
        ),
        format!("{}__typename{}", "{ a ".repeat(n), " }".repeat(n)),
    ];
    for q in &documents {
        let (status, body) = app.post(None, q, json!({})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "TOO_COMPLEX",
            "{body}"
        );
        alive(&app).await;
    }
    // Deep values in the variables: nested past the limit, and so deep the
    // JSON reader refuses them without recursing.
    let mut v = json!(1);
    for _ in 0..100 {
        v = json!({ "a": v });
    }
    let (_, body) = app
        .post(None, "query($v: String) { __typename }", json!({ "v": v }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "TOO_COMPLEX",
        "{body}"
    );
    let deep_json = format!(
        "{{\"query\":\"{{ __typename }}\",\"variables\":{{\"v\":{}1{}}}}}",
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let (status, _, body) = raw(
        &app,
        reqwest::Method::POST,
        "/graphql",
        Some("application/json"),
        None,
        None,
        deep_json.into_bytes(),
    )
    .await;
    assert_eq!(
        (status, code(&body).as_str()),
        (400, "BAD_REQUEST"),
        "{body}"
    );
    alive(&app).await;
    // Found by the fuzzing test: a variable of an unknown type with a
    // default value made the validator panic.
    let (code, e) = app
        .err(None, "query($v: [Inttt] = [1]) { __typename }", json!({}))
        .await;
    assert_eq!(code, "VALIDATION", "{e}");
    alive(&app).await;
}

/// Twenty-five (or thirty-one) fragments, each spreading the previous one
/// twice: a kilobyte that expands to billions of fields.
fn fragment_bomb(levels: usize) -> String {
    let mut q = format!("query {{ ...F{levels} }}\nfragment F0 on Query {{ __typename }}\n");
    for i in 1..=levels {
        q.push_str(&format!(
            "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
            i - 1,
            i - 1
        ));
    }
    q
}

async fn fragment_bombs_are_refused_at_once(db: Db) {
    let app = TestApp::spawn(db).await;
    for levels in [25, 31] {
        let q = fragment_bomb(levels);
        assert!(q.len() < 1_500);
        let started = Instant::now();
        let (code, e) = app.err(None, &q, json!({})).await;
        // Refused by measuring, not by running out of time: well within the
        // request timeout, where running it would take minutes.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        eprintln!("F{levels}: refused in {:?}", started.elapsed());
        assert_eq!(code, "TOO_COMPLEX", "{e}");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("expands to more than"),
            "{e}"
        );
    }
    // Three at once, as in the report, leave the server answering.
    let bomb = fragment_bomb(31);
    let (a, b, c) = tokio::join!(
        app.err(None, &bomb, json!({})),
        app.err(None, &bomb, json!({})),
        app.err(None, &bomb, json!({}))
    );
    for (code, _) in [a, b, c] {
        assert_eq!(code, "TOO_COMPLEX");
    }
    alive(&app).await;
}

async fn aliases_and_root_fields_are_limited(db: Db) {
    let app = TestApp::spawn(db).await;
    let prof = user(&app, Role::Professional, &["ZDO"]).await;
    let bureau = user(&app, Role::ProgrammeBureau, &["ZDO"]).await;
    let case = app.ok(&prof, SUBMIT, submit_vars("Aliassen")).await["submitCase"].clone();
    // The report's request: a thousand aliased mutations in one request.
    let many: String = (0..1_000)
        .map(|i| {
            format!(
                "m{i}: pickUpCase(id: {}, expectedVersion: 1) {{ version }} ",
                case["id"].as_str().unwrap()
            )
        })
        .collect();
    let (code, e) = app
        .err(Some(&bureau), &format!("mutation {{ {many} }}"), json!({}))
        .await;
    assert_eq!(code, "TOO_COMPLEX", "{e}");
    let now = app.case(&prof, &case["id"]).await;
    assert_eq!(now["version"], 1, "not one of them ran");

    let aliases: String = (0..31).map(|i| format!("a{i}: __typename ")).collect();
    let (code, e) = app.err(None, &format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(code, "TOO_COMPLEX", "{e}");
    let (code, e) = app
        .err(
            Some(&prof),
            &format!("{{ {} }}", "me { id } ".repeat(21)),
            json!({}),
        )
        .await;
    assert_eq!(code, "TOO_COMPLEX", "{e}");
    let twenty = app
        .ok(
            &prof,
            &format!("{{ {} }}", "me { id } ".repeat(20)),
            json!({}),
        )
        .await;
    assert!(twenty["me"]["id"].is_string());
    // Depth: twelve levels of data are fine, thirteen are not.
    let nest = |n: usize| {
        format!(
            "{{ cases {{ edges {{ node {{ {}id{} }} }} }} }}",
            "mergedInto { ".repeat(n),
            " }".repeat(n)
        )
    };
    let (code, e) = app.err(Some(&app.admin), &nest(9), json!({})).await;
    assert_eq!(code, "TOO_COMPLEX", "13 levels: {e}");
    let ok = app.ok(&app.admin, &nest(8), json!({})).await;
    assert!(ok["cases"]["edges"].is_array());
    // A barrier's cases are an unpaged list: nested under a page of cases
    // they count twenty times, so this is refused before it runs; alone
    // (or under a small page) they are not.
    let fan_out = |n: usize| {
        format!(
            "{{ cases(first: {n}) {{ edges {{ node {{ barrier {{ cases {{ id reference state level outcome }} }} }} }} }} }}"
        )
    };
    let (code, e) = app.err(Some(&app.admin), &fan_out(100), json!({})).await;
    assert_eq!(code, "TOO_COMPLEX", "{e}");
    app.ok(&app.admin, &fan_out(10), json!({})).await;
}

async fn the_rate_limit_counts_operations(db: Db) {
    let app = TestApp::spawn_with(
        db,
        AppOptions {
            rate_limit: RateLimit {
                per_second: 0.01,
                burst: 10.0,
            },
            ..AppOptions::default()
        },
    )
    .await;
    let bureau = user(&app, Role::ProgrammeBureau, &["ZDO"]).await;
    let conflicts = |n: usize| {
        let fields: String = (0..n)
            .map(|i| format!("m{i}: pickUpCase(id: 1, expectedVersion: 99) {{ version }} "))
            .collect();
        format!("mutation {{ {fields} }}")
    };
    // Twelve operations in one request are more than the burst of ten.
    let (status, body) = app.post(Some(&bureau), &conflicts(12), json!({})).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert!(body.get("data").is_none(), "{body}");
    // Four and four and a query: nine of the ten tokens.
    for q in [conflicts(4), conflicts(4), "{ me { id } }".to_owned()] {
        let (status, body) = app.post(Some(&bureau), &q, json!({})).await;
        assert_eq!(status, 200, "{body}");
    }
    // One token is left: a mutation of two operations is refused, with
    // Retry-After, and the query of one still passes.
    let (status, headers, body) = raw(
        &app,
        reqwest::Method::POST,
        "/graphql",
        Some("application/json"),
        None,
        Some(&bureau),
        serde_json::to_vec(&json!({ "query": conflicts(2) })).unwrap(),
    )
    .await;
    assert_eq!(
        (status, code(&body).as_str()),
        (429, "RATE_LIMITED"),
        "{body}"
    );
    assert!(headers.get("retry-after").is_some());
    let (status, _) = app.post(Some(&bureau), "{ me { id } }", json!({})).await;
    assert_eq!(status, 200);
    let (status, _) = app.post(Some(&bureau), "{ me { id } }", json!({})).await;
    assert_eq!(status, 429, "the bucket is empty now");
    // Another caller has a bucket of their own.
    let other = user(&app, Role::ProgrammeBureau, &["ZDO"]).await;
    let (status, _) = app.post(Some(&other), &conflicts(4), json!({})).await;
    assert_eq!(status, 200);
}

async fn a_bsn_in_any_form_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let prof = user(&app, Role::Professional, &["ZDO"]).await;
    for (what, bsn) in [
        ("no-break space", "123\u{00A0}456\u{00A0}782"),
        ("thin space", "123\u{2009}456\u{2009}782"),
        ("narrow no-break space", "123\u{202F}456\u{202F}782"),
        (
            "fullwidth digits",
            "\u{FF11}\u{FF12}\u{FF13}\u{FF14}\u{FF15}\u{FF16}\u{FF17}\u{FF18}\u{FF12}",
        ),
        (
            "zero-width characters",
            "1234\u{200B}5\u{200C}6\u{200D}7\u{2060}8\u{FEFF}2",
        ),
    ] {
        let mut vars = submit_vars("Een zaak met een verstopt nummer");
        vars["i"]["description"] = json!(format!(
            "De moeder met BSN {bsn} mag niet worden geholpen door de regels."
        ));
        let (code, e) = app.err(Some(&prof), SUBMIT, vars).await;
        assert_eq!(code, "PERSONAL_DATA_DETECTED", "{what}: {e}");
        assert_eq!(e["extensions"]["field"], "input.description", "{what}");
    }
    assert_eq!(
        crate::errors::count_cases(&app).await,
        0,
        "nothing was stored"
    );
}

async fn only_json_posts_execute(db: Db) {
    let app = TestApp::spawn(db).await;
    let prof = user(&app, Role::Professional, &["ZDO"]).await;
    let json_body = serde_json::to_vec(
        &json!({ "query": SUBMIT, "variables": submit_vars("Via een formulier") }),
    )
    .unwrap();
    let form = format!("query={}", "mutation%20%7B%20__typename%20%7D");
    for (ct, body) in [
        (Some("text/plain"), json_body.clone()),
        (Some("text/plain;charset=UTF-8"), json_body.clone()),
        (
            Some("application/x-www-form-urlencoded"),
            form.clone().into_bytes(),
        ),
        (Some("multipart/form-data; boundary=x"), json_body.clone()),
        (Some("application/json; charset=latin1"), json_body.clone()),
        (Some("application/graphql"), SUBMIT.as_bytes().to_vec()),
        (None, json_body.clone()),
    ] {
        let (status, _, text) = raw(
            &app,
            reqwest::Method::POST,
            "/graphql",
            ct,
            None,
            Some(&prof),
            body,
        )
        .await;
        assert_eq!(
            (status, code(&text).as_str()),
            (415, "BAD_REQUEST"),
            "{ct:?}: {text}"
        );
    }
    assert_eq!(
        crate::errors::count_cases(&app).await,
        0,
        "none of them ran"
    );
    for m in [
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
    ] {
        let (status, headers, text) = raw(
            &app,
            m.clone(),
            "/graphql",
            Some("application/json"),
            None,
            Some(&prof),
            json_body.clone(),
        )
        .await;
        assert_eq!(
            (status, code(&text).as_str()),
            (405, "BAD_REQUEST"),
            "{m}: {text}"
        );
        assert_eq!(headers["allow"], "GET, POST");
    }
    // GET runs queries, never mutations.
    let (status, _, text) = raw(
        &app,
        reqwest::Method::GET,
        "/graphql?query=%7B%20me%20%7B%20role%20%7D%20%7D",
        None,
        Some("application/json"),
        Some(&prof),
        vec![],
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("PROFESSIONAL"), "{text}");
    let (status, _, text) = raw(
        &app,
        reqwest::Method::GET,
        "/graphql?query=mutation%20%7B%20__typename%20%7D",
        None,
        Some("application/json"),
        Some(&prof),
        vec![],
    )
    .await;
    assert_eq!(
        (status, code(&text).as_str()),
        (405, "BAD_REQUEST"),
        "{text}"
    );
    // Bodies that are not a GraphQL request.
    for body in [
        &b"{not json"[..],
        b"[]",
        b"{\"query\": 1}",
        b"{\"query\": \"{ me { id } }\", \"variables\": \"x\"}",
        b"",
    ] {
        let (status, _, text) = raw(
            &app,
            reqwest::Method::POST,
            "/graphql",
            Some("application/json"),
            None,
            Some(&prof),
            body.to_vec(),
        )
        .await;
        assert_eq!(
            (status, code(&text).as_str()),
            (400, "BAD_REQUEST"),
            "{text}"
        );
    }
    // Request errors carry no `data`; with the GraphQL response type they
    // answer 400, with plain JSON 200.
    for (accept, want) in [
        ("application/graphql-response+json", 400),
        ("application/json", 200),
    ] {
        for q in ["{ me { id ", "{ noSuchField }"] {
            let body = serde_json::to_vec(&json!({ "query": q })).unwrap();
            let (status, headers, text) = raw(
                &app,
                reqwest::Method::POST,
                "/graphql",
                Some("application/json"),
                Some(accept),
                Some(&prof),
                body,
            )
            .await;
            assert_eq!(status, want, "{accept} {q}: {text}");
            let v: Value = serde_json::from_str(&text).unwrap();
            assert!(v.get("data").is_none(), "{text}");
            assert_eq!(code(&text), "VALIDATION");
            assert!(
                headers["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with(accept)
            );
        }
    }
    assert_eq!(crate::errors::count_cases(&app).await, 0);
}

/// The standard introspection query of graphql-js, from the npm package.
fn standard_introspection_query() -> String {
    let out = std::process::Command::new("node")
        .arg("introspection.mjs")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node"))
        .output()
        .expect("node is needed for the end-to-end tests (scripts/test.sh installs the tools)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn standard_introspection_works(db: Db) {
    let app = TestApp::spawn(db).await;
    let q = standard_introspection_query();
    assert!(q.contains("fragment TypeRef"), "{q}");
    let (status, body) = app.post(None, &q, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let types = body["data"]["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "Case"));
    // Introspection nested deeper than the schema needs is refused.
    let greedy =
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    let (code, e) = app.err(None, greedy, json!({})).await;
    assert_eq!(code, "TOO_COMPLEX", "{e}");
}

async fn graphiql_is_served_by_the_binary(db: Db) {
    let app = TestApp::spawn(db).await;
    let (status, headers, html) = raw(
        &app,
        reqwest::Method::GET,
        "/graphql",
        None,
        Some("text/html"),
        None,
        vec![],
    )
    .await;
    assert_eq!(status, 200);
    let csp = headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    let mut assets = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for piece in html.split(attr).skip(1) {
            let a = piece.split('"').next().unwrap();
            if a != "data:," {
                assets.push(a.to_owned());
            }
        }
    }
    assert!(assets.len() >= 5, "{assets:?}");
    for a in &assets {
        assert!(
            a.starts_with('/') && !a.starts_with("//"),
            "only this origin: {a}"
        );
        let (status, headers, body) = get(&app, a).await;
        assert_eq!(status, 200, "{a}");
        assert!(!body.is_empty(), "{a}");
        let kind = headers["content-type"].to_str().unwrap();
        assert!(
            kind.starts_with("text/javascript") || kind.starts_with("text/css"),
            "{a}: {kind}"
        );
    }
    let (_, _, graphiql) = get(&app, "/graphiql/graphiql.min.js").await;
    assert!(graphiql.len() > 1_000_000, "the real GraphiQL bundle");
}

async fn metrics_follow_requests(db: Db) {
    let app = TestApp::spawn(db).await;
    let prof = user(&app, Role::Professional, &["ZDO"]).await;
    let bureau = user(&app, Role::ProgrammeBureau, &["ZDO"]).await;
    let case = app.ok(&prof, SUBMIT, submit_vars("Gemeten")).await["submitCase"].clone();
    app.act(&bureau, "pickUpCase", &case, "").await;
    // Clients name operations and aliases as they like; the labels are the
    // schema's root fields only.
    for i in 0..5 {
        let q = format!("query Client{i}Name {{ alias{i}: me {{ id }} }}");
        app.ok(&prof, &q, json!({})).await;
    }
    app.err(Some(&prof), "{ doesNotExist }", json!({})).await;
    let (status, _, text) = get(&app, "/metrics").await;
    assert_eq!(status, 200);
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no `{prefix}` in\n{text}"))
    };
    assert_eq!(
        line("doorbraak_graphql_requests_total{root_field=\"me\",outcome=\"ok\"}"),
        5.0
    );
    assert!(
        line("doorbraak_graphql_requests_total{root_field=\"unknown\",outcome=\"VALIDATION\"}")
            >= 1.0
    );
    assert_eq!(
        line("doorbraak_graphql_requests_total{root_field=\"pickUpCase\",outcome=\"ok\"}"),
        1.0
    );
    assert!(line("doorbraak_graphql_request_duration_seconds_count{root_field=\"me\"}") >= 5.0);
    assert_eq!(line("doorbraak_transitions_total{action=\"PICK_UP\"}"), 1.0);
    assert_eq!(line("doorbraak_transitions_total{action=\"SUBMIT\"}"), 1.0);
    assert!(line("doorbraak_db_pool_max_connections{") >= 1.0);
    assert!(line("doorbraak_change_feed_lag_seconds") >= 0.0);
    // SQLite's writer thread ran the pick-up (the submission goes through
    // the sqlx writer); PostgreSQL has no such thread.
    match db {
        Db::Sqlite => {
            assert_eq!(line("doorbraak_sqlite_batched_transitions_total"), 1.0);
            assert_eq!(line("doorbraak_sqlite_write_batches_total"), 1.0);
            // One request at a time: each mutation's count of a transition
            // on its way ended with it, so no batch waited for another.
            assert_eq!(line("doorbraak_sqlite_batches_held_open_total"), 0.0);
        }
        Db::Postgres => assert!(!text.contains("doorbraak_sqlite_"), "{text}"),
    }
    assert!(
        !text.contains("Client0Name") && !text.contains("alias0"),
        "{text}"
    );
    assert!(text.contains("# EOF"));
}

async fn a_request_that_runs_too_long_is_stopped(db: Db) {
    let app = TestApp::spawn_with(
        db,
        AppOptions {
            limits: Limits {
                timeout: Duration::from_secs(1),
                ..Limits::default()
            },
            ..TestApp::relaxed()
        },
    )
    .await;
    let prof = user(&app, Role::Professional, &["ZDO"]).await;
    let bureau = user(&app, Role::ProgrammeBureau, &["ZDO"]).await;
    let case = app.ok(&prof, SUBMIT, submit_vars("Geblokkeerd")).await["submitCase"].clone();
    let id: i64 = case["id"].as_str().unwrap().parse().unwrap();
    // Another client holds the case's row (PostgreSQL) or the database's
    // write lock (SQLite), so the pick-up waits for it.
    let lock = crate::support::Lock::take(&app.db_url, id).await;
    let started = Instant::now();
    let (code, body) = app.try_act(&bureau, "pickUpCase", &case, "").await;
    let took = started.elapsed();
    assert_eq!(code.as_deref(), Some("TOO_COMPLEX"), "{body}");
    assert!(
        took < Duration::from_secs(5),
        "stopped after the timeout, not the lock: {took:?}"
    );
    lock.release().await;
    // A write that had begun completes on its own, so the database and
    // what subscribers hear agree; the client reads the case again.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = app.case(&bureau, &case["id"]).await;
        if now["version"] == 2 {
            assert_eq!(now["events"].as_array().unwrap().len(), 2);
            break;
        }
        assert!(Instant::now() < deadline, "the pick-up never landed: {now}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    alive(&app).await;
}

/// The WebSocket transport passes the same guard: a 2,000-deep document
/// sent as a subscription is refused with TOO_COMPLEX, and the server and
/// the connection go on.
async fn the_websocket_has_the_same_limits(db: Db) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let app = TestApp::spawn(db).await;
    let prof = user(&app, Role::Professional, &["ZDO"]).await;
    let case = app.ok(&prof, SUBMIT, submit_vars("Via de websocket")).await["submitCase"].clone();
    let mut ws = crate::subscriptions::connect_to(&app.base, &prof).await;
    assert_eq!(
        crate::subscriptions::next(&mut ws).await.unwrap()["type"],
        "connection_ack"
    );
    let deep = format!(
        "subscription {{ caseUpdated(id: {}1{}) {{ id }} }}",
        "[".repeat(2_000),
        "]".repeat(2_000)
    );
    let bomb = fragment_bomb(31).replace("query {", "subscription { caseUpdated(id: 1) { id } ");
    for (id, q) in [("1", deep), ("2", bomb)] {
        let sub = json!({ "id": id, "type": "subscribe", "payload": { "query": q } });
        ws.send(Message::Text(sub.to_string().into()))
            .await
            .unwrap();
        let m = answer_to(&mut ws, id).await;
        let text = m.to_string();
        assert!(text.contains("TOO_COMPLEX"), "{text:.400}");
    }
    // The same connection still works.
    let sub = json!({ "id": "3", "type": "subscribe", "payload": {
        "query": "subscription($id: ID!) { caseUpdated(id: $id) { id } }",
        "variables": { "id": case["id"] } } });
    ws.send(Message::Text(sub.to_string().into()))
        .await
        .unwrap();
    let m = answer_to(&mut ws, "3").await;
    assert_eq!(m["payload"]["data"]["caseUpdated"]["id"], case["id"], "{m}");
    alive(&app).await;
}

/// The first message for subscription `id` other than its completion.
async fn answer_to(ws: &mut crate::subscriptions::Ws, id: &str) -> Value {
    loop {
        let m = crate::subscriptions::next(ws)
            .await
            .expect("the connection stays open");
        if m["id"] == id && m["type"] != "complete" {
            return m;
        }
    }
}

/// GraphiQL in a real browser (Debian's Chromium, driven by npm's
/// playwright-core): it loads, shows the schema in its documentation
/// explorer, logs no error, and asks nothing of any other origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_shows_the_schema_in_a_browser() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let out = tokio::process::Command::new("node")
        .arg("graphiql.mjs")
        .arg(&app.base)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node"))
        .output()
        .await
        .expect("node is needed for the end-to-end tests");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let v: Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|_| panic!("{text}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["foreign"], json!([]), "{v}");
    assert_eq!(v["errors"], json!([]), "{v}");
    let shown = v["rootTypes"].as_str().unwrap();
    for t in ["query: Query", "mutation: Mutation", "CaseSummary"] {
        assert!(shown.contains(t), "{t} in {shown}");
    }
    assert!(v["requests"].as_array().unwrap().len() >= 6, "{v}");
}

both!(
    the_websocket_has_the_same_limits,
    deep_nesting_cannot_crash_the_server,
    fragment_bombs_are_refused_at_once,
    aliases_and_root_fields_are_limited,
    the_rate_limit_counts_operations,
    a_bsn_in_any_form_is_refused,
    only_json_posts_execute,
    standard_introspection_works,
    graphiql_is_served_by_the_binary,
    metrics_follow_requests,
    a_request_that_runs_too_long_is_stopped,
);

/// A client that goes away stops its request: the server drops the work
/// instead of finishing it for nobody. PostgreSQL only: a reader must be
/// made to wait, and SQLite (WAL) never makes a reader wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_stops_its_request() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn(Db::Postgres).await;
    // Requests for `cases` counted by the metrics, whatever their outcome.
    let counted = || async {
        let (_, _, text) = get(&app, "/metrics").await;
        text.lines()
            .find(|l| l.starts_with("doorbraak_graphql_requests_total{root_field=\"cases\""))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .unwrap_or(0.0)
    };
    let lock = crate::support::Lock::table(&app.db_url).await;
    let body =
        serde_json::to_string(&json!({ "query": "{ cases(first: 5) { edges { node { id } } } }" }))
            .unwrap();
    let mut tcp = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let req = format!(
        "POST /graphql HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        app.admin,
        body.len()
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(tcp);
    tokio::time::sleep(Duration::from_millis(300)).await;
    lock.release().await;
    // Had the request gone on, it would now finish and be counted.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(counted().await, 0.0);
    // The same request, waited for, is counted.
    app.ok(
        &app.admin,
        "{ cases(first: 5) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(counted().await, 1.0);
}
