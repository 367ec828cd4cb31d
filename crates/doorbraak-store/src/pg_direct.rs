//! PostgreSQL: the connections the transitions' statement runs on, kept
//! by the store itself rather than in sqlx's pool.
//!
//! sqlx's pool pings every connection that goes back to it (a `Sync` and
//! its answer), to find the ones a dropped query left half-way. For the
//! transition, one statement in one round trip ([`crate::transition`]),
//! that ping was a second round trip, and on this two-core machine the
//! wake-ups of both ends cost about as much as the statement's own. These
//! connections go back without it:
//!
//! - A connection is held by the future that runs the statement. If that
//!   future is dropped half-way, the connection is dropped with it (closed),
//!   never put back, so no connection with a half-read answer is reused.
//! - After an error that says the connection or the server is gone
//!   ([`StoreError::is_unavailable`]) it is closed; after any other error
//!   (the statement failed, the connection is fine) it goes back.
//! - One that sat idle for [`PING_WHEN_IDLE`] or longer is pinged before
//!   use, as the pool does ([`crate::connect`]); a failed ping closes it
//!   and a new one is opened.
//! - At most `size` at a time; waiting longer than [`ACQUIRE_TIMEOUT`] for
//!   one, or failing to connect within it, is `UNAVAILABLE`, as with the pool.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr, Statement};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::sync::Semaphore;

use crate::StoreError;
use crate::connect::{ACQUIRE_TIMEOUT, PING_WHEN_IDLE};

pub(crate) struct Direct {
    options: PgConnectOptions,
    /// Idle connections, each with the moment it came back.
    idle: Mutex<Vec<(PgConnection, Instant)>>,
    permits: Semaphore,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct")
            .field("available", &self.permits.available_permits())
            .finish()
    }
}

fn sqlx_err(wrap: fn(RuntimeErr) -> DbErr, e: sqlx::Error) -> StoreError {
    StoreError::Db(wrap(RuntimeErr::SqlxError(Arc::new(e))))
}

impl Direct {
    pub(crate) fn new(options: PgConnectOptions, size: usize) -> Arc<Direct> {
        Arc::new(Direct {
            options,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(size.max(1)),
        })
    }

    fn take_idle(&self) -> Option<(PgConnection, Instant)> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    fn put_back(&self, conn: PgConnection) {
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((conn, Instant::now()));
    }

    async fn connection(&self) -> Result<PgConnection, StoreError> {
        while let Some((mut conn, since)) = self.take_idle() {
            if since.elapsed() < PING_WHEN_IDLE || conn.ping().await.is_ok() {
                return Ok(conn);
            }
        }
        match tokio::time::timeout(ACQUIRE_TIMEOUT, PgConnection::connect_with(&self.options)).await
        {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(sqlx_err(DbErr::Conn, e)),
            Err(_) => Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout).into()),
        }
    }

    /// Runs `statement` and returns how many rows it answered.
    pub(crate) async fn rows(&self, statement: Statement) -> Result<usize, StoreError> {
        let _permit = match tokio::time::timeout(ACQUIRE_TIMEOUT, self.permits.acquire()).await {
            Ok(Ok(p)) => p,
            _ => return Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout).into()),
        };
        let mut conn = self.connection().await?;
        let values = statement
            .values
            .unwrap_or_else(|| sea_orm::Values(Vec::new()));
        // Built by sea-query ([`crate::transition::pg_statement`]): every
        // value is a bound parameter, none is spliced into the text.
        let sql = sqlx::AssertSqlSafe(statement.sql);
        match sqlx::query_with(sql, sea_query_sqlx::SqlxValues(values))
            .fetch_all(&mut conn)
            .await
        {
            Ok(rows) => {
                self.put_back(conn);
                Ok(rows.len())
            }
            Err(e) => {
                let e = sqlx_err(DbErr::Query, e);
                if !e.is_unavailable() {
                    self.put_back(conn);
                }
                Err(e)
            }
        }
    }
}
