//! The test harness: a real server on port 0 over a fresh database (a
//! SQLite file, or a database in a throwaway PostgreSQL cluster that this
//! process starts), and a GraphQL client over real HTTP.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use doorbraak_engine::{Engine, ManualClock};
use doorbraak_server::{AppOptions, RateLimit, Server, app};
use doorbraak_store::{PoolSizes, Store};
use serde_json::{Value, json};

/// The two databases every end-to-end scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs an async scenario on both databases, as two tests.
#[macro_export]
macro_rules! both {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::support::Db::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::support::Db::Postgres).await
                }
            }
        )+
    };
}

// ---------------------------------------------------------------- PostgreSQL

pub struct PgCluster {
    pub port: u16,
    bin: PathBuf,
    dir: PathBuf,
    data: PathBuf,
}

static PG: OnceLock<PgCluster> = OnceLock::new();
static DB_SEQ: AtomicU32 = AtomicU32::new(0);

fn pg_bin() -> PathBuf {
    if let Ok(dir) = std::env::var("DOORBRAAK_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    found.retain(|p| p.join("initdb").exists());
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL is required for the end-to-end tests and was not found \
             (no /usr/lib/postgresql/*/bin/initdb; set DOORBRAAK_PG_BIN or run scripts/test.sh, which installs it)"
        )
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool, as the `postgres` user when we are root
/// (`initdb` and `postgres` refuse to run as root).
fn pg_tool(bin: &Path, tool: &str, args: &[&str]) -> std::process::Output {
    let exe = bin.join(tool);
    let out = if is_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&exe)
            .args(args)
            .output()
    } else {
        Command::new(&exe).args(args).output()
    };
    out.unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The throwaway cluster of this test process, started on first use and
/// stopped by a watchdog as soon as this process ends (even when it fails).
pub fn pg() -> &'static PgCluster {
    PG.get_or_init(|| PgCluster::start("shared"))
}

impl PgCluster {
    /// Starts a new cluster on a free port; a watchdog stops and removes it
    /// once this process is gone. Most tests share [`pg`]; a test that stops
    /// and starts its database starts its own.
    pub fn start(tag: &str) -> PgCluster {
        let bin = pg_bin();
        // As root the cluster belongs to `postgres`, which must be able to
        // reach it: /tmp always lets it, a private TMPDIR may not.
        let base = if is_root() {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("doorbraak-pg-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the cluster directory");
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "cannot hand {} to the postgres user", dir.display());
        }
        let data = dir.join("data");
        let data_s = data.to_string_lossy().to_string();
        let out = pg_tool(
            &bin,
            "initdb",
            &[
                "-D",
                &data_s,
                "-U",
                "doorbraak",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let cluster = PgCluster {
            port,
            bin,
            dir,
            data,
        };
        cluster.resume();
        // The watchdog: stop the cluster and remove it once we are gone.
        let prefix = if is_root() {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {prefix}{pg_ctl} -D {data} stop -m immediate >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            pg_ctl = cluster.bin.join("pg_ctl").display(),
            data = cluster.data.display(),
            dir = cluster.dir.display(),
        );
        // Deliberately never waited for: it must outlive this process.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .args(["-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the cluster watchdog");
        cluster
    }

    /// Starts the server of this cluster (again), waiting until it accepts.
    pub fn resume(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            self.port,
            self.dir.display()
        );
        let data_s = self.data.to_string_lossy().to_string();
        let log = self.dir.join("server.log").to_string_lossy().to_string();
        let out = pg_tool(
            &self.bin,
            "pg_ctl",
            &["-D", &data_s, "-o", &opts, "-l", &log, "-w", "start"],
        );
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Stops the server (fast shutdown: sessions are ended, open
    /// transactions rolled back), waiting until it is down.
    pub fn halt(&self) {
        let data_s = self.data.to_string_lossy().to_string();
        let out = pg_tool(
            &self.bin,
            "pg_ctl",
            &["-D", &data_s, "-m", "fast", "-w", "stop"],
        );
        assert!(
            out.status.success(),
            "pg_ctl stop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A new, empty database in this cluster.
    pub async fn database(&self) -> String {
        use sqlx::Connection;
        let name = format!(
            "t{}_{}",
            std::process::id(),
            DB_SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let admin = format!("postgres://doorbraak@127.0.0.1:{}/postgres", self.port);
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("connect to the test cluster");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create a test database");
        let _ = conn.close().await;
        format!("postgres://doorbraak@127.0.0.1:{}/{name}", self.port)
    }
}

/// A new, empty database in the shared cluster.
pub async fn pg_database() -> String {
    pg().database().await
}

// ---------------------------------------------------------------- the app

/// The start of every test's clock: a Monday morning.
pub fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

pub struct TestApp {
    pub base: String,
    pub db_url: String,
    pub clock: Arc<ManualClock>,
    pub engine: Engine,
    pub admin: String,
    pub options: AppOptions,
    /// The port to listen on (0: any free one).
    pub port: u16,
    client: reqwest::Client,
    server: Option<Server>,
    _dir: Option<tempfile::TempDir>,
}

pub async fn open_engine(db_url: &str, clock: Arc<ManualClock>) -> Engine {
    let store = Store::connect_with(
        db_url,
        &PoolSizes {
            sqlite_readers: 2,
            postgres: 6,
            ..PoolSizes::default()
        },
    )
    .await
    .expect("connect");
    store.migrate().await.expect("migrate");
    let engine = Engine::new(store, clock).await.expect("engine");
    engine.start_change_feed().await.expect("change feed");
    engine
}

impl TestApp {
    pub async fn spawn(db: Db) -> TestApp {
        Self::spawn_with(db, Self::relaxed()).await
    }

    /// The options of most tests: a rate limit no test reaches.
    pub fn relaxed() -> AppOptions {
        AppOptions {
            rate_limit: RateLimit {
                per_second: 10_000.0,
                burst: 10_000.0,
            },
            ..AppOptions::default()
        }
    }

    pub async fn spawn_with(db: Db, options: AppOptions) -> TestApp {
        let (db_url, dir) = match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                (
                    format!("sqlite://{}", dir.path().join("doorbraak.db").display()),
                    Some(dir),
                )
            }
            Db::Postgres => (pg_database().await, None),
        };
        Self::spawn_at(db_url, dir, options).await
    }

    /// A server over the database at `db_url` (already created, empty).
    pub async fn spawn_at(
        db_url: String,
        dir: Option<tempfile::TempDir>,
        options: AppOptions,
    ) -> TestApp {
        let clock = Arc::new(ManualClock::new(t0()));
        let engine = open_engine(&db_url, clock.clone()).await;
        let admin = engine
            .bootstrap_administrator()
            .await
            .expect("bootstrap")
            .expect("a token");
        let mut t = TestApp {
            base: String::new(),
            db_url,
            clock,
            engine,
            admin,
            options,
            port: 0,
            client: reqwest::Client::new(),
            server: None,
            _dir: dir,
        };
        t.start().await;
        t
    }

    /// A second instance over the same database: an engine and a server of
    /// its own, the same clock and administrator. (On PostgreSQL: the way
    /// to run more than one.)
    pub async fn beside(&self) -> TestApp {
        let mut t = TestApp {
            base: String::new(),
            db_url: self.db_url.clone(),
            clock: self.clock.clone(),
            engine: open_engine(&self.db_url, self.clock.clone()).await,
            admin: self.admin.clone(),
            options: self.options.clone(),
            port: 0,
            client: reqwest::Client::new(),
            server: None,
            _dir: None,
        };
        t.start().await;
        t
    }

    /// A server on a given port (for a provider that must know the
    /// redirect URI before the server starts).
    pub async fn spawn_on(db: Db, options: AppOptions, port: u16) -> TestApp {
        let mut app = Self::spawn_with(db, options).await;
        if let Some(s) = app.server.take() {
            s.stop(Duration::from_secs(10))
                .await
                .expect("graceful stop");
        }
        app.port = port;
        app.start().await;
        app
    }

    async fn start(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind");
        let server =
            Server::start(listener, app(self.engine.clone(), &self.options)).expect("start");
        self.base = format!("http://{}", server.addr);
        self.server = Some(server);
    }

    /// Stops the server and closes the database, then opens both again.
    pub async fn restart(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop(Duration::from_secs(10))
                .await
                .expect("graceful stop");
        }
        self.engine.close().await;
        self.engine = open_engine(&self.db_url, self.clock.clone()).await;
        self.start().await;
    }

    pub fn advance_days(&self, days: i64) {
        self.clock.advance(chrono::TimeDelta::days(days));
    }

    /// Posts a GraphQL request and returns the whole JSON response.
    pub async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("a JSON body"))
    }

    /// Runs a query that must succeed and returns its `data`.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self.post(Some(token), query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Runs a query that must fail; returns the first error's code and the error.
    pub async fn err(&self, token: Option<&str>, query: &str, variables: Value) -> (String, Value) {
        let (_, body) = self.post(token, query, variables).await;
        let e = body["errors"][0].clone();
        assert!(!e.is_null(), "expected an error, got {body}");
        (
            e["extensions"]["code"]
                .as_str()
                .unwrap_or("<none>")
                .to_owned(),
            e,
        )
    }

    /// Creates a user through the API and returns their token.
    pub async fn user(
        &self,
        name: &str,
        role: &str,
        areas: &[&str],
        ministry: Option<&str>,
    ) -> String {
        let d = self
            .ok(
                &self.admin,
                "mutation($i: CreateUserInput!) { createUser(input: $i) { token user { id role } } }",
                json!({ "i": { "name": name, "role": role, "areas": areas, "ministry": ministry } }),
            )
            .await;
        d["createUser"]["token"].as_str().expect("token").to_owned()
    }
}

// ---------------------------------------------------------------- the cast

/// One user per role around the focus area ZDO, plus some from elsewhere.
pub struct Cast {
    pub prof: String,
    pub other_prof: String,
    pub pb: String,
    pub secretary: String,
    pub rep: String,
    pub rep2: String,
    pub rep_elsewhere: String,
    pub secretariat: String,
    pub analyst: String,
}

pub async fn cast(app: &TestApp) -> Cast {
    Cast {
        prof: app
            .user("Petra Professional", "PROFESSIONAL", &["ZDO"], None)
            .await,
        other_prof: app
            .user("Otto Professional", "PROFESSIONAL", &["ZDO"], None)
            .await,
        pb: app
            .user("Bram Bureau", "PROGRAMME_BUREAU", &["ZDO"], None)
            .await,
        secretary: app
            .user("Sanne Secretaris", "ALLIANCE_SECRETARY", &["ZDO"], None)
            .await,
        rep: app
            .user(
                "Rik Rijksvertegenwoordiger",
                "NATIONAL_REPRESENTATIVE",
                &["ZDO", "RTZ"],
                Some("SZW"),
            )
            .await,
        rep2: app
            .user(
                "Roos Rijksvertegenwoordiger",
                "NATIONAL_REPRESENTATIVE",
                &["ZDO"],
                Some("BZK"),
            )
            .await,
        rep_elsewhere: app
            .user(
                "Ruud Elders",
                "NATIONAL_REPRESENTATIVE",
                &["TNW"],
                Some("OCW"),
            )
            .await,
        secretariat: app
            .user("Dewi Doorbraak", "BREAKTHROUGH_SECRETARIAT", &[], None)
            .await,
        analyst: app
            .user("Anna Analist", "MINISTRY_ANALYST", &[], Some("SZW"))
            .await,
    }
}

pub const CASE_FIELDS: &str = "id reference state level version deadline overdue availableActions holderRole \
    assignee { name } submittedBy { name } resolution { outcome explanation fundsUnlocked level decidedAt } \
    mergedInto { reference } events { sequence action fromState toState actorRole note at actor { name } }";

/// The sequence numbers of a case's `events`, in the order given.
pub fn sequences(case: &Value) -> Vec<i64> {
    case["events"]
        .as_array()
        .expect("the case's events")
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect()
}

pub fn submit_vars(title: &str) -> Value {
    json!({ "i": {
        "title": title,
        "description": "Ouders mogen niet om beurten op elkaars peuters passen terwijl de anderen taalles volgen.",
        "focusArea": "ZDO",
        "domains": ["YOUTH", "EDUCATION"],
        "rule": { "citation": "Wet kinderopvang art. 1.45", "bwbId": "BWBR0017017", "scope": "NATIONAL", "owningMinistry": "SZW" },
        "desiredAction": "Een oppasrooster tussen ouders toestaan tijdens de taalles.",
        "householdsAffected": 14,
        "estimatedCost": "12500.50",
        "urgency": "URGENT"
    }})
}

impl TestApp {
    /// Submits a case as `prof` and returns it.
    pub async fn submit(&self, prof: &str, title: &str) -> Value {
        let q = format!(
            "mutation($i: SubmitCaseInput!) {{ submitCase(input: $i) {{ {CASE_FIELDS} }} }}"
        );
        self.ok(prof, &q, submit_vars(title)).await["submitCase"].clone()
    }

    /// Runs a case mutation `name(id, expectedVersion, <args>)` that must succeed.
    pub async fn act(&self, token: &str, name: &str, case: &Value, args: &str) -> Value {
        let (code, body) = self.try_act(token, name, case, args).await;
        assert!(code.is_none(), "{name} failed: {body}");
        body["data"][name].clone()
    }

    /// Runs a case mutation; returns the error code (if any) and the body.
    pub async fn try_act(
        &self,
        token: &str,
        name: &str,
        case: &Value,
        args: &str,
    ) -> (Option<String>, Value) {
        let sep = if args.is_empty() { "" } else { ", " };
        let q = format!(
            "mutation($id: ID!, $v: Int!) {{ {name}(id: $id, expectedVersion: $v{sep}{args}) {{ {CASE_FIELDS} }} }}"
        );
        let vars = json!({ "id": case["id"], "v": case["version"] });
        let (_, body) = self.post(Some(token), &q, vars).await;
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .map(str::to_owned);
        (code, body)
    }

    /// Takes a case at the programme bureau up to the national
    /// representative of the cast, who picks it up.
    pub async fn to_representative(&self, c: &Cast, case: &Value) -> Value {
        let case = self
            .act(
                &c.pb,
                "escalateCase",
                case,
                r#"motivation: "Naar de alliantie.""#,
            )
            .await;
        let case = self
            .act(
                &c.secretary,
                "escalateCase",
                &case,
                r#"motivation: "Naar het Rijk.""#,
            )
            .await;
        self.act(&c.rep, "pickUpCase", &case, "").await
    }

    /// Reads a case as `token` (null when not visible).
    pub async fn case(&self, token: &str, id: &Value) -> Value {
        let q = format!("query($id: ID) {{ case(id: $id) {{ {CASE_FIELDS} }} }}");
        self.ok(token, &q, json!({ "id": id })).await["case"].clone()
    }
}

// ---------------------------------------------------------------- locks

/// Another client holding a lock, to make the server wait.
pub enum Lock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Lock {
    /// Holds what a transition of case `id` needs: its row on PostgreSQL,
    /// the database's write lock on SQLite.
    pub async fn take(db_url: &str, id: i64) -> Lock {
        use sqlx::Connection;
        if db_url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(db_url)
                .await
                .expect("connect");
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut c)
                .await
                .expect("lock");
            Lock::Sqlite(c)
        } else {
            let mut c = sqlx::PgConnection::connect(db_url).await.expect("connect");
            sqlx::query("BEGIN").execute(&mut c).await.expect("begin");
            sqlx::query("SELECT id FROM cases WHERE id = $1 FOR UPDATE")
                .bind(id)
                .execute(&mut c)
                .await
                .expect("lock the row");
            Lock::Postgres(c)
        }
    }

    /// Holds the whole cases table on PostgreSQL, so that even readers wait.
    pub async fn table(db_url: &str) -> Lock {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(db_url).await.expect("connect");
        sqlx::query("BEGIN").execute(&mut c).await.expect("begin");
        sqlx::query("LOCK TABLE cases IN ACCESS EXCLUSIVE MODE")
            .execute(&mut c)
            .await
            .expect("lock the table");
        Lock::Postgres(c)
    }

    pub async fn release(self) {
        use sqlx::Connection;
        match self {
            Lock::Sqlite(mut c) => {
                sqlx::query("ROLLBACK")
                    .execute(&mut c)
                    .await
                    .expect("unlock");
                let _ = c.close().await;
            }
            Lock::Postgres(mut c) => {
                sqlx::query("ROLLBACK")
                    .execute(&mut c)
                    .await
                    .expect("unlock");
                let _ = c.close().await;
            }
        }
    }
}
