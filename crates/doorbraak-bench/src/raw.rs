//! The raw ceilings: the database alone doing the minimal transaction of a
//! transition (a version-guarded `UPDATE` of the case row and an `INSERT`
//! of its event, in one transaction), with nothing of ours in between.
//!
//! SQLite: rusqlite on one connection with cached prepared statements, at
//! the same `synchronous` setting as the server. SQLite lets one writer in
//! at a time, so this single loop is its ceiling for any number of clients.
//! PostgreSQL: pgbench with the same two statements, on the same cluster.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use crate::load::Run;

const EVENT: &str = "INSERT INTO case_events (case_id, sequence, action, from_state, to_state, actor_id, actor_role, note, at, effect) VALUES (?1, ?2, 'PICK_UP', 'AT_PROGRAMME_BUREAU', 'AT_PROGRAMME_BUREAU', ?3, 'PROGRAMME_BUREAU', NULL, ?4, '{}')";

/// The rusqlite loop on case `case` (at version `version`) for `secs`.
pub fn sqlite(
    path: &Path,
    full: bool,
    case: i64,
    version: i64,
    actor: i64,
    secs: Duration,
) -> Result<Run> {
    let c = rusqlite::Connection::open(path)?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "synchronous", if full { "FULL" } else { "NORMAL" })?;
    c.pragma_update(None, "foreign_keys", "ON")?;
    c.busy_timeout(Duration::from_secs(10))?;
    let mut run = Run::new("raw", 1)?;
    let mut v = version;
    let warm = Instant::now() + Duration::from_millis(500);
    let end = warm + secs;
    loop {
        let t = Instant::now();
        if t >= end {
            break;
        }
        c.execute_batch("BEGIN")?;
        let now = chrono::Utc::now().timestamp_millis();
        let n = c
            .prepare_cached("UPDATE cases SET version = version + 1, updated_at = ?1 WHERE id = ?2 AND version = ?3")?
            .execute(rusqlite::params![now, case, v])?;
        if n != 1 {
            bail!("the raw loop lost its version guard");
        }
        v += 1;
        c.prepare_cached(EVENT)?
            .execute(rusqlite::params![case, v, actor, now])?;
        c.execute_batch("COMMIT")?;
        if t >= warm {
            run.record(t.elapsed());
            run.count += 1;
        }
    }
    run.elapsed = secs;
    Ok(run)
}

/// pgbench with `clients` clients (client k moves case `first + k`) for
/// `secs`, every transaction's latency from pgbench's own log.
pub fn pgbench(
    pgbench: &str,
    url: &str,
    clients: usize,
    first: i64,
    actor: i64,
    secs: Duration,
    dir: &Path,
) -> Result<Run> {
    let script = dir.join(format!("raw-{clients}.sql"));
    std::fs::write(
        &script,
        format!(
            "\\set cid :client_id + {first}\n\
             BEGIN;\n\
             UPDATE cases SET version = version + 1, updated_at = 0 WHERE id = :cid AND version >= 0 RETURNING version \\gset\n\
             INSERT INTO case_events (case_id, sequence, action, from_state, to_state, actor_id, actor_role, note, at, effect) VALUES (:cid, :version, 'PICK_UP', 'AT_PROGRAMME_BUREAU', 'AT_PROGRAMME_BUREAU', {actor}, 'PROGRAMME_BUREAU', NULL, 0, '{{}}');\n\
             END;\n"
        ),
    )?;
    let logs = dir.join(format!("pgbench-{clients}"));
    std::fs::create_dir_all(&logs)?;
    let out = Command::new(pgbench)
        .arg("-n")
        .args(["-M", "prepared"])
        .args(["-c", &clients.to_string()])
        .args(["-j", &clients.min(2).to_string()])
        .args(["-T", &secs.as_secs().max(1).to_string()])
        .arg("-f")
        .arg(&script)
        .arg("-l")
        .arg(format!("--log-prefix={}", logs.join("log").display()))
        .arg(url)
        .current_dir(dir)
        .output()
        .with_context(|| format!("cannot run {pgbench}"))?;
    if !out.status.success() {
        bail!("pgbench failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let failed = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("number of failed transactions: "))
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or("0");
    if failed != "0" {
        bail!("pgbench had failed transactions:\n{stdout}");
    }
    let mut run = Run::new("raw", clients)?;
    for entry in std::fs::read_dir(&logs)? {
        let text = std::fs::read_to_string(entry?.path())?;
        for line in text.lines() {
            // client_id transaction_no latency_us script_no epoch epoch_us
            let us: u64 = line
                .split_whitespace()
                .nth(2)
                .ok_or_else(|| anyhow!("a pgbench log line without a latency: {line}"))?
                .parse()?;
            run.record(Duration::from_micros(us));
            run.count += 1;
        }
    }
    let tps: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|s| s.split_whitespace().next())
        .ok_or_else(|| anyhow!("pgbench printed no tps:\n{stdout}"))?
        .parse()?;
    // pgbench's own rate excludes its connection time; keep the count of
    // the log and derive the elapsed time from that rate.
    run.elapsed = Duration::from_secs_f64(run.count as f64 / tps.max(1e-9));
    Ok(run)
}
