//! SQLite: the transitions' writer thread.
//!
//! Through sqlx every statement is a hand-off to its connection's worker
//! thread and back (a wake-up and a context switch each), and SQLite's
//! write lock is held across all of them. This thread owns a rusqlite
//! connection to the same file and runs a transition's whole list of
//! statements ([`crate::transition::sqlite_statements`]) in one hand-off.
//!
//! **Group commit.** Transitions that queue up while one batch commits are
//! run together: `BEGIN IMMEDIATE`, each transition's statements, one
//! `COMMIT`. A version conflict writes nothing (the guard comes first);
//! any other error rolls the batch back and runs its transitions one by
//! one, each in its own transaction ([`commit_batch`]). Nobody hears back
//! before that COMMIT has returned, and if it fails every transition of
//! the batch gets the error: no transition is acknowledged that is not in
//! the file. With `synchronous=FULL` a batch costs one sync instead of
//! one per transition.
//!
//! **Waiting for the ones coming.** A batch is otherwise whatever queued
//! while the previous one committed, and with the thread idle much of the
//! time that is two or three transitions at sixteen clients. So a
//! transition on its way is counted: the GraphQL endpoint takes a
//! [`Coming`] when a mutation request arrives (the engine does, when an
//! action begins, for its other callers), and it is given back when the
//! statements are queued, or when the request ends without any. While
//! any are out, the thread holds its batch open for them, up to
//! [`WAIT_FOR_COMING`]: it waits for callers already on their way, never
//! for one that is not there (a fixed wait before every commit halved the
//! rate at two clients; ARCHITECTURE.md has the figures). Counted only
//! from the engine's action, they were out at one batch in ten: most of a
//! transition's time on the server comes before it.
//!
//! **Webhooks.** Every transition's statements end with the webhooks'
//! `INSERT … SELECT` over the active subscriptions, which nearly always
//! finds none. So the thread looks, inside each batch's transaction,
//! whether any subscription is active (asking SQLite again only when
//! `PRAGMA data_version` shows another connection has committed since),
//! and tells callers its last answer ([`Writer::webhooks_active`]). A
//! caller that was told "none" builds its statements without that
//! `INSERT` ([`Writer::run_without_webhooks`]); if by its batch a
//! subscription has become active, those statements are not run and the
//! caller builds them again in full. The answer is read in the same
//! transaction as the writes, with SQLite's write lock held, so no
//! transition committed after a subscription is leaves it out.
//!
//! **Other writers.** The sqlx writer connection still does every other
//! write (submissions, meetings, users, …). All its transactions begin
//! `IMMEDIATE` ([`crate::Store::begin_write`]), like this thread's, so each
//! takes the write lock before it reads anything and waits for the other
//! in SQLite's busy handler (10 s); a transaction never has to upgrade a
//! read lock, so `SQLITE_BUSY` does not surface.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;

use rusqlite::types::Value as Sql;
use sea_orm::sea_query::Value;
use sea_orm::{DbErr, RuntimeErr, Statement};

use crate::{SqliteSync, StoreError};

/// At most this many transitions under one COMMIT.
const MAX_BATCH: usize = 64;

/// The longest a batch is held open for transitions still coming.
const WAIT_FOR_COMING: std::time::Duration = std::time::Duration::from_micros(200);

/// A transition on its way to the writer thread, counted until
/// [`Writer::run`] has queued its statements or it is dropped (a refusal,
/// a conflict, a request that was no transition).
#[derive(Debug)]
pub struct Coming {
    /// `None` once counted out.
    shared: Option<std::sync::Arc<Shared>>,
}

impl Coming {
    /// Counts it out as its statements are about to be queued: the shared
    /// state if it was the last one coming, to wake the thread with once
    /// they are ([`Shared::wake`]). Out first, then queued: a thread that
    /// has taken a job never finds that job still counted as coming.
    fn arrive(mut self) -> Option<std::sync::Arc<Shared>> {
        let shared = self.shared.take()?;
        (shared.coming.fetch_sub(1, Ordering::SeqCst) == 1).then_some(shared)
    }
}

impl Drop for Coming {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take()
            && shared.coming.fetch_sub(1, Ordering::SeqCst) == 1
        {
            shared.wake();
        }
    }
}

/// What the handles and the thread share.
#[derive(Debug)]
struct Shared {
    /// The longest a batch is held open for them ([`WAIT_FOR_COMING`]).
    wait: std::time::Duration,
    /// Transitions coming ([`Coming`]).
    coming: AtomicUsize,
    /// The thread holds a batch open for them.
    waiting: AtomicBool,
    /// The thread, to wake it when the last one coming is queued or gone.
    thread: std::sync::OnceLock<std::thread::Thread>,
    /// What the thread has run, for the metrics.
    batches: AtomicU64,
    transitions: AtomicU64,
    held: AtomicU64,
}

impl Shared {
    /// Wakes the thread if it holds a batch open. Called by the last one
    /// coming, after its count went to zero: sequentially consistent with
    /// the thread's `waiting` and its look at the count, so either the
    /// thread sees none coming, or this sees it waiting. Only the last
    /// one wakes it: the others are queued while it sleeps, without a
    /// wake-up each.
    fn wake(&self) {
        if self.waiting.load(Ordering::SeqCst)
            && let Some(thread) = self.thread.get()
        {
            thread.unpark();
        }
    }
}

