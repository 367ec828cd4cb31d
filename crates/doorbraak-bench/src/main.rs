//! `doorbraak-bench`: how fast is one transition, compared with the raw
//! database limit measured in the same run on the same machine?
//!
//! Three loops, each for `--seconds`, one client at a time (sequential):
//! 1. **raw**: the database alone, through sqlx, doing what a transition
//!    does in SQL: one transaction with a version-guarded `UPDATE` of a case
//!    row and an `INSERT` of an event row;
//! 2. **engine**: `Engine::act` (pick up, release, alternately): read, rules,
//!    one transaction, in process;
//! 3. **http**: the same mutations as GraphQL over HTTP to the real server.
//!
//! It prints transitions per second, p50 and p99 latency, and the ratios
//! engine/raw and http/raw. Run it with `cargo run --release -p
//! doorbraak-bench -- [--seconds N] [--database-url URL]` (SQLite in a
//! temporary directory by default).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use doorbraak_core::{PolicyDomain, Role, RuleScope, SubmitInput, Urgency};
use doorbraak_engine::{CommandInput, Engine, SystemClock};
use doorbraak_server::{AppOptions, RateLimit, Server, app};
use doorbraak_store::Store;
use serde_json::json;

struct Stats {
    name: &'static str,
    count: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Stats {
    fn rate(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }
    fn pct(&self, q: f64) -> Duration {
        let mut v = self.latencies.clone();
        v.sort();
        let i = ((q / 100.0) * v.len() as f64).ceil() as usize;
        v.get(i.clamp(1, v.len().max(1)) - 1)
            .copied()
            .unwrap_or_default()
    }
}

async fn timed<F, Fut>(name: &'static str, seconds: u64, mut step: F) -> Result<Stats>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let start = Instant::now();
    let mut latencies = Vec::new();
    let mut i = 0;
    while start.elapsed() < Duration::from_secs(seconds) {
        let t = Instant::now();
        step(i).await?;
        latencies.push(t.elapsed());
        i += 1;
    }
    Ok(Stats {
        name,
        count: i,
        elapsed: start.elapsed(),
        latencies,
    })
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

#[tokio::main]
async fn main() -> Result<()> {
    let mut seconds = 5u64;
    let mut url: Option<String> = None;
    let mut sync = doorbraak_store::SqliteSync::Normal;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => seconds = args.next().context("--seconds N")?.parse()?,
            "--database-url" => url = Some(args.next().context("--database-url URL")?),
            "--sqlite-synchronous" => {
                sync = args
                    .next()
                    .context("--sqlite-synchronous normal|full")?
                    .parse()
                    .map_err(|e: String| anyhow!(e))?
            }
            other => return Err(anyhow!("unknown argument {other}")),
        }
    }
    let dir = tempfile::tempdir()?;
    let url = url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let sizes = doorbraak_store::PoolSizes {
        sqlite_sync: sync,
        ..doorbraak_store::PoolSizes::default()
    };
    let store = Store::connect_with(&url, &sizes)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    store.migrate().await.map_err(|e| anyhow!("{e}"))?;
    let engine = Engine::new(store.clone(), Arc::new(SystemClock))
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let (prof, _) = engine
        .create_user("Bench Prof", Role::Professional, &[], None)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let (pb, pb_token) = engine
        .create_user("Bench Bureau", Role::ProgrammeBureau, &["ZDO".into()], None)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let (prof, pb) = (prof.principal(), pb.principal());
    let mut case_ids = Vec::new();
    for n in 0..3 {
        case_ids.push(
            engine
                .submit(&prof, &input(n))
                .await
                .map_err(|e| anyhow!("{e}"))?
                .id,
        );
    }

