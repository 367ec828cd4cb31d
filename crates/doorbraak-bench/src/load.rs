//! Load loops: N clients in a closed loop, or a fixed arrival rate (open
//! loop), with latencies in an HDR histogram (microseconds).

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use hdrhistogram::Histogram;

/// What one loop measured.
#[derive(Clone)]
pub struct Run {
    pub name: String,
    pub clients: usize,
    pub count: u64,
    pub elapsed: Duration,
    pub hist: Histogram<u64>,
    /// What the server's process used while the loop recorded (all its
    /// threads), when it was watched.
    pub server_cpu: Option<Usage>,
    /// What this process (the load generator) used meanwhile, when the
    /// server was watched: on a shared machine, what the generator costs
    /// is taken from the server.
    pub client_cpu: Option<Usage>,
}

/// A process's use of the machine: CPU time in user space and in the
/// kernel, and how often its threads gave up or lost a core.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub user: Duration,
    pub system: Duration,
    pub switches: u64,
}

impl Usage {
    fn total(self) -> Duration {
        self.user + self.system
    }
    fn since(self, before: Usage) -> Usage {
        Usage {
            user: self.user.saturating_sub(before.user),
            system: self.system.saturating_sub(before.system),
            switches: self.switches.saturating_sub(before.switches),
        }
    }
}

/// 1 µs to 100 s, three significant digits.
pub fn histogram() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 100_000_000, 3).map_err(|e| anyhow!("{e:?}"))
}

impl Run {
    pub fn new(name: &str, clients: usize) -> Result<Run> {
        Ok(Run {
            name: name.to_owned(),
            clients,
            count: 0,
            elapsed: Duration::ZERO,
            hist: histogram()?,
            server_cpu: None,
            client_cpu: None,
        })
    }
    pub fn rate(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    /// The latency at quantile `q` (0–100), in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        self.hist.value_at_quantile(q / 100.0) as f64 / 1000.0
    }
    /// The server's CPU time per request, in microseconds, when watched.
    /// Unlike the rate, it hardly depends on what else the shared machine
    /// is doing, so it is the figure to compare between two builds.
    pub fn server_us(&self) -> Option<f64> {
        self.server_cpu.map(|c| self.per_request_us(c.total()))
    }
    /// The share of the server's CPU time spent in the kernel (system
    /// calls, waking threads), in percent, when watched.
    pub fn server_system_pct(&self) -> Option<f64> {
        self.server_cpu
            .map(|c| 100.0 * c.system.as_secs_f64() / c.total().as_secs_f64().max(1e-9))
    }
    /// This process's CPU time per request, in microseconds, when the
    /// server was watched.
    pub fn client_us(&self) -> Option<f64> {
        self.client_cpu.map(|c| self.per_request_us(c.total()))
    }
    /// The server's context switches per request, all threads, when
    /// watched.
    pub fn server_switches(&self) -> Option<f64> {
        self.server_cpu
            .map(|c| c.switches as f64 / self.count.max(1) as f64)
    }
    fn per_request_us(&self, d: Duration) -> f64 {
        d.as_secs_f64() * 1e6 / self.count.max(1) as f64
    }
    pub fn record(&mut self, d: Duration) {
        let us = (d.as_micros() as u64).max(1);
        let _ = self.hist.record(us.min(self.hist.high()));
    }
}

/// One simulated client: it owns its connection and whatever it moves.
pub trait Client: Send + 'static {
    fn step(&mut self) -> impl Future<Output = Result<()>> + Send;
}

/// `clients.len()` clients, each in a loop for `warm` (not recorded) and
/// then `secs`.
pub async fn closed<C: Client>(
    name: &str,
    clients: Vec<C>,
    warm: Duration,
    secs: Duration,
) -> Result<Run> {
    closed_watching(name, clients, warm, secs, None).await
}

/// What process `pid` has used so far, all threads: CPU time in user
/// space and in the kernel (`/proc/<pid>/stat`, in the kernel's fixed 100
/// ticks a second), and context switches, voluntary and not, summed over
/// its threads (`/proc/<pid>/task/*/status`; a thread that ended is not
/// counted).
pub fn cpu_of(pid: u32) -> Option<Usage> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces; fields count
    // from after it: utime and stime are the 12th and 13th there.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut f = rest.split_whitespace().skip(11);
    let user: u64 = f.next()?.parse().ok()?;
    let system: u64 = f.next()?.parse().ok()?;
    let mut switches = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue; // the thread ended meanwhile
        };
        for line in status.lines() {
            if let Some(n) = line
                .strip_prefix("voluntary_ctxt_switches:")
                .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                switches += n.trim().parse::<u64>().unwrap_or(0);
            }
        }
    }
    Some(Usage {
        user: Duration::from_millis(user * 10),
        system: Duration::from_millis(system * 10),
        switches,
    })
}