struct Job {
    statements: Vec<Statement>,
    /// Whether `statements` hold the webhooks' `INSERT … SELECT` (or the
    /// caller has none to hold); without it they run only while no
    /// subscription is active.
    webhooks: bool,
    /// `Ok(false)`: not run, because a subscription is active and the
    /// webhooks were left out.
    reply: tokio::sync::oneshot::Sender<Result<bool, StoreError>>,
}

/// The checkpointer copies the log into the database file at least this
/// often while anything is written.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// ... and sooner once the log holds this many pages since it last started
/// over (SQLite's own default for its automatic checkpoints).
const CHECKPOINT_AT_PAGES: i32 = 1_000;

/// The writer thread finishes a checkpoint itself, so that the log starts
/// over, once the log holds this many pages: just under what one of the
/// WAL index's hash tables covers (4,096 frames), so a page read looks in
/// one table, while the syncs of the writer's own pass, which hold up the
/// queue (about half a millisecond each here), come a quarter as often as
/// the checkpointer's.
const RESTART_AT_PAGES: i32 = 4_000;

/// The least time between two of the checkpointer's passes.
const CHECKPOINT_GAP: std::time::Duration = std::time::Duration::from_millis(10);

/// A log that grew longer than this (a reader held an old snapshot for
/// long, so it could not start over) is cut back to it when it next
/// starts over; SQLite otherwise keeps the file at its longest.
pub(crate) const LOG_LIMIT_BYTES: i64 = 64 << 20;

thread_local! {
    /// The pages in the log after the writer thread's last commit, from
    /// SQLite's WAL hook (which gives a plain `fn` no state of its own).
    static LOG_PAGES: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

/// The handle to the writer thread (cheap to clone). The thread, and the
/// checkpointer beside it, end when the last handle is dropped.
#[derive(Clone, Debug)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
    /// The thread's last answer to "is any webhook subscription active?"
    /// (yes until it has looked).
    webhooks: std::sync::Arc<AtomicBool>,
    shared: std::sync::Arc<Shared>,
    _checkpointer: std::sync::Arc<mpsc::SyncSender<()>>,
}

/// The batches the writer thread has run, and the transitions in them:
/// how many transitions share a COMMIT (one sync with `FULL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupCommits {
    pub batches: u64,
    pub transitions: u64,
    /// Batches held open for transitions coming.
    pub held: u64,
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(DbErr::Exec(RuntimeErr::Internal(format!("sqlite: {e}"))))
}

impl Writer {
    /// Opens `path` with the server's settings and starts the thread.
    pub(crate) fn start(path: &std::path::Path, sync: SqliteSync) -> Result<Writer, StoreError> {
        Writer::start_waiting(path, sync, WAIT_FOR_COMING)
    }

