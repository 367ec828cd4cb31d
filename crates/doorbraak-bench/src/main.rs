//! `doorbraak-bench`: how close is the service to its database's limit?
//!
//! Every figure is a ratio to something measured in the same run on the
//! same machine, because these machines are shared and noisy:
//!
//! * **raw**: the database alone doing a transition's minimal transaction
//!   (rusqlite for SQLite, pgbench for PostgreSQL; see `raw.rs`);
//! * **floor**: the real server (`doorbraak serve`, a separate process)
//!   answering `{ __typename }` over HTTP: what the protocol costs;
//! * **http**: transitions (pick up, release, alternately) as GraphQL over
//!   HTTP to that server, N clients in a closed loop; for it and the floor
//!   the server process's CPU time per request is measured too;
//! * **echo**: one client's round trip over loopback to a process that
//!   only sends back what it gets (`echo.rs`): the least latency any
//!   server can answer with here;
//! * **open**: the same transitions at a fixed arrival rate of 80% of the
//!   best closed-loop rate, latency counted from each request's scheduled
//!   arrival.
//!
//! `scripts/bench.sh` runs it on SQLite (NORMAL and FULL) and on a
//! throwaway PostgreSQL cluster; the README explains how to read it.

mod echo;
mod load;
mod raw;
mod scale;
mod wire;

/// The same allocator as the server's (`doorbraak`), so the engine in
/// process is measured as it runs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use doorbraak_core::{PolicyDomain, Role, RuleScope, SubmitInput, Urgency};
use doorbraak_engine::{Engine, SystemClock};
use doorbraak_store::{Backend, SqliteSync, Store};
use load::{Client, Run};

struct Args {
    /// `scale --cases 10000,1000000`: the read benchmark instead.
    scale: Option<Vec<usize>>,
    seconds: u64,
    clients: Vec<usize>,
    url: Option<String>,
    sync: SqliteSync,
    server: PathBuf,
    pgbench: String,
    /// The open loop's arrival rate, as a share of the best closed-loop
    /// rate (P2 asks for 0.8).
    open_share: f64,
}

