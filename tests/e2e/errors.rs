//! Every error code, and that a refused request changes nothing.

use serde_json::{Value, json};

use crate::both;
use crate::support::{Db, TestApp, cast, submit_vars};
use doorbraak_server::{AppOptions, RateLimit};

const SUBMIT: &str = "mutation($i: SubmitCaseInput!) { submitCase(input: $i) { id } }";

/// How many cases there are (as the administrator sees them).
pub(crate) async fn count_cases(app: &TestApp) -> usize {
    let d = app
        .ok(
            &app.admin,
            "{ cases(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    d["cases"]["edges"].as_array().unwrap().len()
}

async fn every_error_code(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let case = app.submit(&c.prof, "Een zaak om op te weigeren").await;

    // UNAUTHENTICATED: no token, a bad token, a malformed header.
    let (code, _) = app.err(None, "{ me { id } }", json!({})).await;
    assert_eq!(code, "UNAUTHENTICATED");
    let (status, body) = app
        .post(Some("dbk_not-a-real-token"), "{ me { id } }", json!({}))
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    // FORBIDDEN: a professional cannot pick up; a bureau member cannot submit.
    let (code, _) = app.try_act(&c.prof, "pickUpCase", &case, "").await;
    assert_eq!(code.as_deref(), Some("FORBIDDEN"));
    let (code, _) = app.err(Some(&c.pb), SUBMIT, submit_vars("Mag niet")).await;
    assert_eq!(code, "FORBIDDEN");

    // NOT_FOUND: a case that does not exist.
    let ghost = json!({ "id": "987654", "version": 1 });
    let (code, _) = app.try_act(&c.pb, "pickUpCase", &ghost, "").await;
    assert_eq!(code.as_deref(), Some("NOT_FOUND"));

    // VALIDATION, with the field.
    let mut v = submit_vars("x");
    v["i"]["title"] = json!("  ");
    let (code, e) = app.err(Some(&c.prof), SUBMIT, v).await;
    assert_eq!(
        (code.as_str(), e["extensions"]["field"].as_str()),
        ("VALIDATION", Some("input.title"))
    );
    let mut v = submit_vars("Verkeerde BWB");
    v["i"]["rule"]["bwbId"] = json!("BWB123");
    let (code, e) = app.err(Some(&c.prof), SUBMIT, v).await;
    assert_eq!(
        (code.as_str(), e["extensions"]["field"].as_str()),
        ("VALIDATION", Some("input.rule.bwbId"))
    );
    let mut v = submit_vars("Onbekend gebied");
    v["i"]["focusArea"] = json!("XYZ");
    let (code, e) = app.err(Some(&c.prof), SUBMIT, v).await;
    assert_eq!(
        (code.as_str(), e["extensions"]["field"].as_str()),
        ("VALIDATION", Some("input.focusArea"))
    );
    // Decimal crosses as a string only: a JSON number is refused.
    let mut v = submit_vars("Bedrag als getal");
    v["i"]["estimatedCost"] = json!(12.5);
    let (code, _) = app.err(Some(&c.prof), SUBMIT, v).await;
    assert_eq!(code, "VALIDATION");
    let (code, _) = app
        .err(Some(&c.prof), "{ me { nonsense } }", json!({}))
        .await;
    assert_eq!(code, "VALIDATION");

    // INVALID_TRANSITION: releasing a case nobody holds; the secretary
    // referring back below the bottom of the ladder.
    let (code, _) = app.try_act(&c.pb, "releaseCase", &case, "").await;
    assert_eq!(code.as_deref(), Some("INVALID_TRANSITION"));
    let (code, _) = app
        .try_act(
            &c.secretary,
            "referBackCase",
            &case,
            r#"motivation: "Terug.""#,
        )
        .await;
    assert_eq!(code.as_deref(), Some("INVALID_TRANSITION"));
    let (code, e) = app
        .try_act(
            &c.pb,
            "resolveCase",
            &case,
            r#"input: { outcome: STRUCTURAL_BREAKTHROUGH, explanation: "De wet gaat om.", effectiveFrom: "2027-01-01" }"#,
        )
        .await;
    assert_eq!(
        code.as_deref(),
        Some("VALIDATION"),
        "a national rule is not changed at the bureau: {e}"
    );

    // VERSION_CONFLICT: acting on a version that is gone.
    let moved = app.act(&c.pb, "pickUpCase", &case, "").await;
    let (code, _) = app.try_act(&c.pb, "releaseCase", &case, "").await;
    assert_eq!(code.as_deref(), Some("VERSION_CONFLICT"));

    // PERSONAL_DATA_DETECTED: a BSN in free text, and nothing is stored.
    let before = count_cases(&app).await;
    let mut v = submit_vars("Met BSN");
    v["i"]["description"] =
        json!("Moeder met BSN 111222333 krijgt geen toeslag meer sinds ze meer werkt.");
    let (code, e) = app.err(Some(&c.prof), SUBMIT, v).await;
    assert_eq!(
        (code.as_str(), e["extensions"]["field"].as_str()),
        ("PERSONAL_DATA_DETECTED", Some("input.description"))
    );
    assert_eq!(count_cases(&app).await, before, "nothing stored");
    let (code, _) = app
        .try_act(
            &c.pb,
            "requestInformation",
            &moved,
            r#"question: "Is 1234.56.782 het nummer?""#,
        )
        .await;
    assert_eq!(code.as_deref(), Some("PERSONAL_DATA_DETECTED"));

    // Every refusal above left the case as it was after the one pick-up.
    let now = app.case(&c.pb, &case["id"]).await;
    assert_eq!(now["version"], 2);
    assert_eq!(now["events"].as_array().unwrap().len(), 2);
    assert_eq!(now["state"], "AT_PROGRAMME_BUREAU");
}

async fn rate_limited(db: Db) {
    let app = TestApp::spawn_with(
        db,
        AppOptions {
            rate_limit: RateLimit {
                per_second: 0.01,
                burst: 3.0,
            },
            ..AppOptions::default()
        },
    )
    .await;
    let mut codes = Vec::new();
    for _ in 0..5 {
        let (status, body) = app.post(Some(&app.admin), "{ me { id } }", json!({})).await;
        codes.push((
            status,
            body["errors"][0]["extensions"]["code"]
                .as_str()
                .map(str::to_owned),
        ));
    }
    assert_eq!(codes[..3], [(200, None), (200, None), (200, None)]);
    assert_eq!(codes[3], (429, Some("RATE_LIMITED".to_owned())));
    assert_eq!(codes[4], (429, Some("RATE_LIMITED".to_owned())));
}

async fn internal_errors_leak_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let case = app
        .submit(&c.prof, "Een zaak voor een kapotte database")
        .await;
    // Break the database under the running server.
    let sql = "ALTER TABLE case_events RENAME TO case_events_gone";
    match db {
        Db::Sqlite => {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&app.db_url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
        Db::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&app.db_url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
    }
    let (code, body) = app.try_act(&c.pb, "pickUpCase", &case, "").await;
    assert_eq!(code.as_deref(), Some("INTERNAL"), "{body}");
    let text = body.to_string();
    for secret in ["case_events", "SQL", "sqlx", "no such table", "relation"] {
        assert!(!text.contains(secret), "leaked `{secret}`: {text}");
    }
    // The transaction rolled back: the case row did not move either.
    let row: Value = app
        .ok(
            &c.prof,
            "query($id: ID) { case(id: $id) { version assignee { name } } }",
            json!({ "id": case["id"] }),
        )
        .await;
    assert_eq!(row["case"]["version"], 1);
    assert!(row["case"]["assignee"].is_null());
}

async fn limits_on_size_and_depth(db: Db) {
    let app = TestApp::spawn(db).await;
    let big = "x".repeat(300 * 1024);
    let (status, body) = app
        .post(Some(&app.admin), "{ me { id } }", json!({ "pad": big }))
        .await;
    assert_eq!(status, 413);
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    let deep = format!(
        "{{ cases {{ edges {{ node {{ {}id{} }} }} }} }}",
        "mergedInto { ".repeat(12),
        " }".repeat(12)
    );
    let (code, e) = app.err(Some(&app.admin), &deep, json!({})).await;
    assert_eq!(code, "TOO_COMPLEX", "{e}");
    let costly = "{ a: cases(first: 100) { ...P } b: cases(first: 100) { ...P } c: cases(first: 100) { ...P } d: cases(first: 100) { ...P } } \
        fragment P on CaseConnection { edges { node { id reference title description state level version deadline overdue urgency createdAt updatedAt desiredAction householdsAffected estimatedCost } } }";
    let (code, e) = app.err(Some(&app.admin), costly, json!({})).await;
    assert_eq!(code, "TOO_COMPLEX", "{e}");
}

both!(
    every_error_code,
    rate_limited,
    internal_errors_leak_nothing,
    limits_on_size_and_depth
);