    // 1. The raw database: the same SQL a transition issues, nothing else.
    let raw_case = case_ids[0];
    let raw = match store.backend() {
        doorbraak_store::Backend::Sqlite => {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&url).await?;
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&mut c)
                .await?;
            let pragma = match sync {
                doorbraak_store::SqliteSync::Normal => "PRAGMA synchronous=NORMAL",
                doorbraak_store::SqliteSync::Full => "PRAGMA synchronous=FULL",
            };
            sqlx::query(pragma).execute(&mut c).await?;
            let c = tokio::sync::Mutex::new(c);
            timed("raw", seconds, |i| {
                let c = &c;
                async move {
                    let mut c = c.lock().await;
                    let mut tx = c.begin().await?;
                    let version = i as i64 + 1;
                    sqlx::query("UPDATE cases SET version = version + 1, updated_at = ? WHERE id = ? AND version = ?")
                        .bind(i as i64)
                        .bind(raw_case)
                        .bind(version)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("INSERT INTO case_events (case_id, sequence, action, from_state, to_state, actor_id, actor_role, note, at, effect) VALUES (?, ?, 'PICK_UP', 'AT_PROGRAMME_BUREAU', 'AT_PROGRAMME_BUREAU', ?, 'PROGRAMME_BUREAU', NULL, ?, '{}')")
                        .bind(raw_case)
                        .bind(version as i32 + 1)
                        .bind(pb.id)
                        .bind(i as i64)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(())
                }
            })
            .await?
        }
        doorbraak_store::Backend::Postgres => {
            use sqlx::Connection;
            let c = tokio::sync::Mutex::new(sqlx::PgConnection::connect(&url).await?);
            timed("raw", seconds, |i| {
                let c = &c;
                async move {
                    let mut c = c.lock().await;
                    let mut tx = c.begin().await?;
                    let version = i as i32 + 1;
                    sqlx::query("UPDATE cases SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3")
                        .bind(i as i64)
                        .bind(raw_case)
                        .bind(version)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("INSERT INTO case_events (case_id, sequence, action, from_state, to_state, actor_id, actor_role, note, at, effect) VALUES ($1, $2, 'PICK_UP', 'AT_PROGRAMME_BUREAU', 'AT_PROGRAMME_BUREAU', $3, 'PROGRAMME_BUREAU', NULL, $4, '{}')")
                        .bind(raw_case)
                        .bind(version + 1)
                        .bind(pb.id)
                        .bind(i as i64)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(())
                }
            })
            .await?
        }
    };

    // 2. The engine, in process: pick up and release, alternately.
    let engine_case = case_ids[1];
    let eng = timed("engine", seconds, |i| {
        let (engine, pb) = (&engine, &pb);
        async move {
            let cmd = if i % 2 == 0 {
                CommandInput::PickUp
            } else {
                CommandInput::Release
            };
            engine
                .act(pb, engine_case, i as i32 + 1, cmd)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            Ok(())
        }
    })
    .await?;

    // 3. GraphQL over HTTP, to the real server.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let options = AppOptions {
        rate_limit: RateLimit {
            per_second: 1e9,
            burst: 1e9,
        },
        ..AppOptions::default()
    };
    let server = Server::start(listener, app(engine.clone(), &options))?;
    let endpoint = format!("http://{}/graphql", server.addr);
    let client = reqwest::Client::new();
    let http_case = case_ids[2];
    let http = timed("http", seconds, |i| {
        let (client, endpoint, token) = (&client, &endpoint, &pb_token);
        async move {
            let m = if i % 2 == 0 { "pickUpCase" } else { "releaseCase" };
            let q = format!("mutation($id: ID!, $v: Int!) {{ {m}(id: $id, expectedVersion: $v) {{ version }} }}");
            let r: serde_json::Value = client
                .post(endpoint)
                .bearer_auth(token)
                .json(&json!({ "query": q, "variables": { "id": http_case.to_string(), "v": i + 1 } }))
                .send()
                .await?
                .json()
                .await?;
            if r.get("errors").is_some() {
                return Err(anyhow!("{r}"));
            }
            Ok(())
        }
    })
    .await?;
    server.stop(Duration::from_secs(5)).await?;

    println!(
        "backend: {:?}, {seconds} s per loop, one client",
        store.backend()
    );
    println!(
        "{:<8} {:>10} {:>10} {:>10} {:>10}",
        "loop", "count", "per s", "p50 ms", "p99 ms"
    );
    for s in [&raw, &eng, &http] {
        println!(
            "{:<8} {:>10} {:>10.0} {:>10.3} {:>10.3}",
            s.name,
            s.count,
            s.rate(),
            s.pct(50.0).as_secs_f64() * 1e3,
            s.pct(99.0).as_secs_f64() * 1e3
        );
    }
    println!("ratio engine/raw: {:.2}", eng.rate() / raw.rate());
    println!("ratio http/raw:   {:.2}", http.rate() / raw.rate());
    Ok(())
}
