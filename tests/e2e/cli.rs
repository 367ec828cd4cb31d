//! The `doorbraak` binary as an operator uses it.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::pg_database;

const BIN: &str = env!("CARGO_BIN_EXE_doorbraak");

fn doorbraak(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("DOORBRAAK_ADDR")
        .output()
        .expect("run doorbraak")
}

fn one_error_line(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let lines: Vec<&str> = err.trim().lines().collect();
    assert_eq!(lines.len(), 1, "one line, not a backtrace: {err}");
    assert!(lines[0].starts_with("doorbraak: error: "), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    lines[0].to_owned()
}

#[test]
fn user_create_prints_the_token_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = doorbraak(
        dir.path(),
        &[
            "user",
            "create",
            "--name",
            "Rik Rijks",
            "--role",
            "national-representative",
            "--area",
            "ZDO",
            "--area",
            "rtz",
            "--ministry",
            "SZW",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].starts_with("dbk_") && lines[0].len() > 40);
    assert!(
        dir.path().join("doorbraak.db").exists(),
        "the default SQLite file in the working directory"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(lines[0]), "the token is not logged");

    let line = one_error_line(&doorbraak(
        dir.path(),
        &["user", "create", "--name", "X Y", "--role", "mayor"],
    ));
    assert!(line.contains("mayor"), "{line}");
    let line = one_error_line(&doorbraak(
        dir.path(),
        &[
            "user",
            "create",
            "--name",
            "X Y",
            "--role",
            "alliance-secretary",
        ],
    ));
    assert!(line.contains("exactly one focus area"), "{line}");
}

#[test]
fn start_up_failures_are_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let line = one_error_line(&doorbraak(
        dir.path(),
        &["serve", "--addr", "not-an-address"],
    ));
    assert!(line.contains("not-an-address"), "{line}");
    let line = one_error_line(&doorbraak(
        dir.path(),
        &["serve", "--database-url", "mysql://localhost/x"],
    ));
    assert!(line.contains("unsupported database URL"), "{line}");
    let line = one_error_line(&doorbraak(
        dir.path(),
        &[
            "serve",
            "--database-url",
            "sqlite:///no/such/dir/doorbraak.db",
        ],
    ));
    assert!(line.contains("cannot open the SQLite database"), "{line}");
    // A file that is not a database.
    std::fs::write(dir.path().join("junk.db"), vec![7u8; 4096]).unwrap();
    let line = one_error_line(&doorbraak(
        dir.path(),
        &["migrate", "--database-url", "sqlite://junk.db"],
    ));
    assert!(line.contains("database"), "{line}");
    // An address that is taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let line = one_error_line(&doorbraak(dir.path(), &["serve", "--addr", &addr]));
    assert!(line.contains("cannot listen"), "{line}");
}

pub(crate) struct Running {
    pub(crate) child: Child,
    pub(crate) addr: String,
    stdout_first: Option<String>,
    pub(crate) stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

/// Starts `doorbraak serve` on a free port; returns once it listens.
pub(crate) fn serve(dir: &std::path::Path, db_url: &str) -> Running {
    serve_env(dir, db_url, &[])
}

/// The first administrator's token, which a server started on an empty
/// database prints as the first `dbk_` line on its stdout.
pub(crate) fn first_token(run: &mut Running) -> String {
    use std::io::BufRead;
    let out = run.child.stdout.as_mut().unwrap();
    let mut reader = std::io::BufReader::new(out);
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "no token printed");
        if line.starts_with("dbk_") {
            return line.trim().to_owned();
        }
    }
}

/// [`serve`] with more settings in the environment.
pub(crate) fn serve_env(dir: &std::path::Path, db_url: &str, env: &[(&str, &str)]) -> Running {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(BIN)
        .args(["serve", "--addr", &addr])
        .env("DATABASE_URL", db_url)
        .env("DOORBRAAK_LOG", "debug")
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let mut err = child.stderr.take().unwrap();
    let sink = stderr.clone();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(&mut err);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            if line.contains("listening") {
                let _ = tx.send(());
            }
            sink.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the server starts listening");
    Running {
        child,
        addr,
        stdout_first: None,
        stderr,
    }
}

