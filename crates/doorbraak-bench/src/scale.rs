//! `doorbraak-bench scale`: do the reads stay flat as the cases grow?
//!
//! For each size (default 10,000 and 1,000,000 cases) a fresh SQLite file
//! is filled by `Engine::generate` (timed, and compared with a raw bulk
//! insert of the same rows through rusqlite into another fresh file), then
//! the real server (`doorbraak serve`, its own process) answers the reads
//! people wait for: a programme bureau's queue, the overdue list, the
//! barrier register, the precedent search and ministry statistics (without
//! a filter, and by area, domain and period). Each read runs in a closed
//! loop with two clients; the server's peak memory is its `VmHWM`. The
//! ratios printed are largest size over smallest.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use doorbraak_core::Role;
use doorbraak_engine::{Engine, SystemClock};
use doorbraak_store::{PoolSizes, SqliteSync, Store};

use crate::load::{self, Client, Run};
use crate::{ServerProcess, wire};

/// One GraphQL read, asked again and again.
struct Reader {
    conn: wire::Conn,
    token: Arc<str>,
    body: Arc<str>,
    /// Answers that were refused (the server stops a request after its
    /// time limit, 10 s by default): counted, and their time recorded.
    refused: Arc<std::sync::atomic::AtomicU64>,
}

