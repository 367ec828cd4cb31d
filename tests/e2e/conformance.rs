//! GraphQL over HTTP conformance: the graphql-http audit (npm) against the
//! real server, on both databases. Every audit must pass: no error and no
//! warning; notices (MAY items) are printed.

use crate::both;
use crate::support::{Db, TestApp};

async fn the_graphql_http_audit_passes(db: Db) {
    let app = TestApp::spawn(db).await;
    let url = format!("{}/graphql", app.base);
    let out = tokio::process::Command::new("node")
        .arg("audit.mjs")
        .arg(&url)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node"))
        .output()
        .await
        .expect("node is needed for the end-to-end tests (scripts/test.sh installs the tools)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let results: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(results.len() > 40, "the audit ran: {text}");
    let mut bad = Vec::new();
    for r in &results {
        match r["status"].as_str().unwrap() {
            "ok" => {}
            "notice" => eprintln!("notice: {} ({})", r["name"], r["reason"]),
            _ => bad.push(format!("{}: {} ({})", r["status"], r["name"], r["reason"])),
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

both!(the_graphql_http_audit_passes);
