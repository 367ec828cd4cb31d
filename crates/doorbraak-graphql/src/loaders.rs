//! Batch loaders, so that a list of cases costs a fixed number of queries,
//! not one per row.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use doorbraak_core::{CaseId, UserId};
use doorbraak_engine::{
    AgendaItemRecord, BarrierRecord, Engine, EngineError, MeetingRecord, StoredEvent, UserRecord,
};

/// The per-request user loader (cached for the request).
pub type Users = DataLoader<UserLoader, HashMapCache>;
/// The per-request event loader (cached for the request).
pub type Events = DataLoader<EventLoader, HashMapCache>;

/// Runs a read again while the database is briefly unavailable (a
/// restart, a dropped connection), for up to about three seconds.
/// Loaders run after a mutation's commit too: retrying there lets the
/// answer show the new state instead of an error when the database comes
/// back at once. Reads are idempotent, so retrying is safe.
async fn retrying<T, F, Fut>(mut read: F) -> Result<T, EngineError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, EngineError>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(3000);
    let mut wait = std::time::Duration::from_millis(50);
    loop {
        match read().await {
            Err(EngineError::Unavailable(_)) if std::time::Instant::now() + wait < deadline => {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            r => return r,
        }
    }
}

/// Users by id.
pub struct UserLoader(pub Engine);

impl Loader<UserId> for UserLoader {
    type Value = UserRecord;
    type Error = EngineError;

    async fn load(&self, keys: &[UserId]) -> Result<HashMap<UserId, UserRecord>, EngineError> {
        Ok(retrying(|| self.0.users(keys))
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect())
    }
}

/// A case's events by case id. Only ever asked for cases the caller was
/// already allowed to read.
pub struct EventLoader(pub Engine);

impl Loader<CaseId> for EventLoader {
    type Value = Vec<StoredEvent>;
    type Error = EngineError;

    async fn load(
        &self,
        keys: &[CaseId],
    ) -> Result<HashMap<CaseId, Vec<StoredEvent>>, EngineError> {
        let mut out: HashMap<CaseId, Vec<StoredEvent>> = HashMap::new();
        for e in retrying(|| self.0.events_of(keys)).await? {
            out.entry(e.case_id).or_default().push(e);
        }
        Ok(out)
    }
}

/// Barriers by id.
pub struct BarrierLoader(pub Engine);

impl Loader<i64> for BarrierLoader {
    type Value = BarrierRecord;
    type Error = EngineError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, BarrierRecord>, EngineError> {
        Ok(retrying(|| self.0.barriers_by_ids(keys))
            .await?
            .into_iter()
            .map(|b| (b.id, b))
            .collect())
    }
}

/// A case's agenda items (its meeting history) by case id.
pub struct AgendaLoader(pub Engine);

impl Loader<CaseId> for AgendaLoader {
    type Value = Vec<AgendaItemRecord>;
    type Error = EngineError;

    async fn load(
        &self,
        keys: &[CaseId],
    ) -> Result<HashMap<CaseId, Vec<AgendaItemRecord>>, EngineError> {
        // Every key gets an entry, also an empty one, so the request's cache
        // remembers "no meetings" too.
        let mut out: HashMap<CaseId, Vec<AgendaItemRecord>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for i in retrying(|| self.0.items_of_cases(keys)).await? {
            out.entry(i.case_id).or_default().push(i);
        }
        Ok(out)
    }
}

/// Meetings by id.
pub struct MeetingLoader(pub Engine);

impl Loader<i64> for MeetingLoader {
    type Value = MeetingRecord;
    type Error = EngineError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, MeetingRecord>, EngineError> {
        Ok(retrying(|| self.0.meetings_by_ids(keys))
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect())
    }
}

/// Every loader of one request, cached for that request only.
pub struct Loaders {
    pub users: Users,
    pub events: Events,
    pub barriers: DataLoader<BarrierLoader, HashMapCache>,
    pub agendas: DataLoader<AgendaLoader, HashMapCache>,
    pub meetings: DataLoader<MeetingLoader, HashMapCache>,
}

impl Loaders {
    pub fn new(engine: &Engine) -> Loaders {
        let e = || engine.clone();
        Loaders {
            users: DataLoader::with_cache(UserLoader(e()), tokio::spawn, HashMapCache::default()),
            events: DataLoader::with_cache(EventLoader(e()), tokio::spawn, HashMapCache::default()),
            barriers: DataLoader::with_cache(
                BarrierLoader(e()),
                tokio::spawn,
                HashMapCache::default(),
            ),
            agendas: DataLoader::with_cache(
                AgendaLoader(e()),
                tokio::spawn,
                HashMapCache::default(),
            ),
            meetings: DataLoader::with_cache(
                MeetingLoader(e()),
                tokio::spawn,
                HashMapCache::default(),
            ),
        }
    }

    /// Puts the loaders into a request's or a connection's data.
    pub fn insert_into(self, data: &mut async_graphql::Data) {
        data.insert(self.users);
        data.insert(self.events);
        data.insert(self.barriers);
        data.insert(self.agendas);
        data.insert(self.meetings);
    }

    /// Attaches the loaders to a request.
    pub fn attach(self, req: async_graphql::Request) -> async_graphql::Request {
        req.data(self.users)
            .data(self.events)
            .data(self.barriers)
            .data(self.agendas)
            .data(self.meetings)
    }
}
