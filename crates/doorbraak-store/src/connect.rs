//! Opening the database and running migrations.

use std::str::FromStr;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, SqlxPostgresConnector, SqlxSqliteConnector};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{Store, StoreError};

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One connection pool's use at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolStat {
    pub name: &'static str,
    /// Connections open (idle or in use).
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// How long a request waits for a database connection before the
/// database counts as unavailable (`UNAVAILABLE`, HTTP 503). A PostgreSQL
/// that refuses connections is retried until then.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);

/// PostgreSQL: a pooled connection idle at least this long is pinged
/// before it is used again (one idle less long was live when it came back).
pub(crate) const PING_WHEN_IDLE: Duration = Duration::from_secs(1);

/// The same for an SQLite file: no server can refuse it, so a wait means
/// the connections are all busy with long reads.
const SQLITE_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long [`Store::connect`] keeps trying to open its first connection
/// when opening one times out.
const STARTUP_WAIT: Duration = Duration::from_secs(15);

/// Waits for a lazily built pool's first connection. A request waits
/// `ACQUIRE_TIMEOUT` for a connection; starting up may wait longer,
/// because a busy machine can take more than that to start a PostgreSQL
/// backend or an SQLite connection's thread. Only a timeout is tried
/// again: a wrong password, a missing database or an unreadable file fails
/// at once.
async fn first_connection<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> Result<(), sqlx::Error> {
    let patience = std::time::Instant::now() + STARTUP_WAIT;
    loop {
        match pool.acquire().await {
            Ok(_) => return Ok(()),
            Err(sqlx::Error::PoolTimedOut) if std::time::Instant::now() < patience => {}
            Err(e) => return Err(e),
        }
    }
}

/// How SQLite makes a commit durable (`PRAGMA synchronous`, in WAL mode).
///
/// `Normal` (the default): a commit is safe once it is in the write-ahead
/// log; the log is synced at checkpoints. A crashed *process* (kill -9)
/// loses nothing; a power cut or an operating-system crash may lose the
/// last commits, never corrupt the database. `Full` syncs the log at every
/// commit, so a power cut loses nothing either, at a price per transition
/// that `scripts/bench.sh` measures. PostgreSQL is always durable here
/// (`synchronous_commit` stays on); it is the database for deployments
/// where losing the last second to a power cut is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteSync {
    #[default]
    Normal,
    Full,
}

impl std::str::FromStr for SqliteSync {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "normal" => Ok(SqliteSync::Normal),
            "full" => Ok(SqliteSync::Full),
            other => Err(format!(
                "unknown SQLite synchronous mode `{other}` (use normal or full)"
            )),
        }
    }
}

/// Tuning for [`Store::connect`].
#[derive(Debug, Clone)]
pub struct PoolSizes {
    pub sqlite_readers: u32,
    pub postgres: u32,
    pub sqlite_sync: SqliteSync,
}

impl Default for PoolSizes {
    fn default() -> Self {
        PoolSizes {
            sqlite_readers: 4,
            postgres: 16,
            sqlite_sync: SqliteSync::Normal,
        }
    }
}