fn args() -> Result<Args> {
    let exe = std::env::current_exe()?;
    let mut a = Args {
        scale: None,
        seconds: 5,
        clients: vec![1, 16],
        url: None,
        sync: SqliteSync::Normal,
        server: exe.with_file_name("doorbraak"),
        pgbench: "pgbench".into(),
        open_share: 0.8,
    };
    let mut it = std::env::args().skip(1).peekable();
    if it.peek().map(String::as_str) == Some("echo-server") {
        echo::serve()?;
        bail!("the echo server stopped");
    }
    if it.peek().map(String::as_str) == Some("scale") {
        it.next();
        a.scale = Some(vec![10_000, 1_000_000]);
    }
    while let Some(k) = it.next() {
        let mut v = || it.next().with_context(|| format!("{k} wants a value"));
        match k.as_str() {
            "--seconds" => a.seconds = v()?.parse()?,
            "--clients" => {
                a.clients = v()?
                    .split(',')
                    .map(|s| {
                        s.trim()
                            .parse::<usize>()
                            .map_err(|e| anyhow!("--clients: {e}"))
                    })
                    .collect::<Result<_>>()?
            }
            "--database-url" => a.url = Some(v()?),
            "--sqlite-synchronous" => a.sync = v()?.parse().map_err(|e: String| anyhow!(e))?,
            "--server" => a.server = v()?.into(),
            "--pgbench" => a.pgbench = v()?,
            "--open-share" => a.open_share = v()?.parse()?,
            "--cases" if a.scale.is_some() => {
                a.scale = Some(
                    v()?.split(',')
                        .map(|s| {
                            s.trim()
                                .parse::<usize>()
                                .map_err(|e| anyhow!("--cases: {e}"))
                        })
                        .collect::<Result<_>>()?,
                )
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if a.clients.is_empty() || a.clients.contains(&0) {
        bail!("--clients wants numbers above 0, e.g. 1,16");
    }
    Ok(a)
}

fn input(n: usize) -> SubmitInput {
    SubmitInput {
        title: format!("Benchmarkzaak {n}"),
        description: "Een zaak om transities mee te meten, zonder persoonsgegevens.".into(),
        focus_area: "ZDO".into(),
        domains: vec![PolicyDomain::Other],
        rule_citation: "Regeling art. 1".into(),
        rule_bwb_id: None,
        rule_scope: Some(RuleScope::Municipal),
        rule_owning_ministry: None,
        desired_action: "Meten hoe snel het gaat.".into(),
        households_affected: None,
        estimated_cost: None,
        urgency: Urgency::Normal,
    }
}

/// About the size of a pick-up's or release's HTTP request as [`Mover`]
/// sends it (headers, token and body), for the echo loop.
const TRANSITION_REQUEST_BYTES: usize = 330;

/// A client that moves its own case: pick up, release, pick up, …
struct Mover {
    conn: wire::Conn,
    token: Arc<str>,
    case: i64,
    version: i32,
}

impl Client for Mover {
    async fn step(&mut self) -> Result<()> {
        let m = if self.version % 2 == 1 {
            "pickUpCase"
        } else {
            "releaseCase"
        };
        let body = format!(
            r#"{{"query":"mutation($id: ID!, $v: Int!) {{ {m}(id: $id, expectedVersion: $v) {{ version }} }}","variables":{{"id":"{}","v":{}}}}}"#,
            self.case, self.version
        );
        self.conn.graphql(&self.token, &body).await?;
        self.version += 1;
        Ok(())
    }
}

/// A client that asks `{ __typename }`: the bare request.
struct Bare {
    conn: wire::Conn,
    token: Arc<str>,
}

impl Client for Bare {
    async fn step(&mut self) -> Result<()> {
        self.conn
            .graphql(&self.token, r#"{"query":"{ __typename }"}"#)
            .await?;
        Ok(())
    }
}

/// A client of the engine in this process: no HTTP, no GraphQL.
struct InProcess {
    engine: Engine,
    actor: doorbraak_core::Principal,
    case: i64,
    version: i32,
}

impl Client for InProcess {
    async fn step(&mut self) -> Result<()> {
        let cmd = if self.version % 2 == 1 {
            doorbraak_engine::CommandInput::PickUp
        } else {
            doorbraak_engine::CommandInput::Release
        };
        self.engine
            .act(&self.actor, self.case, self.version, cmd)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        self.version += 1;
        Ok(())
    }
}

struct Fixture {
    engine: Engine,
    principal: doorbraak_core::Principal,
    url: String,
    sqlite_path: Option<PathBuf>,
    backend: Backend,
    actor: i64,
    token: Arc<str>,
    /// Fresh cases at version 1, taken by the loops in turn.
    cases: std::collections::VecDeque<i64>,
}

impl Fixture {
    fn take(&mut self, n: usize) -> Result<Vec<i64>> {
        if self.cases.len() < n {
            bail!("the fixture ran out of cases");
        }
        Ok(self.cases.drain(..n).collect())
    }
}

async fn fixture(a: &Args, dir: &std::path::Path, cases: usize) -> Result<Fixture> {
    let sqlite_path = dir.join("bench.db");
    let url = a
        .url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", sqlite_path.display()));
    let sizes = doorbraak_store::PoolSizes {
        sqlite_sync: a.sync,
        ..Default::default()
    };
    let store = Store::connect_with(&url, &sizes)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    store.migrate().await.map_err(|e| anyhow!("{e}"))?;
    let backend = store.backend();
    let engine = Engine::new(store, Arc::new(SystemClock))
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let (prof, _) = engine
        .create_user("Bench Prof", Role::Professional, &[], None)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let (pb, token) = engine
        .create_user("Bench Bureau", Role::ProgrammeBureau, &["ZDO".into()], None)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let prof = prof.principal();
    let mut ids = std::collections::VecDeque::new();
    for n in 0..cases {
        ids.push_back(
            engine
                .submit(&prof, &input(n))
                .await
                .map_err(|e| anyhow!("{e}"))?
                .id,
        );
    }
    Ok(Fixture {
        engine,
        principal: pb.principal(),
        url,
        sqlite_path: (backend == Backend::Sqlite).then_some(sqlite_path),
        backend,
        actor: pb.id,
        token: token.into(),
        cases: ids,
    })
}

/// `doorbraak serve` in its own process, on a free port.
struct ServerProcess {
    child: tokio::process::Child,
    addr: String,
}

impl ServerProcess {
    async fn start(a: &Args, url: &str, dir: &std::path::Path) -> Result<ServerProcess> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(dir.join("server.log"))?;
        let child = tokio::process::Command::new(&a.server)
            .arg("serve")
            .env("DATABASE_URL", url)
            .env("DOORBRAAK_ADDR", &addr)
            .env("DOORBRAAK_RATE_LIMIT", "1000000000")
            .env("DOORBRAAK_RATE_BURST", "1000000000")
            .env(
                "DOORBRAAK_SQLITE_SYNCHRONOUS",
                match a.sync {
                    SqliteSync::Normal => "normal",
                    SqliteSync::Full => "full",
                },
            )
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", a.server.display()))?;
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(&addr).await.is_ok() {
                return Ok(ServerProcess { child, addr });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!(
            "the server did not start; see {}",
            dir.join("server.log").display()
        )
    }
}

/// `n` clients asking bare requests, each on its own connection.
async fn bares(s: &ServerProcess, f: &Fixture, n: usize) -> Result<Vec<Bare>> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(Bare {
            conn: wire::Conn::open(&s.addr).await?,
            token: f.token.clone(),
        });
    }
    Ok(out)
}

async fn movers(s: &ServerProcess, f: &mut Fixture, n: usize) -> Result<Vec<Mover>> {
    let mut out = Vec::new();
    for case in f.take(n)? {
        out.push(Mover {
            conn: wire::Conn::open(&s.addr).await?,
            token: f.token.clone(),
            case,
            version: 1,
        });
    }
    Ok(out)
}

/// SQLite's group commit as the server's `/metrics` counts it: the
/// writer thread's batches, the transitions in them, and the batches it
/// held open for transitions on their way (`None` on PostgreSQL, or when
/// the answer cannot be read).
async fn group_commits(addr: &str) -> Option<(u64, u64, u64)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    let ask = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(ask.as_bytes()).await.ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).await.ok()?;
    let value = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    };
    Some((
        value("doorbraak_sqlite_write_batches_total")?,
        value("doorbraak_sqlite_batched_transitions_total")?,
        value("doorbraak_sqlite_batches_held_open_total")?,
    ))
}