impl Client for Reader {
    async fn step(&mut self) -> Result<()> {
        if let Err(e) = self.conn.graphql(&self.token, &self.body).await {
            if !e.to_string().contains("TOO_COMPLEX") {
                return Err(e);
            }
            self.refused
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }
}

fn body(query: &str) -> String {
    serde_json::json!({ "query": query }).to_string()
}

struct Size {
    cases: usize,
    generate_rows_per_s: f64,
    raw_rows_per_s: f64,
    /// Seconds to fold every case into the statistics' sums afterwards.
    fold_s: f64,
    reads: Vec<Run>,
    /// Reads whose answers were refused for taking too long, and how many.
    refused: Vec<(&'static str, u64)>,
    peak_kib: u64,
}

/// Copies the generated rows into a fresh, migrated file with one prepared
/// `INSERT` per table in one transaction: the raw bulk-insert rate.
async fn raw_bulk(from: &Path, dir: &Path) -> Result<(f64, u64)> {
    let to = dir.join("raw.db");
    let store = Store::connect(&format!("sqlite://{}", to.display()))
        .await
        .map_err(|e| anyhow!("{e}"))?;
    store.migrate().await.map_err(|e| anyhow!("{e}"))?;
    drop(store);
    let (from, to) = (from.to_owned(), to.clone());
    tokio::task::spawn_blocking(move || {
        let src = rusqlite::Connection::open(&from)?;
        let dst = rusqlite::Connection::open(&to)?;
        dst.pragma_update(None, "journal_mode", "WAL")?;
        dst.pragma_update(None, "synchronous", "NORMAL")?;
        dst.pragma_update(None, "foreign_keys", "OFF")?;
        // The people are set-up, not part of the rows measured.
        let tables = [
            "users",
            "barriers",
            "meetings",
            "cases",
            "case_events",
            "agenda_items",
        ];
        let mut data: Vec<(String, usize, Vec<Vec<rusqlite::types::Value>>)> = Vec::new();
        for t in tables {
            dst.execute(&format!("DELETE FROM {t}"), [])?;
            let mut q = src.prepare(&format!("SELECT * FROM {t}"))?;
            let n = q.column_count();
            let rows = q
                .query_map([], |r| {
                    (0..n)
                        .map(|i| r.get::<_, rusqlite::types::Value>(i))
                        .collect()
                })?
                .collect::<rusqlite::Result<Vec<Vec<_>>>>()?;
            data.push((t.to_owned(), n, rows));
        }
        let fts: Vec<Vec<rusqlite::types::Value>> = src
            .prepare("SELECT rowid, citation, explanation FROM precedents_fts")?
            .query_map([], |r| (0..3).map(|i| r.get(i)).collect())?
            .collect::<rusqlite::Result<_>>()?;
        dst.execute("DELETE FROM precedents_fts", [])?;
        let start = Instant::now();
        let mut count = 0u64;
        dst.execute_batch("BEGIN")?;
        for (t, n, rows) in &data {
            let marks = vec!["?"; *n].join(", ");
            let mut ins = dst.prepare(&format!("INSERT INTO {t} VALUES ({marks})"))?;
            for r in rows {
                ins.execute(rusqlite::params_from_iter(r.iter()))?;
                if t != "users" {
                    count += 1;
                }
            }
        }
        // The full-text index of the precedents is written too: the
        // generator pays for it, so the ceiling does.
        {
            let mut ins = dst.prepare(
                "INSERT INTO precedents_fts(rowid, citation, explanation) VALUES (?, ?, ?)",
            )?;
            for r in &fts {
                ins.execute(rusqlite::params_from_iter(r.iter()))?;
                count += 1;
            }
        }
        dst.execute_batch("COMMIT")?;
        let secs = start.elapsed().as_secs_f64();
        Ok::<_, anyhow::Error>((count as f64 / secs.max(1e-9), count))
    })
    .await?
}

fn peak_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next().map(str::to_owned))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn one(a: &crate::Args, cases: usize, secs: Duration) -> Result<Size> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("scale.db");
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect_with(
        &url,
        &PoolSizes {
            sqlite_sync: a.sync,
            ..PoolSizes::default()
        },
    )
    .await
    .map_err(|e| anyhow!("{e}"))?;
    store.migrate().await.map_err(|e| anyhow!("{e}"))?;
    let engine = Engine::new(store, Arc::new(SystemClock))
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let started = Instant::now();
    let r = engine
        .generate(cases, 1)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let rows = r.rows() as f64;
    let generate_rows_per_s = rows / started.elapsed().as_secs_f64();
    let (raw_rows_per_s, raw_rows) = raw_bulk(&path, dir.path()).await?;
    if raw_rows as f64 != rows {
        bail!("the raw copy moved {raw_rows} rows, the generator wrote {rows}");
    }
    // The statistics' sums, as `doorbraak generate` folds them at the end.
    let started = Instant::now();
    engine
        .fold_all_statistics(doorbraak_engine::BULK_FOLD_BATCH)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let fold_s = started.elapsed().as_secs_f64();
    let area = engine
        .focus_areas()
        .first()
        .map(|a| a.code.clone())
        .ok_or_else(|| anyhow!("no areas"))?;
    let ministry = engine
        .ministries()
        .first()
        .map(|m| m.code.clone())
        .ok_or_else(|| anyhow!("no ministries"))?;
    let user = async |name: &str, role: Role, areas: Vec<String>, ministry: Option<String>| {
        engine
            .create_user(name, role, &areas, ministry.as_deref())
            .await
            .map(|(_, t)| Arc::<str>::from(t))
            .map_err(|e| anyhow!("{e}"))
    };
    let pb = user(
        "Bench bureau",
        Role::ProgrammeBureau,
        vec![area.clone()],
        None,
    )
    .await?;
    let secretariat = user(
        "Bench secretariaat",
        Role::BreakthroughSecretariat,
        vec![],
        None,
    )
    .await?;
    let analyst = user(
        "Bench analist",
        Role::MinistryAnalyst,
        vec![],
        Some(ministry.clone()),
    )
    .await?;
    drop(engine);

