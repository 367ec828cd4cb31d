//! The checked-in schema is the served schema.

use crate::support::{Db, TestApp};

#[test]
fn schema_graphql_matches_the_code() {
    let file =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    let code = doorbraak_graphql::sdl();
    assert!(
        file.trim_end() == code.trim_end(),
        "schema.graphql is stale: run `cargo run -q -- schema > schema.graphql`"
    );
}

#[tokio::test]
async fn the_served_schema_is_the_checked_in_one() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let served = reqwest::get(format!("{}/schema.graphql", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let file =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(served.trim_end(), file.trim_end());
    // Introspection sees the same types.
    let (_, body) = app
        .post(
            None,
            "{ __schema { types { name } } }",
            serde_json::json!({}),
        )
        .await;
    let names: Vec<&str> = body["data"]["__schema"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for t in [
        "Case",
        "CaseState",
        "CaseAction",
        "Decimal",
        "DateTime",
        "CaseConnection",
        "Outcome",
        "Role",
    ] {
        assert!(names.contains(&t), "{t}");
        assert!(file.contains(t), "{t} in schema.graphql");
    }
}

#[tokio::test]
async fn health_readiness_and_graphiql() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let r = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert_eq!(r.status(), 200);
    let r = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(r.status(), 200);
    let r = reqwest::get(format!("{}/graphql", app.base)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["x-request-id"].to_str().unwrap().len() >= 32);
    assert!(r.text().await.unwrap().to_lowercase().contains("graphiql"));
}