    /// [`Writer::start`], holding a batch open for up to `wait`.
    fn start_waiting(
        path: &std::path::Path,
        sync: SqliteSync,
        wait: std::time::Duration,
    ) -> Result<Writer, StoreError> {
        let conn = rusqlite::Connection::open(path)
            .map_err(|e| StoreError::Config(format!("cannot open the SQLite database: {e}")))?;
        let sync = match sync {
            SqliteSync::Normal => "NORMAL",
            SqliteSync::Full => "FULL",
        };
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .and_then(|()| {
                conn.execute_batch(&format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON; \
                     PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = {LOG_LIMIT_BYTES};"
                ))
            })
            .map_err(|e| StoreError::Config(format!("cannot set up the SQLite writer: {e}")))?;
        conn.set_prepared_statement_cache_capacity(64);
        conn.wal_hook(Some(|_, pages| {
            LOG_PAGES.set(pages);
            Ok(())
        }));
        let checkpoints = rusqlite::Connection::open(path)
            .map_err(|e| StoreError::Config(format!("cannot open the SQLite database: {e}")))?;
        let (jobs, queue) = mpsc::channel::<Job>();
        // Wakes the checkpointer early; when every sender is gone it stops.
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        let passed = std::sync::Arc::new(AtomicBool::new(false));
        let log = Log {
            wake: wake.clone(),
            passed: passed.clone(),
            asked_at: std::cell::Cell::new(0),
        };
        let webhooks = std::sync::Arc::new(AtomicBool::new(true));
        let subscriptions = Subscriptions {
            told: webhooks.clone(),
            seen: std::cell::Cell::new(None),
        };
        let shared = std::sync::Arc::new(Shared {
            wait,
            coming: AtomicUsize::new(0),
            waiting: AtomicBool::new(false),
            thread: std::sync::OnceLock::new(),
            batches: AtomicU64::new(0),
            transitions: AtomicU64::new(0),
            held: AtomicU64::new(0),
        });
        let theirs = shared.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || serve(conn, queue, &log, &subscriptions, &theirs))
            .map_err(|e| StoreError::Config(format!("cannot start the SQLite writer: {e}")))?;
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint(checkpoints, woken, &passed))
            .map_err(|e| StoreError::Config(format!("cannot start the SQLite writer: {e}")))?;
        Ok(Writer {
            jobs,
            webhooks,
            shared,
            _checkpointer: std::sync::Arc::new(wake),
        })
    }

    /// Counts a transition as coming until the [`Coming`] is given to
    /// [`Writer::run`] or dropped.
    pub(crate) fn coming(&self) -> Coming {
        self.shared.coming.fetch_add(1, Ordering::SeqCst);
        Coming {
            shared: Some(self.shared.clone()),
        }
    }

    /// Runs one transition's statements; the first must update exactly one
    /// row (else [`StoreError::VersionConflict`], and nothing is written).
    /// Returns once the transaction holding them has committed.
    pub(crate) async fn run(
        &self,
        statements: Vec<Statement>,
        coming: Option<Coming>,
    ) -> Result<(), StoreError> {
        self.send(statements, true, coming).await.map(|_| ())
    }

    /// [`Writer::run`] for statements without the webhooks' `INSERT …
    /// SELECT`: they run only if no webhook subscription is active in
    /// their transaction. `Ok(false)`: one is, nothing was written, and
    /// the caller runs its statements again in full.
    pub(crate) async fn run_without_webhooks(
        &self,
        statements: Vec<Statement>,
        coming: Option<Coming>,
    ) -> Result<bool, StoreError> {
        self.send(statements, false, coming).await
    }

    /// Whether the thread, when it last looked, found a webhook
    /// subscription active (true until it has looked): a hint for which
    /// of [`Writer::run`] and [`Writer::run_without_webhooks`] to use.
    pub(crate) fn webhooks_active(&self) -> bool {
        self.webhooks.load(Ordering::Relaxed)
    }

    /// The batches run so far, and the transitions in them.
    pub(crate) fn group_commits(&self) -> GroupCommits {
        GroupCommits {
            batches: self.shared.batches.load(Ordering::Relaxed),
            transitions: self.shared.transitions.load(Ordering::Relaxed),
            held: self.shared.held.load(Ordering::Relaxed),
        }
    }

    async fn send(
        &self,
        statements: Vec<Statement>,
        webhooks: bool,
        coming: Option<Coming>,
    ) -> Result<bool, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let last = coming.and_then(Coming::arrive);
        self.jobs
            .send(Job {
                statements,
                webhooks,
                reply,
            })
            .map_err(|_| db_err("the writer thread has stopped"))?;
        if let Some(shared) = last {
            shared.wake();
        }
        answer
            .await
            .map_err(|_| db_err("the writer thread stopped during a write"))?
    }
}

/// Copies the log into the database file (a passive checkpoint, which
/// never blocks the writers or the readers) every [`CHECKPOINT_EVERY`],
/// or sooner when the writer thread finds the log past
/// [`CHECKPOINT_AT_PAGES`], so that no commit has to: SQLite would
/// otherwise checkpoint inside the commit that crosses 1,000 pages of
/// log, with the write lock held and, in `synchronous=NORMAL`, a sync of
/// the file, while every transition queued behind it waits. The
/// connections that write have their automatic checkpoints turned off
/// ([`crate::connect`]). After each pass the writer thread finishes the
/// job ([`Log::after_batch`]). Ends when every sender of `wake` is gone.
fn checkpoint(conn: rusqlite::Connection, wake: mpsc::Receiver<()>, passed: &AtomicBool) {
    while let Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) = wake.recv_timeout(CHECKPOINT_EVERY) {
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            Ok(()) => passed.store(true, Ordering::Release),
            Err(e) => tracing::warn!(error = %e, "SQLite checkpoint failed; it is tried again"),
        }
        // Never more than a pass per gap, however often the writer asks
        // (it asks once per 1,000 new pages; when commits are small and
        // many, that can be often).
        std::thread::sleep(CHECKPOINT_GAP);
    }
}

/// The writer thread's side of the checkpoints.
///
/// A log only starts over from its beginning when a write transaction
/// begins with every page of it already copied into the database file.
/// Under steady load the checkpointer never gets there: by the time its
/// pass ends, the writer has committed more. Then the log grows without
/// end (1.7 GB in a five-second benchmark loop), every page read searches
/// a longer index of it, and its pages go cold in the OS's cache, so
/// writing over them later reads them from disk first. So once the log
/// holds [`RESTART_AT_PAGES`], after the checkpointer's next pass the
/// writer thread copies what was committed during it itself, between two
/// batches: nothing can commit in between, and its next `BEGIN` starts
/// the log over.
struct Log {
    wake: mpsc::SyncSender<()>,
    passed: std::sync::Arc<AtomicBool>,
    /// The log's length when the checkpointer was last asked for a pass.
    asked_at: std::cell::Cell<i32>,
}

impl Log {
    fn after_batch(&self, conn: &rusqlite::Connection) {
        let pages = LOG_PAGES.get();
        // A pass since the last batch: only what was committed during it
        // is left to copy.
        let passed = self.passed.swap(false, Ordering::Acquire);
        if pages < self.asked_at.get() {
            self.asked_at.set(0); // the log started over
        }
        if passed && pages >= RESTART_AT_PAGES {
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "SQLite checkpoint failed; it is tried again");
            }
        } else if pages >= self.asked_at.get() + CHECKPOINT_AT_PAGES {
            // A pass per 1,000 pages; when the channel is full one is
            // already asked for.
            let _ = self.wake.try_send(());
            self.asked_at.set(pages);
        }
    }
}