/// [`closed`], and with `server` the CPU time that process used between
/// the end of the warm-up and the end of the loop.
pub async fn closed_watching<C: Client>(
    name: &str,
    clients: Vec<C>,
    warm: Duration,
    secs: Duration,
    server: Option<u32>,
) -> Result<Run> {
    let n = clients.len();
    let start = Instant::now() + warm;
    let end = start + secs;
    let watch = server.map(|pid| watch(pid, start, end));
    let mut tasks = Vec::new();
    for mut c in clients {
        let name = name.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut run = Run::new(&name, 1)?;
            loop {
                let t = Instant::now();
                if t >= end {
                    break;
                }
                c.step().await?;
                if t >= start {
                    run.record(t.elapsed());
                    run.count += 1;
                }
            }
            Ok::<_, anyhow::Error>(run)
        }));
    }
    let mut total = Run::new(name, n)?;
    for t in tasks {
        let r = t.await.map_err(|e| anyhow!("a client failed: {e}"))??;
        total.count += r.count;
        total.hist.add(&r.hist).map_err(|e| anyhow!("{e:?}"))?;
    }
    total.elapsed = secs;
    if let Some(w) = watch {
        (total.server_cpu, total.client_cpu) =
            w.await.map_err(|e| anyhow!("the CPU watch failed: {e}"))?;
    }
    Ok(total)
}

type Watch = tokio::task::JoinHandle<(Option<Usage>, Option<Usage>)>;

/// What process `pid` and this one use between `from` and `to`.
fn watch(pid: u32, from: Instant, to: Instant) -> Watch {
    tokio::spawn(async move {
        tokio::time::sleep_until(from.into()).await;
        let me = std::process::id();
        let before = (cpu_of(pid), cpu_of(me));
        tokio::time::sleep_until(to.into()).await;
        let since = |b: Option<Usage>, p| Some(cpu_of(p)?.since(b?));
        (since(before.0, pid), since(before.1, me))
    })
}

/// Requests arrive at `rate` per second, evenly spaced, for `warm` (not
/// recorded, as in the closed loop: fresh connections and cold caches)
/// and then `secs`, whatever the answers do (an open loop). Each client
/// of `pool` is a task that takes the next arrival when it is free, so
/// an arrival waits when all are busy; its latency counts from its
/// scheduled instant, so a slow server cannot hide its queue (no
/// coordinated omission).
///
/// The arrivals come from an OS thread of their own that sleeps to each
/// one's instant: tokio's timer has a granularity of a millisecond, which
/// at thousands of arrivals a second would release them in bunches of
/// several at once, a burstier load than the fixed rate asked for. The
/// clients are long-lived tasks fed by one channel, not a task spawned
/// per arrival: on a shared machine, what the generator spends per
/// request is taken from the server (the `client µs` column).
pub async fn open<C: Client>(
    name: &str,
    pool: Vec<C>,
    rate: f64,
    warm: Duration,
    secs: Duration,
    server: Option<u32>,
) -> Result<Run> {
    let size = pool.len();
    let start = Instant::now() + Duration::from_millis(100);
    let skipped = (rate * warm.as_secs_f64()).round() as u64;
    let total = skipped + (rate * secs.as_secs_f64()).round() as u64;
    let spacing = 1.0 / rate;
    let recorded = start + Duration::from_secs_f64(skipped as f64 * spacing);
    let watch = server.map(|pid| watch(pid, recorded, recorded + secs));
    let (arrive, arrivals) = flume::unbounded::<(u64, Instant)>();
    let mut tasks = Vec::new();
    for mut c in pool {
        let (arrivals, name) = (arrivals.clone(), name.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut run = Run::new(&name, 1)?;
            while let Ok((i, at)) = arrivals.recv_async().await {
                c.step().await?;
                if i >= skipped {
                    run.record(at.elapsed());
                    run.count += 1;
                }
            }
            Ok::<_, anyhow::Error>(run)
        }));
    }
    drop(arrivals);
    let clock = std::thread::spawn(move || {
        for i in 0..total {
            let at = start + Duration::from_secs_f64(i as f64 * spacing);
            let now = Instant::now();
            if at > now {
                std::thread::sleep(at - now);
            }
            if arrive.send((i, at)).is_err() {
                return; // every client failed
            }
        }
    });
    let mut run = Run::new(name, size)?;
    let mut failed = None;
    for t in tasks {
        match t.await.map_err(|e| anyhow!("a client failed: {e}"))? {
            Ok(r) => {
                run.count += r.count;
                run.hist.add(&r.hist).map_err(|e| anyhow!("{e:?}"))?;
            }
            Err(e) => failed = Some(e),
        }
    }
    clock
        .join()
        .map_err(|_| anyhow!("the arrival clock failed"))?;
    if let Some(e) = failed {
        return Err(e);
    }
    run.elapsed = secs;
    if let Some(w) = watch {
        (run.server_cpu, run.client_cpu) =
            w.await.map_err(|e| anyhow!("the CPU watch failed: {e}"))?;
    }
    Ok(run)
}