/// A warning when the open loop's median is more than five times the
/// busiest closed loop's (whose clients each wait for the others): the
/// server fell behind the arrivals and a queue stood, so the ratio of
/// its percentiles says nothing about the tail (it can even look good).
fn queue_note(open: &Run, closed: &[Run]) -> String {
    let busiest = closed.iter().max_by_key(|r| r.clients);
    match busiest {
        Some(c) if open.ms(50.0) > 5.0 * c.ms(50.0) => format!(
            " (a standing queue: p50 {:.1} ms against {:.1} ms closed; not a pass)",
            open.ms(50.0),
            c.ms(50.0)
        ),
        _ => String::new(),
    }
}

fn print_runs(runs: &[Run]) {
    println!(
        "{:<6} {:>7} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9} {:>6} {:>8} {:>9}",
        "loop",
        "clients",
        "count",
        "per s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "server µs",
        "sys %",
        "switches",
        "client µs"
    );
    for r in runs {
        println!(
            "{:<6} {:>7} {:>9} {:>9.0} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>9} {:>6} {:>8} {:>9}",
            r.name,
            r.clients,
            r.count,
            r.rate(),
            r.ms(50.0),
            r.ms(90.0),
            r.ms(99.0),
            r.hist.max() as f64 / 1000.0,
            r.server_us()
                .map_or_else(|| "-".to_owned(), |u| format!("{u:.1}")),
            r.server_system_pct()
                .map_or_else(|| "-".to_owned(), |u| format!("{u:.0}")),
            r.server_switches()
                .map_or_else(|| "-".to_owned(), |u| format!("{u:.2}")),
            r.client_us()
                .map_or_else(|| "-".to_owned(), |u| format!("{u:.1}"))
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let a = args()?;
    if let Some(sizes) = &a.scale {
        return scale::run(&a, sizes).await;
    }
    let dir = tempfile::tempdir()?;
    let secs = Duration::from_secs(a.seconds);
    let warm = Duration::from_millis(500);
    let most = a.clients.iter().copied().max().unwrap_or(1);
    let need = 2 * a.clients.iter().sum::<usize>() + most + 64 + 1;
    let mut f = fixture(&a, dir.path(), need).await?;

    // 1. Raw ceilings, with the server not yet running.
    let mut raws = Vec::new();
    match f.backend {
        Backend::Sqlite => {
            let path = f
                .sqlite_path
                .clone()
                .ok_or_else(|| anyhow!("no SQLite path"))?;
            let case = f.take(1)?[0];
            let actor = f.actor;
            let full = a.sync == SqliteSync::Full;
            let r =
                tokio::task::spawn_blocking(move || raw::sqlite(&path, full, case, 1, actor, secs))
                    .await??;
            for &n in &a.clients {
                // One writer at a time: the single loop is the ceiling for any N.
                raws.push(Run {
                    clients: n,
                    ..r.clone()
                });
            }
        }
        Backend::Postgres => {
            for &n in &a.clients {
                let first = f.take(n)?[0];
                raws.push(raw::pgbench(
                    &a.pgbench,
                    &f.url,
                    n,
                    first,
                    f.actor,
                    secs,
                    dir.path(),
                )?);
            }
        }
    }

    // The loopback round trip, with a request of a transition's size.
    let echo = echo::measure(TRANSITION_REQUEST_BYTES, warm, secs).await?;

    // 2. The engine in this process (what HTTP and GraphQL add is the
    //    difference to the next loop).
    let mut engines = Vec::new();
    for &n in &a.clients {
        let clients = f
            .take(n)?
            .into_iter()
            .map(|case| InProcess {
                engine: f.engine.clone(),
                actor: f.principal.clone(),
                case,
                version: 1,
            })
            .collect();
        engines.push(load::closed("engine", clients, warm, secs).await?);
    }

    // 3. The real server: the bare-request floor, then transitions.
    let mut server = ServerProcess::start(&a, &f.url, dir.path()).await?;
    let mut floors = Vec::new();
    let mut https = Vec::new();
    let mut commits = Vec::new();
    for &n in &a.clients {
        let bare = bares(&server, &f, n).await?;
        let pid = server.child.id();
        floors.push(load::closed_watching("floor", bare, warm, secs, pid).await?);
        let m = movers(&server, &mut f, n).await?;
        let before = group_commits(&server.addr).await;
        https.push(load::closed_watching("http", m, warm, secs, pid).await?);
        if let (Some(b), Some(a)) = (before, group_commits(&server.addr).await) {
            commits.push((n, a.0 - b.0, a.1 - b.1, a.2 - b.2));
        }
    }
    let pid = server.child.id();
    let best = https.iter().map(Run::rate).fold(0.0, f64::max);
    let rate = (best * a.open_share).max(1.0);
    let pool = movers(&server, &mut f, 64).await?;
    let open = load::open("open", pool, rate, warm, secs, pid).await?;
    // The same for bare requests: the tail the protocol, the server's
    // runtime and this machine give at that share of their own best rate.
    let best_floor = floors.iter().map(Run::rate).fold(0.0, f64::max);
    let floor_rate = (best_floor * a.open_share).max(1.0);
    let bare = bares(&server, &f, 64).await?;
    let open_floor = load::open("open-b", bare, floor_rate, warm, secs, pid).await?;
    server.child.kill().await.ok();

    println!(
        "backend: {:?}{}, {} s per loop after {} ms warm-up, server `doorbraak serve` in its own process",
        f.backend,
        match (f.backend, a.sync) {
            (Backend::Sqlite, SqliteSync::Normal) => " (synchronous=NORMAL)",
            (Backend::Sqlite, SqliteSync::Full) => " (synchronous=FULL)",
            _ => " (synchronous_commit=on)",
        },
        a.seconds,
        warm.as_millis()
    );
    let all: Vec<Run> = raws
        .iter()
        .chain([&echo])
        .chain(&engines)
        .chain(&floors)
        .chain(&https)
        .chain([&open, &open_floor])
        .cloned()
        .collect();
    print_runs(&all);
    println!(
        "open loop: {rate:.0} arrivals per second ({:.0}% of the best closed-loop rate, {best:.0}/s)",
        a.open_share * 100.0
    );
    for (n, batches, transitions, held) in &commits {
        println!(
            "group commit, http at {n}: {transitions} transitions in {batches} batches of the writer thread, {:.2} per COMMIT, {:.0}% held open for more (warm-up included)",
            *transitions as f64 / (*batches).max(1) as f64,
            100.0 * *held as f64 / (*batches).max(1) as f64
        );
    }
    println!();
    println!("ratios (target in brackets):");
    let target_raw = if f.backend == Backend::Postgres {
        0.50
    } else {
        0.25
    };
    for ((raw, floor), http) in raws.iter().zip(&floors).zip(&https) {
        println!(
            "  {:>2} clients: http/raw {:.2} [P1/P3 at 16: >= {:.2}]   http/floor {:.2} [P3 at 16: >= 0.50]",
            http.clients,
            http.rate() / raw.rate(),
            target_raw,
            http.rate() / floor.rate()
        );
        if let (Some(h), Some(b)) = (http.server_us(), floor.server_us()) {
            println!(
                "              server CPU per transition / per bare request {:.2} ({h:.1} / {b:.1} µs)",
                h / b
            );
        }
    }
    if let (Some(raw1), Some(http1)) = (
        raws.iter().find(|r| r.clients == 1),
        https.iter().find(|r| r.clients == 1),
    ) {
        println!(
            "  1 client: http p50 / raw p50 {:.2} [P2: <= 3]   (a bare loopback round trip, echo p50, is {:.2} x raw p50)",
            http1.ms(50.0) / raw1.ms(50.0),
            echo.ms(50.0) / raw1.ms(50.0)
        );
    }
    println!(
        "  open loop at {:.0}%: p99 / p50 {:.2} [P2 at 80%: <= 4]{}   (bare requests at {:.0}% of theirs, {floor_rate:.0}/s: {:.2}{})",
        a.open_share * 100.0,
        open.ms(99.0) / open.ms(50.0),
        queue_note(&open, &https),
        a.open_share * 100.0,
        open_floor.ms(99.0) / open_floor.ms(50.0),
        queue_note(&open_floor, &floors)
    );
    Ok(())
}