    let server = ServerProcess::start(a, &url, dir.path()).await?;
    let year = chrono::Utc::now().format("%Y").to_string().parse::<i32>()? - 1;
    let stats = "ministry { code } casesTotal areasAffected fundsUnlocked barriersReported barriersDecided outcomes { outcome count } levelDurations { level cases medianDays p90Days } barriers { cases areas barrier { id } }";
    let reads: Vec<(&'static str, Arc<str>, String)> = vec![
        (
            "queue",
            pb.clone(),
            body(&format!(
                "{{ cases(filter: {{states: [AT_PROGRAMME_BUREAU], focusAreas: [\"{area}\"]}}, first: 20) {{ edges {{ node {{ id reference title deadline }} }} }} }}"
            )),
        ),
        (
            "overdue",
            secretariat.clone(),
            body(
                "{ cases(filter: {overdue: true}, first: 20) { edges { node { id reference deadline } } } }",
            ),
        ),
        (
            "register",
            analyst.clone(),
            body("{ barriers(first: 20) { edges { node { id citation status } } } }"),
        ),
        (
            "precedent",
            pb.clone(),
            body(
                "{ precedents(query: \"toeslag schuldhulp\", first: 10) { caseReference citation outcome } }",
            ),
        ),
        (
            "stats",
            analyst.clone(),
            body(&format!(
                "{{ ministryStatistics(ministry: \"{ministry}\") {{ {stats} }} }}"
            )),
        ),
        (
            "stats-area",
            analyst.clone(),
            body(&format!(
                "{{ ministryStatistics(ministry: \"{ministry}\", focusArea: \"{area}\") {{ {stats} }} }}"
            )),
        ),
        (
            "stats-domain",
            analyst.clone(),
            body(&format!(
                "{{ ministryStatistics(ministry: \"{ministry}\", domain: HOUSING) {{ {stats} }} }}"
            )),
        ),
        (
            "stats-year",
            analyst.clone(),
            body(&format!(
                "{{ ministryStatistics(ministry: \"{ministry}\", from: \"{year}-01-01T00:00:00Z\", to: \"{}-01-01T00:00:00Z\") {{ {stats} }} }}",
                year + 1
            )),
        ),
    ];
    let mut runs = Vec::new();
    let mut refused = Vec::new();
    for (name, token, b) in reads {
        let b: Arc<str> = b.into();
        let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut clients = Vec::new();
        for _ in 0..2 {
            clients.push(Reader {
                conn: wire::Conn::open(&server.addr).await?,
                token: token.clone(),
                body: b.clone(),
                refused: count.clone(),
            });
        }
        runs.push(load::closed(name, clients, Duration::from_millis(300), secs).await?);
        refused.push((name, count.load(std::sync::atomic::Ordering::Relaxed)));
    }
    let peak = server.child.id().map(peak_kib).unwrap_or(0);
    drop(server);
    Ok(Size {
        cases,
        generate_rows_per_s,
        raw_rows_per_s,
        fold_s,
        reads: runs,
        refused: refused.into_iter().filter(|(_, n)| *n > 0).collect(),
        peak_kib: peak,
    })
}

pub async fn run(a: &crate::Args, sizes: &[usize]) -> Result<()> {
    if a.url.is_some() {
        bail!("scale runs on fresh SQLite files; --database-url is not used here");
    }
    if a.sync != SqliteSync::Normal {
        eprintln!("note: scale runs at synchronous={:?}", a.sync);
    }
    let secs = Duration::from_secs(a.seconds);
    let mut all = Vec::new();
    for &n in sizes {
        eprintln!("scale: generating {n} cases …");
        all.push(one(a, n, secs).await?);
    }
    for s in &all {
        println!(
            "{} cases: generate {:.0} rows/s, raw bulk insert {:.0} rows/s (ratio {:.2}, target >= 0.50); server peak memory {:.1} MiB",
            s.cases,
            s.generate_rows_per_s,
            s.raw_rows_per_s,
            s.generate_rows_per_s / s.raw_rows_per_s,
            s.peak_kib as f64 / 1024.0
        );
        println!(
            "  then folding the statistics' sums: {:.1} s ({:.0} cases/s)",
            s.fold_s,
            s.cases as f64 / s.fold_s.max(1e-9)
        );
        crate::print_runs(&s.reads);
        for (name, n) in &s.refused {
            println!(
                "  {name}: {n} answers refused after the server's time limit (their time is in the histogram)"
            );
        }
        println!();
    }
    if let (Some(small), Some(large)) = (all.first(), all.last())
        && all.len() > 1
    {
        println!(
            "growth from {} to {} cases (p99 ratio, target <= 3; memory ratio, target <= 1.5):",
            small.cases, large.cases
        );
        for (s, l) in small.reads.iter().zip(&large.reads) {
            println!(
                "  {:<13} p99 {:>9.2} ms -> {:>9.2} ms   x{:.2}",
                s.name,
                s.ms(99.0),
                l.ms(99.0),
                l.ms(99.0) / s.ms(99.0)
            );
        }
        println!(
            "  peak memory   {:.1} MiB -> {:.1} MiB   x{:.2}",
            small.peak_kib as f64 / 1024.0,
            large.peak_kib as f64 / 1024.0,
            large.peak_kib as f64 / small.peak_kib.max(1) as f64
        );
    }
    Ok(())
}
