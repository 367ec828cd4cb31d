//! The use cases of Doorbraak: load → decide (core) → save.
//!
//! Each public method of [`Engine`] is one thing a user can ask. It checks
//! who is asking, reads what it needs from the [`Store`], lets
//! [`doorbraak_core::decide`] rule, and writes the result in one
//! transaction. It knows neither SQL nor GraphQL.
//!
//! **Invariants:**
//! - a case outside the caller's read scope is reported exactly as a missing
//!   one ([`EngineError::NotFound`]);
//! - the caller's expected version is compared before anything is decided,
//!   and the store guards the write with it again, so two actors on the same
//!   version get exactly one success;
//! - bearer tokens are 256-bit random strings stored as SHA-256 hashes; a
//!   fast hash is enough for such tokens, and a short-lived in-memory cache
//!   spares the database a lookup on every request.

mod auth;
mod cases;
mod clock;
mod demo;
mod error;
mod export;
mod feed;
mod generate;
mod identity;
mod kept;
mod meetings;
mod notify;
mod register;
mod sessions;
mod statistics;

pub use auth::{TOKEN_PREFIX, UserInput, hash_token};
pub use cases::{CommandInput, Page};
pub use clock::{Clock, ManualClock, SystemClock};
pub use demo::DemoUser;
pub use doorbraak_core::Role;
pub use doorbraak_store::{Coming, PoolSizes, PoolStat, SqliteSync};
pub use doorbraak_store::{DeliveryRecord, WebhookSubscription};
pub use error::EngineError;
pub use generate::GenerateReport;
pub use identity::{AccessRequest, PendingLogin, ProvidedIdentity};
pub use notify::{
    LINK_VALID, Message, NotifyConfig, Outbound, SendError, check_callback, is_private, render,
    sign, webhook_body,
};
pub use register::{
    BarrierChoice, CaseSummary, Lesson, LevelDuration, MinistryReport, MinistryStatistics,
    StatFilter,
};
pub use sessions::{ABSOLUTE, IDLE, NewSessionCookie, Session, SignInMethod};
pub use statistics::BULK_FOLD_BATCH;

pub use doorbraak_store::{
    AgendaItemRecord, Backend, BarrierQuery, BarrierRecord, CaseQuery, FocusAreaRow, MeetingRecord,
    MeetingStatus, MinistryRow, Onward, PrecedentHit, Store, StoreError, StoredEvent, UserChange,
    UserRecord,
};

use std::sync::{Arc, RwLock};

use doorbraak_core::{Policy, ReferenceData, Timestamp};

/// Cached reference data (focus areas, ministries, service norms).
#[derive(Debug, Clone, Default)]
struct Reference {
    areas: Vec<FocusAreaRow>,
    ministries: Vec<MinistryRow>,
    policy: Policy,
}

impl ReferenceData for Reference {
    fn has_area(&self, code: &str) -> bool {
        self.areas.iter().any(|a| a.code == code)
    }
    fn has_ministry(&self, code: &str) -> bool {
        self.ministries.iter().any(|m| m.code == code)
    }
}

/// The engine: shared by every request; cheap to clone (one reference
/// count: requests and their loaders each hold a clone).
#[derive(Clone)]
pub struct Engine(Arc<Parts>);

/// What an [`Engine`] holds; its methods reach these fields through
/// `Deref`.
pub struct Parts {
    store: Store,
    clock: Arc<dyn Clock>,
    reference: Arc<RwLock<Reference>>,
    /// Resolved tokens (by hash), for a short while: moka bounds its size
    /// and age.
    tokens: moka::sync::Cache<String, UserRecord>,
    changes: tokio::sync::broadcast::Sender<doorbraak_core::CaseId>,
    /// Cases as this instance last wrote them, by id: a hint the version
    /// guard checks (see `cases::WRITTEN_MAX`).
    written: kept::Kept,
    /// Set once the PostgreSQL change feed tells subscribers about changes.
    feed_running: Arc<std::sync::atomic::AtomicBool>,
    stats: Arc<Stats>,
}

/// Counters for the service's metrics.
#[derive(Debug, Default)]
struct Stats {
    transitions: std::sync::Mutex<std::collections::BTreeMap<&'static str, u64>>,
    /// Milliseconds between the newest event's time and the moment the
    /// change feed passed it on (PostgreSQL); 0 on SQLite.
    feed_lag_ms: std::sync::atomic::AtomicI64,
}

/// What the engine reports for the service's metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineStats {
    /// Transitions recorded by this instance, by event action.
    pub transitions: Vec<(&'static str, u64)>,
    pub feed_lag_seconds: f64,
    pub pools: Vec<doorbraak_store::PoolStat>,
    /// SQLite on a file: how many transitions shared the writer's commits.
    pub group_commits: Option<doorbraak_store::GroupCommits>,
}