impl Store {
    /// Opens `url`: `sqlite://PATH` (created if missing, WAL mode, busy
    /// timeout and foreign keys on) or `postgres://…`. Does not migrate.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Self::connect_with(url, &PoolSizes::default()).await
    }

    pub async fn connect_with(url: &str, sizes: &PoolSizes) -> Result<Store, StoreError> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("bad SQLite URL: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(match sizes.sqlite_sync {
                    SqliteSync::Normal => SqliteSynchronous::Normal,
                    SqliteSync::Full => SqliteSynchronous::Full,
                })
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            // On a file the writer thread's checkpointer copies the log
            // into the database; no commit does it (see `sqlite_writer`).
            let opts = if in_memory {
                opts
            } else {
                opts.pragma("wal_autocheckpoint", "0").pragma(
                    "journal_size_limit",
                    crate::sqlite_writer::LOG_LIMIT_BYTES.to_string(),
                )
            };
            let opts_path = opts.get_filename().to_path_buf();
            // A local file cannot drop a connection, so no ping before each
            // use (sqlx's default costs a round trip to the worker thread).
            let writer = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(1)
                .min_connections(1)
                .acquire_timeout(SQLITE_ACQUIRE_TIMEOUT)
                .connect_lazy_with(opts.clone());
            first_connection(&writer)
                .await
                .map_err(|e| StoreError::Config(format!("cannot open the SQLite database: {e}")))?;
            let write = SqlxSqliteConnector::from_sqlx_sqlite_pool(writer);
            let read = if in_memory {
                write.clone()
            } else {
                let readers = SqlitePoolOptions::new()
                    .test_before_acquire(false)
                    .max_connections(sizes.sqlite_readers.max(1))
                    .acquire_timeout(SQLITE_ACQUIRE_TIMEOUT)
                    .connect_lazy_with(opts);
                first_connection(&readers).await.map_err(|e| {
                    StoreError::Config(format!("cannot open the SQLite database: {e}"))
                })?;
                SqlxSqliteConnector::from_sqlx_sqlite_pool(readers)
            };
            Ok(Store {
                read,
                write,
                backend: Backend::Sqlite,
                calls: Default::default(),
                listen_url: None,
                announcer: None,
                pg_direct: None,
                sqlite_path: (!in_memory).then(|| opts_path.clone()),
                sqlite_writer: if in_memory {
                    None
                } else {
                    Some(crate::sqlite_writer::Writer::start(
                        &opts_path,
                        sizes.sqlite_sync,
                    )?)
                },
                sqlite_point: (!in_memory).then(|| {
                    std::sync::Arc::new(crate::sqlite_point::PointReader::new(opts_path.clone()))
                }),
            })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("bad PostgreSQL URL: {e}")))?;
            let direct = crate::pg_direct::Direct::new(opts.clone(), sizes.postgres as usize);
            let pool = PgPoolOptions::new()
                .max_connections(sizes.postgres.max(1))
                .acquire_timeout(ACQUIRE_TIMEOUT)
                // sqlx pings a connection when it goes back to the pool, and
                // by default once more when it is taken out: a second round
                // trip for every statement, a sixth of the server's CPU per
                // transition. A connection that came back moments ago was
                // live then; only one that sat idle is pinged before use.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= PING_WHEN_IDLE {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect_lazy_with(opts);
            first_connection(&pool)
                .await
                .map_err(|e| StoreError::Config(format!("cannot connect to PostgreSQL: {e}")))?;
            let announcer = Some(crate::feed::Announcer::start(pool.clone()));
            let db = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
            Ok(Store {
                read: db.clone(),
                write: db,
                backend: Backend::Postgres,
                calls: Default::default(),
                listen_url: Some(url.to_owned()),
                announcer,
                pg_direct: Some(direct),
                sqlite_path: None,
                sqlite_writer: None,
                sqlite_point: None,
            })
        } else {
            Err(StoreError::Config(
                "unsupported database URL: use sqlite://PATH or postgres://…".to_owned(),
            ))
        }
    }

    /// Applies every pending migration (each in its own transaction).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(&self.write, None).await?;
        Ok(())
    }

    /// SQLite on a file: counts a transition as on its way to the writer
    /// thread, which holds its open batch for it a little
    /// ([`crate::sqlite_writer`]). Take it when an action begins, before
    /// anything is read, and give it to [`Store::record_transition`];
    /// dropping it ends the count too. `None` where there is no such
    /// thread.
    pub fn transition_coming(&self) -> Option<crate::Coming> {
        self.sqlite_writer
            .as_ref()
            .map(crate::sqlite_writer::Writer::coming)
    }

    /// SQLite on a file: the writer thread's batches so far, and the
    /// transitions in them (`None` without the writer thread).
    pub fn group_commits(&self) -> Option<crate::GroupCommits> {
        self.sqlite_writer
            .as_ref()
            .map(crate::sqlite_writer::Writer::group_commits)
    }

    /// How the connection pools are used now, for metrics.
    pub fn pool_stats(&self) -> Vec<PoolStat> {
        let stat = |name: &'static str, db: &sea_orm::DatabaseConnection| match self.backend {
            Backend::Sqlite => {
                let p = db.get_sqlite_connection_pool();
                PoolStat {
                    name,
                    size: p.size(),
                    idle: p.num_idle() as u32,
                    max: p.options().get_max_connections(),
                }
            }
            Backend::Postgres => {
                let p = db.get_postgres_connection_pool();
                PoolStat {
                    name,
                    size: p.size(),
                    idle: p.num_idle() as u32,
                    max: p.options().get_max_connections(),
                }
            }
        };
        match self.backend {
            Backend::Sqlite => vec![stat("writer", &self.write), stat("readers", &self.read)],
            Backend::Postgres => vec![stat("main", &self.write)],
        }
    }

    /// SQLite's synchronous mode as the writer connection reports it
    /// (`None` on PostgreSQL).
    pub async fn sqlite_sync(&self) -> Result<Option<SqliteSync>, StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let row = self
            .write
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "PRAGMA synchronous",
            ))
            .await?
            .ok_or_else(|| StoreError::Corrupt("PRAGMA synchronous gave nothing".into()))?;
        let mode: i32 = row.try_get_by_index(0)?;
        Ok(Some(if mode >= 2 {
            SqliteSync::Full
        } else {
            SqliteSync::Normal
        }))
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    /// Closes the pools (used before a restart in tests and on shutdown).
    pub async fn close(self) {
        let _ = self.read.close().await;
        let _ = self.write.close().await;
    }
}