pub(crate) fn stop(mut r: Running) -> (std::process::ExitStatus, String, String) {
    let ok = Command::new("kill")
        .args(["-TERM", &r.child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = r.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = r.stdout_first.take().unwrap_or_default();
    if let Some(mut s) = r.child.stdout.take() {
        s.read_to_string(&mut out).unwrap();
    }
    std::thread::sleep(Duration::from_millis(100));
    let err = r.stderr.lock().unwrap().clone();
    (status, out, err)
}

pub(crate) async fn gql(
    addr: &str,
    token: &str,
    query: &str,
    vars: serde_json::Value,
) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": vars }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn serve_lifecycle(db_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut run = serve(dir.path(), db_url);
    let mut first = String::new();
    BufReader::new(run.child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    let admin = first.trim().to_owned();
    assert!(
        admin.starts_with("dbk_"),
        "the first start prints an administrator token: {first:?}"
    );
    let me = gql(&run.addr, &admin, "{ me { role } }", json!({})).await;
    assert_eq!(me["data"]["me"]["role"], "ADMINISTRATOR");
    let created = gql(
        &run.addr,
        &admin,
        "mutation { createUser(input: { name: \"Petra P\", role: PROFESSIONAL, areas: [\"ZDO\"] }) { token } }",
        json!({}),
    )
    .await;
    let prof = created["data"]["createUser"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = "Geheime-omschrijving-die-nooit-in-een-log-mag-staan";
    let submitted = gql(
        &run.addr,
        &prof,
        "mutation($i: SubmitCaseInput!) { submitCase(input: $i) { reference } }",
        json!({ "i": {
            "title": "Logtest", "description": secret, "focusArea": "ZDO", "domains": ["OTHER"],
            "rule": { "citation": "Protocol 7", "scope": "ORGANISATION" }, "desiredAction": "Iets doen dat nu niet mag."
        }}),
    )
    .await;
    assert_eq!(
        submitted["data"]["submitCase"]["reference"],
        "ZDO-2026-0001".replace("2026", &chrono::Utc::now().format("%Y").to_string())
    );
    run.stdout_first = Some(first);
    let (status, out, err) = stop(run);
    assert!(status.success(), "clean exit on SIGTERM: {status:?}\n{err}");
    assert_eq!(out.trim(), admin, "only the token on standard output");
    assert!(!err.contains(secret), "descriptions never reach the log");
    assert!(
        !err.contains(&admin) && !err.contains(&prof),
        "tokens never reach the log"
    );
    assert!(
        !err.to_lowercase().contains("authorization"),
        "headers never reach the log"
    );
    assert!(
        err.contains("request_id="),
        "requests are logged with their id"
    );
    assert!(err.contains("shutting down"), "{err}");

    // A second start on the same database creates no administrator.
    let run = serve(dir.path(), db_url);
    let (status, out, _) = stop(run);
    assert!(status.success());
    assert!(out.is_empty(), "no second token: {out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_sqlite_prints_the_first_token_once_and_stops_cleanly() {
    serve_lifecycle("sqlite://doorbraak.db").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_postgres_prints_the_first_token_once_and_stops_cleanly() {
    let url = pg_database().await;
    let dir = tempfile::tempdir().unwrap();
    run_ok(dir.path(), &["migrate"], &url);
    serve_lifecycle(&url).await;
}

/// The README's walkthrough, run as written against `doorbraak serve` on a
/// fresh directory. Two substitutions only: `doorbraak` is the binary under
/// test (not `cargo run`, which would wait for this test's own build lock),
/// and the port is a free one instead of 8080.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_walkthrough_works_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("<!-- walkthrough:start -->")
        .expect("walkthrough start marker");
    let end = readme
        .find("<!-- walkthrough:end -->")
        .expect("walkthrough end marker");
    let block = &readme[start..end];
    let script = block
        .split_once("```bash\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(code, _)| code)
        .expect("a bash block");
    let define = "doorbraak() { cargo run -q -- \"$@\"; }";
    assert!(
        script.contains(define),
        "the walkthrough defines doorbraak with cargo run"
    );
    assert!(script.contains("http://127.0.0.1:8080/graphql"));

    let dir = tempfile::tempdir().unwrap();
    let run = serve(dir.path(), "sqlite://doorbraak.db");
    let port = run.addr.rsplit(':').next().unwrap().to_owned();
    let script = script
        .replace(define, &format!("doorbraak() {{ {BIN} \"$@\"; }}"))
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    let out = tokio::task::spawn_blocking({
        let dir = dir.path().to_owned();
        move || {
            Command::new("bash")
                .args(["-euo", "pipefail", "-c", &script])
                .current_dir(dir)
                .env_remove("DATABASE_URL")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let (status, _, _) = stop(run);
    assert!(status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), 8, "{stdout}");
    for a in &answers {
        assert!(a.get("errors").is_none(), "{a}");
    }
    let last = &answers[7]["data"]["case"];
    assert_eq!(last["state"], "RESOLVED");
    assert_eq!(last["resolution"]["outcome"], "STRUCTURAL_BREAKTHROUGH");
    assert_eq!(last["events"].as_array().unwrap().len(), 7);
    assert!(last["reference"].as_str().unwrap().starts_with("ZDO-"));
}

/// `doorbraak demo` fills a fresh database with people and cases through
/// the engine; its access codes sign in, and the pages show the cases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_fills_the_pages() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = run_ok(dir.path(), &["demo"], "sqlite://doorbraak.db");
    let codes: Vec<(&str, &str)> = stdout
        .lines()
        .skip(1)
        .map(|l| {
            (
                l.split_whitespace().next().unwrap(),
                l.split_whitespace().last().unwrap(),
            )
        })
        .collect();
    assert_eq!(codes.len(), 8, "{stdout}");
    assert!(codes.iter().all(|(_, c)| c.starts_with("dbk_")));
    let run = serve(dir.path(), "sqlite://doorbraak.db");
    let secretariat = codes
        .iter()
        .find(|(r, _)| *r == "BREAKTHROUGH_SECRETARIAT")
        .unwrap()
        .1;
    let admin = codes.iter().find(|(r, _)| *r == "ADMINISTRATOR").unwrap().1;
    let all = gql(
        &run.addr,
        admin,
        "{ cases(first: 50) { edges { node { state events { action } } } } }",
        serde_json::json!({}),
    )
    .await;
    let states: Vec<&str> = all["data"]["cases"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["state"].as_str().unwrap())
        .collect();
    for s in [
        "RESOLVED",
        "AT_PROGRAMME_BUREAU",
        "AWAITING_INFORMATION",
        "AT_ALLIANCE",
        "REJECTED",
    ] {
        assert!(states.contains(&s), "{s} in {states:?}");
    }
    let decided = gql(&run.addr, secretariat, "{ cases(filter: { states: [RESOLVED] }) { edges { node { resolution { level outcome } } } } }", serde_json::json!({})).await;
    assert!(
        decided.to_string().contains("STRUCTURAL_BREAKTHROUGH"),
        "{decided}"
    );
    let (status, _, _) = stop(run);
    assert!(status.success());
}

/// The OpenID settings as the binary reads them: an issuer without a client
/// id, or with both a secret and a key, is one clear line; a complete set
/// starts and logs the redirect URI to register.
#[test]
fn openid_settings_are_checked_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let run = |env: &[(&str, &str)]| {
        Command::new(BIN)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let line = one_error_line(&run(&[("DOORBRAAK_OIDC_ISSUER", "http://127.0.0.1:1")]));
    assert!(line.contains("DOORBRAAK_OIDC_CLIENT_ID"), "{line}");
    let line = one_error_line(&run(&[
        ("DOORBRAAK_OIDC_ISSUER", "http://127.0.0.1:1"),
        ("DOORBRAAK_OIDC_CLIENT_ID", "doorbraak"),
        ("DOORBRAAK_OIDC_CLIENT_SECRET", "geheim"),
        ("DOORBRAAK_OIDC_CLIENT_KEY", "/nonexistent.pem"),
    ]));
    assert!(line.contains("either"), "{line}");
    let line = one_error_line(&run(&[
        ("DOORBRAAK_OIDC_ISSUER", "http://127.0.0.1:1"),
        ("DOORBRAAK_OIDC_CLIENT_ID", "doorbraak"),
        ("DOORBRAAK_OIDC_CLIENT_KEY", "/nonexistent.pem"),
    ]));
    assert!(line.contains("DOORBRAAK_OIDC_CLIENT_KEY"), "{line}");
    let r = serve_env(
        dir.path(),
        "sqlite://doorbraak.db",
        &[
            ("DOORBRAAK_OIDC_ISSUER", "http://127.0.0.1:1"),
            ("DOORBRAAK_OIDC_CLIENT_ID", "doorbraak"),
            ("DOORBRAAK_OIDC_CLIENT_SECRET", "geheim"),
            ("DOORBRAAK_PUBLIC_URL", "https://doorbraak.example.nl"),
        ],
    );
    let (status, _, log) = stop(r);
    assert!(status.success());
    assert!(
        log.contains("https://doorbraak.example.nl/inloggen/oidc/callback"),
        "{log}"
    );
    assert!(!log.contains("geheim"), "the secret is never logged");
}

/// Runs the binary in `dir` on `db`; it must succeed. Returns its stdout.
fn run_ok(dir: &std::path::Path, args: &[&str], db: &str) -> String {
    let out = Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", db)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// `doorbraak generate`: the command writes the cases it reports; a count
/// of zero is refused before anything is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_writes_the_cases_it_reports() {
    let dir = tempfile::tempdir().unwrap();
    let said = run_ok(
        dir.path(),
        &["generate", "--cases", "300", "--seed", "5"],
        "sqlite://a.db",
    );
    assert!(said.starts_with("generated 300 cases with "), "{said}");
    let rows = generated_counts(&dir.path().join("a.db"));
    assert_eq!(rows.0, 300);
    assert!(
        said.contains(&format!("with {} events", rows.1)),
        "{said} {rows:?}"
    );
    assert!(rows.2 > 30, "{rows:?}");
    let out = Command::new(BIN)
        .args(["generate", "--cases", "0"])
        .env("DATABASE_URL", "sqlite://c.db")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        !dir.path().join("c.db").exists()
            || std::fs::metadata(dir.path().join("c.db")).unwrap().len() == 0
    );
}

/// (cases, events, resolved) of a generated file.
fn generated_counts(path: &std::path::Path) -> (i64, i64, i64) {
    let rt = tokio::runtime::Handle::current();
    let url = format!("sqlite://{}", path.display());
    tokio::task::block_in_place(|| {
        rt.block_on(async {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            let one = async |sql: &'static str| -> i64 {
                let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
                n
            };
            let r = (
                one("SELECT COUNT(*) FROM cases").await,
                one("SELECT COUNT(*) FROM case_events").await,
                one("SELECT COUNT(*) FROM cases WHERE state = 'RESOLVED'").await,
            );
            pool.close().await;
            r
        })
    })
}