impl std::ops::Deref for Engine {
    type Target = Parts;
    fn deref(&self) -> &Parts {
        &self.0
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Builds an engine over a migrated store and loads the reference data.
    pub async fn new(store: Store, clock: Arc<dyn Clock>) -> Result<Engine, EngineError> {
        let engine = Engine(Arc::new(Parts {
            store,
            clock,
            reference: Arc::default(),
            tokens: moka::sync::Cache::builder()
                .max_capacity(auth::TOKEN_CACHE_MAX)
                .time_to_live(auth::TOKEN_CACHE_TTL)
                .support_invalidation_closures()
                .build(),
            changes: tokio::sync::broadcast::channel(1024).0,
            written: kept::Kept::new(cases::WRITTEN_MAX),
            feed_running: Arc::default(),
            stats: Arc::default(),
        }));
        engine.reload_reference().await?;
        Ok(engine)
    }

    /// Re-reads focus areas, ministries and service norms from the database.
    pub async fn reload_reference(&self) -> Result<(), EngineError> {
        let fresh = Reference {
            areas: self.store.focus_areas().await?,
            ministries: self.store.ministries().await?,
            policy: self.store.policy().await?,
        };
        *self.reference.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(())
    }

    fn reference(&self) -> Reference {
        self.reference
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many repository calls this engine's store has served (tests
    /// pin the cost of a request with it).
    pub fn repository_calls(&self) -> u64 {
        self.store.calls()
    }

    /// Closes the database pools (before a restart, and on shutdown).
    pub async fn close(&self) {
        self.store.clone().close().await;
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn policy(&self) -> Policy {
        self.reference
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .policy
            .clone()
    }

    pub fn focus_areas(&self) -> Vec<FocusAreaRow> {
        self.reference
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .areas
            .clone()
    }

    pub fn ministries(&self) -> Vec<MinistryRow> {
        self.reference
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .ministries
            .clone()
    }

    pub fn focus_area(&self, code: &str) -> Option<FocusAreaRow> {
        self.reference
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .areas
            .iter()
            .find(|a| a.code == code)
            .cloned()
    }

    pub fn ministry(&self, code: &str) -> Option<MinistryRow> {
        self.reference
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .ministries
            .iter()
            .find(|m| m.code == code)
            .cloned()
    }

    /// Ids of cases as they change through this instance.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<doorbraak_core::CaseId> {
        self.changes.subscribe()
    }

    /// What the metrics show of the engine now.
    pub fn stats(&self) -> EngineStats {
        let transitions = self
            .stats
            .transitions
            .lock()
            .map(|m| m.iter().map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default();
        EngineStats {
            transitions,
            feed_lag_seconds: self
                .stats
                .feed_lag_ms
                .load(std::sync::atomic::Ordering::Relaxed) as f64
                / 1000.0,
            pools: self.store.pool_stats(),
            group_commits: self.store.group_commits(),
        }
    }

    pub(crate) fn feed_lag(&self, ms: i64) {
        self.stats
            .feed_lag_ms
            .store(ms.max(0), std::sync::atomic::Ordering::Relaxed);
    }

    /// A transition committed: count it and tell subscribers.
    pub(crate) fn changed(&self, id: doorbraak_core::CaseId, action: doorbraak_core::EventAction) {
        if let Ok(mut m) = self.stats.transitions.lock() {
            *m.entry(action.as_str()).or_default() += 1;
        }
        // With the change feed running, the feed tells (once, for every
        // instance); otherwise this process is the only writer and tells
        // directly. No receivers is fine: nobody is watching.
        if !self.feed_running.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = self.changes.send(id);
        }
    }

    /// Sets a level's service norm (administrators only; 1 to 365 days).
    pub async fn set_service_norm(
        &self,
        caller: &UserRecord,
        level: doorbraak_core::Level,
        days: i32,
        auto_escalate: bool,
    ) -> Result<(), EngineError> {
        if caller.role != doorbraak_core::Role::Administrator {
            return Err(EngineError::Forbidden(
                "only administrators set service norms".into(),
            ));
        }
        if !(1..=365).contains(&days) {
            return Err(EngineError::validation("days", "must be between 1 and 365"));
        }
        self.store
            .set_service_norm(level, days, auto_escalate)
            .await?;
        self.reload_reference().await
    }

    /// Readiness: the database answers.
    pub async fn ready(&self) -> Result<(), EngineError> {
        Ok(self.store.ping().await?)
    }
}
