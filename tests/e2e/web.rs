//! The web application: handler tests over HTTP that parse the HTML, and a
//! browser suite in Debian's Chromium that walks a case up the ladder
//! through the pages alone.

use serde_json::{Value, json};

use crate::support::*;

/// Where the browser suite writes its screenshots (README names it).
pub const SCREENSHOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots");

/// Seeds an earlier answer about the rule the browser suite uses, so that
/// "misschien kan het al" has something to show.
async fn seed_precedent(app: &TestApp, c: &Cast, rule: &str) {
    let mut vars = submit_vars("Kostendelersnorm bij inwonende student");
    vars["i"]["rule"]["citation"] = json!(rule);
    let d = app
        .ok(&c.prof, &format!("mutation($i: SubmitCaseInput!) {{ submitCase(input: $i) {{ {CASE_FIELDS} }} }}"), vars)
        .await;
    let case = d["submitCase"].clone();
    let case = app.act(&c.pb, "pickUpCase", &case, "").await;
    app.act(
        &c.pb,
        "resolveCase",
        &case,
        r#"input: { outcome: ALREADY_POSSIBLE, explanation: "Een studerend kind telt niet mee als kostendeler zolang het studiefinanciering krijgt." }"#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_carry_a_case_up_the_ladder_in_a_browser() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let c = cast(&app).await;
    let rule = "Participatiewet, artikel 22a (kostendelersnorm)";
    seed_precedent(&app, &c, rule).await;
    let now = app.engine.now();
    let fmt = |days: i64| (now + chrono::TimeDelta::days(days)).format("%Y-%m-%dT14:00").to_string();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        json!({
            "base": app.base,
            "screenshots": SCREENSHOTS,
            "rule": rule,
            "allianceAt": fmt(7),
            "breakthroughAt": fmt(21),
            "effectiveFrom": (now + chrono::TimeDelta::days(90)).format("%Y-%m-%d").to_string(),
            "tokens": {
                "professional": c.prof,
                "programmeBureau": c.pb,
                "allianceSecretary": c.secretary,
                "nationalRepresentative": c.rep,
                "secretariat": c.secretariat,
                "analyst": c.analyst,
                "administrator": app.admin,
            },
        })
        .to_string(),
    )
    .unwrap();
    let out = tokio::process::Command::new("node")
        .arg("web.mjs")
        .arg(&config)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node"))
        .output()
        .await
        .expect("node is needed for the end-to-end tests");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let v: Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|_| panic!("{text}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["errors"], json!([]), "{v:#}");
    let probe = v["axeSelfCheck"].to_string();
    assert!(probe.contains("image-alt") && probe.contains("label"), "axe did not catch the planted violations: {probe}");
    assert_eq!(v["violations"], json!([]), "axe found violations: {v:#}");
    assert_eq!(v["foreign"], json!([]), "requests left the machine: {v:#}");
    assert_eq!(v["overflow"], json!([]), "pages wider than the phone: {v:#}");
    assert!(v["screenshots"].as_u64().unwrap() >= 30, "{v:#}");

    // What the pages did is what the engine holds.
    let id = v["caseId"].as_str().unwrap();
    let case = app.case(&c.prof, &json!(id)).await;
    assert_eq!(case["state"], "RESOLVED", "{case}");
    assert_eq!(case["resolution"]["outcome"], "STRUCTURAL_BREAKTHROUGH", "{case}");
    assert_eq!(case["resolution"]["level"], "BREAKTHROUGH_MEETING", "{case}");
    let roles: Vec<&str> = case["events"].as_array().unwrap().iter().map(|e| e["actorRole"].as_str().unwrap()).collect();
    for r in ["PROFESSIONAL", "PROGRAMME_BUREAU", "ALLIANCE_SECRETARY", "NATIONAL_REPRESENTATIVE", "BREAKTHROUGH_SECRETARIAT"] {
        assert!(roles.contains(&r), "{r} in {roles:?}");
    }
    let js_off = app.case(&c.prof, &json!(v["jsOffCaseId"].as_str().unwrap())).await;
    assert_eq!(js_off["state"], "AT_PROGRAMME_BUREAU", "{js_off}");
}