/// The writer thread's view of the webhook subscriptions.
struct Subscriptions {
    /// Where callers read the last answer.
    told: std::sync::Arc<AtomicBool>,
    /// `PRAGMA data_version` when the thread last looked: it changes when
    /// another connection commits (this thread never writes the
    /// subscriptions).
    seen: std::cell::Cell<Option<i64>>,
}

impl Subscriptions {
    /// Whether any subscription is active, read inside the open
    /// transaction. When SQLite cannot say, yes: the webhooks are then
    /// written as always.
    fn active(&self, conn: &rusqlite::Connection) -> bool {
        let version = conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut s| s.query_row([], |r| r.get::<_, i64>(0)));
        let Ok(version) = version else {
            return true;
        };
        if self.seen.get() != Some(version) {
            let active = conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM \"webhook_subscriptions\" WHERE \"active\")",
                )
                .and_then(|mut s| s.query_row([], |r| r.get::<_, bool>(0)));
            let Ok(active) = active else {
                return true;
            };
            self.told.store(active, Ordering::Relaxed);
            self.seen.set(Some(version));
        }
        self.told.load(Ordering::Relaxed)
    }
}

fn serve(
    mut conn: rusqlite::Connection,
    queue: mpsc::Receiver<Job>,
    log: &Log,
    subscriptions: &Subscriptions,
    shared: &Shared,
) {
    let _ = shared.thread.set(std::thread::current());
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        take_queued(&mut batch, &queue);
        if wait_for_coming(shared) {
            take_queued(&mut batch, &queue);
        }
        shared.batches.fetch_add(1, Ordering::Relaxed);
        shared
            .transitions
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        // A panic inside (a bug; rusqlite itself does not panic) must not
        // take the writer down with it: the batch is rolled back and its
        // callers get an error, and the next batch starts afresh.
        let results = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            commit_batch(&mut conn, &batch, subscriptions)
        }))
        .unwrap_or_else(|_| {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            batch
                .iter()
                .map(|_| Err(db_err("the writer failed during this batch")))
                .collect()
        });
        for (job, result) in batch.into_iter().zip(results) {
            // The caller may have gone away; what was committed stays.
            let _ = job.reply.send(result);
        }
        log.after_batch(&conn);
    }
}

