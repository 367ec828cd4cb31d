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

/// Tuning for [`Store::connect`].
#[derive(Debug, Clone)]
pub struct PoolSizes {
    pub sqlite_readers: u32,
    pub postgres: u32,
}

impl Default for PoolSizes {
    fn default() -> Self {
        PoolSizes {
            sqlite_readers: 4,
            postgres: 16,
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
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(opts.clone())
                .await
                .map_err(|e| StoreError::Config(format!("cannot open the SQLite database: {e}")))?;
            let write = SqlxSqliteConnector::from_sqlx_sqlite_pool(writer);
            let read = if in_memory {
                write.clone()
            } else {
                let readers = SqlitePoolOptions::new()
                    .max_connections(sizes.sqlite_readers.max(1))
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_with(opts)
                    .await
                    .map_err(|e| {
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
            })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("bad PostgreSQL URL: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(sizes.postgres.max(1))
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(opts)
                .await
                .map_err(|e| StoreError::Config(format!("cannot connect to PostgreSQL: {e}")))?;
            let db = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
            Ok(Store {
                read: db.clone(),
                write: db,
                backend: Backend::Postgres,
                calls: Default::default(),
                listen_url: Some(url.to_owned()),
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
