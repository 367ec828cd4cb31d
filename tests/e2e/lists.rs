//! Pagination, filters, exact money and the cost of a list.

use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;

use crate::both;
use crate::generate::held_cases;
use crate::support::{Db, TestApp, cast, submit_vars};

const PAGE: &str = "query($f: CaseFilter, $first: Int, $after: String) { cases(filter: $f, first: $first, after: $after) { \
    edges { cursor node { id reference estimatedCost urgency state events { action actor { name } } submittedBy { name } assignee { name } \
    barrier { id } precedentAvailable nextMeeting { id } awaitingMeeting meetings { decision } } } \
    pageInfo { hasNextPage endCursor } } }";

async fn all_pages(app: &TestApp, token: &str, filter: Value, first: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let d = app
            .ok(
                token,
                PAGE,
                json!({ "f": filter, "first": first, "after": after }),
            )
            .await;
        let conn = &d["cases"];
        out.extend(
            conn["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone()),
        );
        if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    out
}

async fn pages_filters_and_exact_sums(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let amounts = [
        "0.10",
        "0.20",
        "0.30",
        "19.99",
        "1234567.89",
        "0.01",
        "33.33",
        "66.67",
    ];
    let q = "mutation($i: SubmitCaseInput!) { submitCase(input: $i) { id version } }";
    let mut expected = Decimal::ZERO;
    let n = 123;
    let mut ids = Vec::new();
    for i in 0..n {
        let mut v = submit_vars(&format!("Zaak nummer {i}"));
        let amount = amounts[i % amounts.len()];
        v["i"]["estimatedCost"] = json!(amount);
        v["i"]["urgency"] = json!(if i % 3 == 0 { "URGENT" } else { "NORMAL" });
        expected += Decimal::from_str(amount).unwrap();
        ids.push(app.ok(&c.prof, q, v).await["submitCase"].clone());
    }
    // Pick up every fourth case, so some have an assignee.
    let mut picked = Vec::new();
    for case in ids.iter().step_by(4) {
        picked.push(app.act(&c.pb, "pickUpCase", case, "").await);
    }
    let calls_before = app.engine.repository_calls();
    let all = all_pages(&app, &c.pb, json!(null), 50).await;
    let calls = app.engine.repository_calls() - calls_before;
    assert_eq!(all.len(), n);
    // Three pages; per page one list and one batch each of events, users,
    // barriers, agenda items and meetings, plus perhaps one token lookup
    // when the token cache expires.
    assert!(
        calls <= 3 * 6 + 1,
        "a page costs a fixed number of queries, not one per row: {calls}"
    );
    let mut refs: Vec<&str> = all
        .iter()
        .map(|c| c["reference"].as_str().unwrap())
        .collect();
    let ids_desc: Vec<i64> = all
        .iter()
        .map(|c| c["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        ids_desc.windows(2).all(|w| w[0] > w[1]),
        "newest first, stable"
    );
    refs.sort();
    refs.dedup();
    assert_eq!(refs.len(), n, "no duplicates across pages");
    let sum: Decimal = all
        .iter()
        .map(|c| Decimal::from_str(c["estimatedCost"].as_str().unwrap()).unwrap())
        .sum();
    assert_eq!(sum, expected, "exact to the cent");

    let urgent = all_pages(&app, &c.pb, json!({ "urgency": "URGENT" }), 100).await;
    assert_eq!(urgent.len(), (0..n).filter(|i| i % 3 == 0).count());
    let mine = all_pages(&app, &c.pb, json!({ "assignedToMe": true }), 100).await;
    assert_eq!(mine.len(), n.div_ceil(4));
    assert_eq!(held_cases(&app.db_url).await, n.div_ceil(4) as i64);
    // A released case is no longer anyone's; picked up again, it is.
    let released = app.act(&c.pb, "releaseCase", &picked[0], "").await;
    assert!(released["assignee"].is_null(), "{released}");
    let mine = all_pages(&app, &c.pb, json!({ "assignedToMe": true }), 100).await;
    assert_eq!(mine.len(), n.div_ceil(4) - 1);
    assert!(mine.iter().all(|m| m["id"] != picked[0]["id"]));
    assert_eq!(held_cases(&app.db_url).await, n.div_ceil(4) as i64 - 1);
    app.act(&c.pb, "pickUpCase", &released, "").await;
    let mine = all_pages(&app, &c.pb, json!({ "assignedToMe": true }), 100).await;
    assert_eq!(mine.len(), n.div_ceil(4));
    assert_eq!(held_cases(&app.db_url).await, n.div_ceil(4) as i64);
    let by_area = all_pages(&app, &c.pb, json!({ "focusAreas": ["RTZ"] }), 100).await;
    assert!(by_area.is_empty());
    let at_pb = all_pages(
        &app,
        &c.pb,
        json!({ "states": ["AT_PROGRAMME_BUREAU"], "levels": ["PROGRAMME_BUREAU"] }),
        100,
    )
    .await;
    assert_eq!(at_pb.len(), n);
    assert!(
        all_pages(&app, &c.pb, json!({ "overdue": true }), 100)
            .await
            .is_empty()
    );
    app.advance_days(11);
    assert_eq!(
        all_pages(&app, &c.pb, json!({ "overdue": true }), 100)
            .await
            .len(),
        n
    );

    let (code, _) = app.err(Some(&c.pb), PAGE, json!({ "first": 101 })).await;
    assert_eq!(code, "VALIDATION");
    let (code, _) = app
        .err(Some(&c.pb), PAGE, json!({ "after": "bm9wZQ" }))
        .await;
    assert_eq!(code, "VALIDATION");
}

both!(pages_filters_and_exact_sums);