/// Whatever else is queued, into `batch` (up to [`MAX_BATCH`]).
fn take_queued(batch: &mut Vec<Job>, queue: &mpsc::Receiver<Job>) {
    while batch.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// While transitions are coming, sleeps until the last of them is queued
/// or gone ([`Coming`] wakes the thread), for at most the wait
/// ([`WAIT_FOR_COMING`]). Whether it held the batch open.
fn wait_for_coming(shared: &Shared) -> bool {
    shared.waiting.store(true, Ordering::SeqCst);
    let held = shared.coming.load(Ordering::SeqCst) > 0;
    if held {
        shared.held.fetch_add(1, Ordering::Relaxed);
        let until = std::time::Instant::now() + shared.wait;
        while shared.coming.load(Ordering::SeqCst) > 0 {
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            // Wakes early for an `unpark`, or for nothing; the count says.
            std::thread::park_timeout(left);
        }
    }
    shared.waiting.store(false, Ordering::SeqCst);
    held
}

/// One transaction for the whole batch; the results in order.
///
/// No savepoints: a transition's first statement is its version guard,
/// and a guard that matches no row has written nothing, so a conflict
/// needs no undoing. Any other failure (a constraint, an I/O error) may
/// leave part of that transition in the transaction: then the whole batch
/// is rolled back, before anyone has heard of it, and every transition of
/// it is run again in a transaction of its own ([`one_by_one`]), so each
/// stands or falls alone. That is rare; the common path saves a
/// `SAVEPOINT` and a `RELEASE` per transition.
fn commit_batch(
    conn: &mut rusqlite::Connection,
    batch: &[Job],
    subscriptions: &Subscriptions,
) -> Vec<Result<bool, StoreError>> {
    if let Err(e) = fixed(conn, "BEGIN IMMEDIATE") {
        return fail_all(conn, batch, e.to_string());
    }
    let webhooks = subscriptions.active(conn);
    let mut results: Vec<Result<bool, StoreError>> = Vec::with_capacity(batch.len());
    for job in batch {
        match run_one(conn, job, webhooks) {
            // SQLite may roll the whole transaction back by itself (a full
            // disk, an I/O error): then nothing of the batch is written,
            // and nothing more may run outside the transaction.
            _ if conn.is_autocommit() => {
                return fail_all(conn, batch, "the transaction was rolled back".into());
            }
            Ok(ran) => results.push(Ok(ran)),
            Err(StoreError::VersionConflict) => results.push(Err(StoreError::VersionConflict)),
            Err(_) => {
                if let Err(e) = fixed(conn, "ROLLBACK") {
                    return fail_all(conn, batch, e.to_string());
                }
                return one_by_one(conn, batch, subscriptions);
            }
        }
    }
    if let Err(e) = fixed(conn, "COMMIT") {
        return fail_all(conn, batch, e.to_string());
    }
    results
}

/// Every transition of the batch fails with `why`; whatever of it is in
/// an open transaction is rolled back.
fn fail_all(
    conn: &rusqlite::Connection,
    batch: &[Job],
    why: String,
) -> Vec<Result<bool, StoreError>> {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    batch.iter().map(|_| Err(db_err(&why))).collect()
}

/// Each transition of a batch in a transaction of its own, after one of
/// them failed in the shared one: a failure rolls back that one only.
fn one_by_one(
    conn: &rusqlite::Connection,
    batch: &[Job],
    subscriptions: &Subscriptions,
) -> Vec<Result<bool, StoreError>> {
    batch
        .iter()
        .map(|job| {
            fixed(conn, "BEGIN IMMEDIATE").map_err(db_err)?;
            let outcome = run_one(conn, job, subscriptions.active(conn));
            if outcome.is_ok() && !conn.is_autocommit() {
                if let Err(e) = fixed(conn, "COMMIT") {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(db_err(e));
                }
                return outcome;
            }
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            match outcome {
                Ok(_) => Err(db_err("the transaction was rolled back")),
                Err(e) => Err(e),
            }
        })
        .collect()
}

/// One transition's statements in the open transaction, unless they
/// leave the webhooks out while a subscription is `webhooks` active
/// (`Ok(false)`, nothing written). A version conflict (the guard, the
/// first statement, matched no row) has written nothing; after any other
/// error the transition may be half-written.
fn run_one(conn: &rusqlite::Connection, job: &Job, webhooks: bool) -> Result<bool, StoreError> {
    if webhooks && !job.webhooks {
        return Ok(false);
    }
    for (i, s) in job.statements.iter().enumerate() {
        let changed = execute(conn, s)?;
        if i == 0 && changed != 1 {
            return Err(StoreError::VersionConflict);
        }
    }
    Ok(true)
}

/// A statement without parameters that the writer runs for every batch or
/// transition, compiled once (the statement cache keeps it).
fn fixed(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn execute(conn: &rusqlite::Connection, s: &Statement) -> Result<usize, StoreError> {
    let mut stmt = conn.prepare_cached(&s.sql).map_err(db_err)?;
    let values = match &s.values {
        Some(v) => v.0.iter().map(to_sql).collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    stmt.execute(rusqlite::params_from_iter(values))
        .map_err(|e| db_err(format!("{e} (in {})", s.sql)))
}

/// A sea-query value as SQLite stores it (booleans as 0 and 1, like sqlx).
fn to_sql(v: &Value) -> Result<Sql, StoreError> {
    fn int<T: Into<i64> + Copy>(v: &Option<T>) -> Sql {
        v.map_or(Sql::Null, |x| Sql::Integer(x.into()))
    }
    Ok(match v {
        Value::Bool(b) => b.map_or(Sql::Null, |b| Sql::Integer(i64::from(b))),
        Value::TinyInt(x) => int(x),
        Value::SmallInt(x) => int(x),
        Value::Int(x) => int(x),
        Value::BigInt(x) => int(x),
        Value::TinyUnsigned(x) => int(x),
        Value::SmallUnsigned(x) => int(x),
        Value::Unsigned(x) => int(x),
        Value::BigUnsigned(x) => match x {
            None => Sql::Null,
            Some(x) => Sql::Integer(
                i64::try_from(*x).map_err(|_| db_err(format!("{x} is too large for SQLite")))?,
            ),
        },
        Value::Float(x) => x.map_or(Sql::Null, |x| Sql::Real(f64::from(x))),
        Value::Double(x) => x.map_or(Sql::Null, Sql::Real),
        Value::String(x) => x.clone().map_or(Sql::Null, Sql::Text),
        Value::Char(x) => x.map_or(Sql::Null, |c| Sql::Text(c.to_string())),
        Value::Bytes(x) => x.clone().map_or(Sql::Null, Sql::Blob),
        _ => return Err(db_err("a value of a type the store does not use")),
    })
}

#[cfg(test)]
mod tests {
    use super::Writer;
    use crate::{SqliteSync, StoreError};
    use sea_orm::{DbBackend, Statement};
    use std::sync::atomic::Ordering;

    fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
    }

    /// A guarded update of `cases` at `version`, then the event.
    fn transition(id: i64, version: i64, event: &str) -> Vec<Statement> {
        vec![
            stmt(
                "UPDATE cases SET version = version + 1 WHERE id = ? AND version = ?",
                vec![id.into(), version.into()],
            ),
            stmt(
                "INSERT INTO events (case_id, what) VALUES (?, ?)",
                vec![id.into(), event.into()],
            ),
        ]
    }

    fn setup() -> (tempfile::TempDir, std::path::PathBuf, rusqlite::Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE cases (id INTEGER PRIMARY KEY, version INTEGER NOT NULL);
             CREATE TABLE events (id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL
                 REFERENCES cases(id) DEFERRABLE INITIALLY DEFERRED, what TEXT NOT NULL UNIQUE);
             CREATE TABLE webhook_subscriptions (id INTEGER PRIMARY KEY, active INTEGER NOT NULL);
             INSERT INTO cases (id, version) VALUES (1, 1), (2, 1), (3, 1);",
        )
        .unwrap();
        (dir, path, c)
    }

    type Stop = std::sync::Arc<std::sync::atomic::AtomicBool>;

    /// [`setup`] with cases 1 to `callers`, the writer started, and a
    /// flag that stops what runs [`beside`] it.
    fn many(
        callers: i64,
    ) -> (
        tempfile::TempDir,
        std::path::PathBuf,
        rusqlite::Connection,
        Writer,
        Stop,
    ) {
        let (dir, path, c) = setup();
        for id in 4..=callers {
            c.execute("INSERT INTO cases (id, version) VALUES (?, 1)", [id])
                .unwrap();
        }
        let w = Writer::start(&path, SqliteSync::Normal).unwrap();
        (dir, path, c, w, Stop::default())
    }

    /// Runs `step` on a connection of its own, again and again until
    /// `stop` is set; the thread returns how many times it ran.
    fn beside(
        path: &std::path::Path,
        stop: &Stop,
        step: impl Fn(&rusqlite::Connection) + Send + 'static,
    ) -> std::thread::JoinHandle<u64> {
        let (path, stop) = (path.to_owned(), stop.clone());
        std::thread::spawn(move || {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
            let mut times = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                step(&c);
                times += 1;
            }
            times
        })
    }

    fn events(c: &rusqlite::Connection) -> Vec<String> {
        let mut s = c.prepare("SELECT what FROM events ORDER BY id").unwrap();
        s.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Of many writers racing for one version, one wins; a loser writes
    /// nothing, and a statement failing half-way undoes its transition
    /// only.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_transition_stands_or_falls_alone() {
        let (_dir, path, c) = setup();
        let w = Writer::start(&path, SqliteSync::Normal).unwrap();
        let mut tasks = Vec::new();
        for i in 0..20 {
            let w = w.clone();
            tasks.push(tokio::spawn(async move {
                w.run(transition(1, 1, &format!("race {i}")), None).await
            }));
        }
        // Case 2 moves, then its event collides with an existing one: the
        // update must be undone with it.
        w.run(transition(3, 1, "taken"), None).await.unwrap();
        let dup = w.run(transition(2, 1, "taken"), None).await;
        assert!(matches!(dup, Err(StoreError::Db(_))), "{dup:?}");
        let mut won = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => won += 1,
                Err(StoreError::VersionConflict) => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(won, 1);
        let ev = events(&c);
        assert_eq!(ev.iter().filter(|e| e.starts_with("race")).count(), 1);
        let v2: i64 = c
            .query_row("SELECT version FROM cases WHERE id = 2", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v2, 1, "the failed transition's update was rolled back");
        w.run(transition(2, 1, "second try"), None).await.unwrap();
        assert!(events(&c).contains(&"second try".to_owned()));
    }

    /// A transition that fails half-way inside a shared batch is undone
    /// alone: the batch is run again one by one, the others commit, and a
    /// version conflict in the same batch stays a conflict.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failure_inside_a_batch_undoes_that_transition_only() {
        let (_dir, path, c) = setup();
        c.execute_batch("INSERT INTO cases (id, version) VALUES (4, 1), (5, 1)")
            .unwrap();
        let w = Writer::start(&path, SqliteSync::Normal).unwrap();
        w.run(transition(5, 1, "taken"), None).await.unwrap();
        // Hold the write lock: the writer waits in BEGIN with the first
        // job, and the next four queue up behind it as one batch.
        let blocker = rusqlite::Connection::open(&path).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let spawn = |statements: Vec<Statement>| {
            let w = w.clone();
            tokio::spawn(async move { w.run(statements, None).await })
        };
        let first = spawn(transition(1, 1, "first"));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let before = spawn(transition(2, 1, "before"));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // Moves case 3, then collides with the event "taken".
        let half = spawn(transition(3, 1, "taken"));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let stale = spawn(transition(1, 1, "stale"));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let after = spawn(transition(4, 1, "after"));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        blocker.execute_batch("COMMIT").unwrap();
        first.await.unwrap().unwrap();
        before.await.unwrap().unwrap();
        let half = half.await.unwrap();
        assert!(matches!(half, Err(StoreError::Db(_))), "{half:?}");
        let stale = stale.await.unwrap();
        assert!(
            matches!(stale, Err(StoreError::VersionConflict)),
            "{stale:?}"
        );
        after.await.unwrap().unwrap();
        let ev = events(&c);
        assert_eq!(ev, vec!["taken", "first", "before", "after"]);
        let version = |id: i64| -> i64 {
            c.query_row("SELECT version FROM cases WHERE id = ?", [id], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(
            [version(1), version(2), version(3), version(4)],
            [2, 2, 1, 2],
            "case 3's update was undone with its failed event"
        );
    }

    /// Many callers at once, with another connection taking SQLite's write
    /// lock now and then: every transition is answered (none is left in
    /// the queue) and in the file.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_queued_transition_is_committed_and_answered() {
        const CALLERS: i64 = 16;
        const EACH: i64 = 150;
        let (_dir, path, c, w, stop) = many(CALLERS);
        let other = beside(&path, &stop, |o| {
            o.execute_batch("BEGIN IMMEDIATE").unwrap();
            std::thread::sleep(std::time::Duration::from_millis(3));
            o.execute_batch("COMMIT").unwrap();
            std::thread::sleep(std::time::Duration::from_millis(7));
        });
        let mut tasks = Vec::new();
        for id in 1..=CALLERS {
            let w = w.clone();
            tasks.push(tokio::spawn(async move {
                for v in 1..=EACH {
                    w.run(transition(id, v, &format!("{id}/{v}")), None).await?;
                }
                Ok::<_, StoreError>(())
            }));
        }
        let all = tokio::time::timeout(std::time::Duration::from_secs(120), async {
            for t in tasks {
                t.await.unwrap().unwrap();
            }
        })
        .await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let held = other.join().unwrap();
        assert!(all.is_ok(), "a transition was never answered");
        assert!(held > 0, "the other connection never took the lock");
        let n: i64 = c
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, CALLERS * EACH);
        let versions: i64 = c
            .query_row("SELECT sum(version) FROM cases", [], |r| r.get(0))
            .unwrap();
        assert_eq!(versions, CALLERS * (EACH + 1));
        let counted = w.group_commits();
        assert_eq!(counted.transitions, (CALLERS * EACH) as u64);
        assert!(
            counted.batches >= 1 && counted.batches < counted.transitions,
            "callers that wait share commits: {counted:?}"
        );
    }

    /// Writes that never pause, with a reader beside them: the log still
    /// starts over from its beginning, so the file stays about
    /// `RESTART_AT_PAGES` long (21 MB here) instead of holding every page
    /// written (96 to 263 MB without the writer thread's own step, with
    /// the checkpointer asked for a pass after every batch or every
    /// 1,000 pages).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_starts_over_under_steady_writes() {
        const CALLERS: i64 = 8;
        const EACH: i64 = 1_500;
        let (_dir, path, c, w, stop) = many(CALLERS);
        let reader = beside(&path, &stop, |r| {
            let _: i64 = r
                .query_row("SELECT max(version) FROM cases", [], |r| r.get(0))
                .unwrap();
        });
        // Each event fills most of a page of its own.
        let filler = "x".repeat(3_000);
        let mut tasks = Vec::new();
        for id in 1..=CALLERS {
            let (w, filler) = (w.clone(), filler.clone());
            tasks.push(tokio::spawn(async move {
                for v in 1..=EACH {
                    w.run(transition(id, v, &format!("{id}/{v}/{filler}")), None)
                        .await?;
                }
                Ok::<_, StoreError>(())
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0, "the reader never read");
        let n: i64 = c
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, CALLERS * EACH);
        // A log never truncated is as long as it ever was.
        let longest = std::fs::metadata(path.with_extension("db-wal"))
            .unwrap()
            .len();
        assert!(
            longest < 48 << 20,
            "the log grew to {longest} bytes for {} bytes of events",
            n * 3_000
        );
    }

    /// A reader that holds its snapshot keeps the log from starting over,
    /// so it grows; once the reader lets go, the log starts over and its
    /// file is cut back to `LOG_LIMIT_BYTES`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_log_grown_long_is_cut_back() {
        let (_dir, path, c, w, _stop) = many(4);
        let wal = path.with_extension("db-wal");
        let reader = rusqlite::Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let _: i64 = reader
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        let filler = "y".repeat(3_000);
        let mut version = 1;
        let mut made = 0;
        let mut grown = 0;
        while grown <= super::LOG_LIMIT_BYTES as u64 {
            for id in 1..=4 {
                w.run(
                    transition(id, version, &format!("{id}/{version}/{filler}")),
                    None,
                )
                .await
                .unwrap();
                made += 1;
            }
            version += 1;
            grown = std::fs::metadata(&wal).unwrap().len();
        }
        reader.execute_batch("COMMIT").unwrap();
        // Writes go on; the log starts over once a pass and the writer's
        // own step have copied it, and the commit after that cuts it.
        let mut cut = grown;
        for _ in 0..2_000 {
            if cut <= super::LOG_LIMIT_BYTES as u64 {
                break;
            }
            w.run(transition(1, version, &format!("after/{version}")), None)
                .await
                .unwrap();
            made += 1;
            version += 1;
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            cut = std::fs::metadata(&wal).unwrap().len();
        }
        assert!(
            cut <= super::LOG_LIMIT_BYTES as u64,
            "the log stayed {cut} bytes long (it grew to {grown})"
        );
        let n: i64 = c
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, made, "every transition is in the file");
    }

    /// Statements without the webhooks run only while no subscription is
    /// active, as read in their own transaction: a subscription another
    /// connection makes is seen by the next batch, even by a caller that
    /// was told "none" a moment before.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn webhooks_are_left_out_only_while_no_subscription_is_active() {
        let (_dir, path, c) = setup();
        let w = Writer::start(&path, SqliteSync::Normal).unwrap();
        assert!(w.webhooks_active(), "until the thread has looked");
        assert!(
            w.run_without_webhooks(transition(1, 1, "quiet"), None)
                .await
                .unwrap()
        );
        assert!(!w.webhooks_active());
        c.execute("INSERT INTO webhook_subscriptions (active) VALUES (1)", [])
            .unwrap();
        assert!(!w.webhooks_active(), "the thread has not looked since");
        let ran = w
            .run_without_webhooks(transition(1, 2, "missed"), None)
            .await;
        assert!(!ran.unwrap(), "left out while a subscription is active");
        assert!(w.webhooks_active());
        assert_eq!(events(&c), vec!["quiet".to_owned()], "nothing written");
        w.run(transition(1, 2, "heard"), None).await.unwrap();
        c.execute("UPDATE webhook_subscriptions SET active = 0", [])
            .unwrap();
        assert!(
            w.run_without_webhooks(transition(1, 3, "quiet again"), None)
                .await
                .unwrap()
        );
        assert!(!w.webhooks_active());
        assert_eq!(events(&c), ["quiet", "heard", "quiet again"]);
    }

    /// Runs `statements` on a task of its own.
    fn in_background(
        w: &Writer,
        statements: Vec<Statement>,
    ) -> tokio::task::JoinHandle<Result<(), StoreError>> {
        let w = w.clone();
        tokio::spawn(async move { w.run(statements, None).await })
    }

    /// Until the writer holds a batch open, and a while after.
    async fn held(w: &Writer) {
        let open = async {
            while !w.shared.waiting.load(Ordering::SeqCst) {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(20), open)
            .await
            .expect("the writer holds its batch open");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    /// A batch is held open for a transition on its way, and for nobody
    /// else: not when none is coming, not once the one coming has ended
    /// without statements. (The writer here would wait an hour.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_waits_only_for_transitions_coming() {
        let (_dir, path, c) = setup();
        let hour = std::time::Duration::from_secs(3600);
        let w = Writer::start_waiting(&path, SqliteSync::Normal, hour).unwrap();
        let soon = |f| tokio::time::timeout(std::time::Duration::from_secs(20), f);
        // Nobody coming: committed at once.
        soon(w.run(transition(1, 1, "alone"), None))
            .await
            .expect("no wait for nobody")
            .unwrap();
        assert_eq!(w.group_commits().batches, 1);

        // One coming: the first waits for it, and they share a COMMIT.
        let second = w.coming();
        let first = in_background(&w, transition(2, 1, "first"));
        held(&w).await;
        assert!(!first.is_finished(), "held open for the one coming");
        assert_eq!(w.group_commits().batches, 1);
        soon(w.run(transition(3, 1, "second"), Some(second)))
            .await
            .expect("the one coming was taken")
            .unwrap();
        first.await.unwrap().unwrap();
        let commits = w.group_commits();
        assert_eq!((commits.batches, commits.transitions), (2, 3));
        assert_eq!(commits.held, 1);
        assert_eq!(w.shared.coming.load(Ordering::SeqCst), 0);

        // One coming that ends without statements (a refusal): the batch
        // goes as soon as it is dropped.
        let refused = w.coming();
        let third = in_background(&w, transition(1, 2, "third"));
        held(&w).await;
        assert!(!third.is_finished(), "held open for the one coming");
        drop(refused);
        tokio::time::timeout(std::time::Duration::from_secs(20), third)
            .await
            .expect("woken when the last one coming went")
            .unwrap()
            .unwrap();
        assert_eq!(w.group_commits().batches, 3);
        assert_eq!(w.group_commits().held, 2);
        assert_eq!(events(&c), ["alone", "first", "second", "third"]);
    }

    /// Transitions that queued up commit together, and when that COMMIT
    /// fails, every one of them hears so and none is in the file.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_commit_fails_its_whole_batch() {
        let (_dir, path, c) = setup();
        let w = Writer::start(&path, SqliteSync::Full).unwrap();
        // Hold the write lock so the writer waits in BEGIN with one job
        // taken, while the next two queue behind it.
        let blocker = rusqlite::Connection::open(&path).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let first = tokio::spawn({
            let w = w.clone();
            async move { w.run(transition(1, 1, "first"), None).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        // An event of a case that does not exist: accepted by the statement
        // (the key is checked at COMMIT), refused by the COMMIT.
        let bad = tokio::spawn({
            let w = w.clone();
            async move {
                let mut s = transition(2, 1, "bad");
                s.push(stmt(
                    "INSERT INTO events (case_id, what) VALUES (99, 'orphan')",
                    vec![],
                ));
                w.run(s, None).await
            }
        });
        let good = tokio::spawn({
            let w = w.clone();
            async move { w.run(transition(3, 1, "innocent"), None).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        blocker.execute_batch("COMMIT").unwrap();
        first.await.unwrap().unwrap();
        let bad = bad.await.unwrap();
        let good = good.await.unwrap();
        assert!(bad.is_err(), "{bad:?}");
        assert!(good.is_err(), "the batch shares its COMMIT: {good:?}");
        assert_eq!(events(&c), vec!["first".to_owned()]);
        // The writer carries on.
        w.run(transition(3, 1, "innocent"), None).await.unwrap();
        assert_eq!(events(&c), vec!["first".to_owned(), "innocent".to_owned()]);
    }
}
