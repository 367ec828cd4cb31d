//! Batch loaders, so that a list of cases costs a fixed number of queries,
//! not one per row. Each is built per request with the caller, and every
//! engine call it makes takes that caller: the engine decides what it may
//! see, so a loader can never hand out what the caller may not read.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use doorbraak_core::{CaseId, Principal, UserId};
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
pub struct UserLoader(pub Engine, pub Option<Principal>);

impl Loader<UserId> for UserLoader {
    type Value = UserRecord;
    type Error = EngineError;

    async fn load(&self, keys: &[UserId]) -> Result<HashMap<UserId, UserRecord>, EngineError> {
        let Some(p) = &self.1 else {
            return Ok(HashMap::new());
        };
        Ok(retrying(|| self.0.users(p, keys))
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect())
    }
}

/// A case's events by case id. Only ever asked for cases the caller was
/// already allowed to read.
pub struct EventLoader(pub Engine, pub Option<Principal>);

impl Loader<CaseId> for EventLoader {
    type Value = Vec<StoredEvent>;
    type Error = EngineError;

    async fn load(
        &self,
        keys: &[CaseId],
    ) -> Result<HashMap<CaseId, Vec<StoredEvent>>, EngineError> {
        let mut out: HashMap<CaseId, Vec<StoredEvent>> = HashMap::new();
        let Some(p) = &self.1 else {
            return Ok(out);
        };
        for e in retrying(|| self.0.events_of(p, keys)).await? {
            out.entry(e.case_id).or_default().push(e);
        }
        Ok(out)
    }
}

/// Barriers by id.
pub struct BarrierLoader(pub Engine, pub Option<Principal>);

impl Loader<i64> for BarrierLoader {
    type Value = BarrierRecord;
    type Error = EngineError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, BarrierRecord>, EngineError> {
        let Some(p) = &self.1 else {
            return Ok(HashMap::new());
        };
        Ok(retrying(|| self.0.barriers_by_ids(p, keys))
            .await?
            .into_iter()
            .map(|b| (b.id, b))
            .collect())
    }
}

/// A case's agenda items (its meeting history) by case id.
pub struct AgendaLoader(pub Engine, pub Option<Principal>);

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
        let Some(p) = &self.1 else {
            return Ok(out);
        };
        for i in retrying(|| self.0.items_of_cases(p, keys)).await? {
            out.entry(i.case_id).or_default().push(i);
        }
        Ok(out)
    }
}

/// Meetings by id.
pub struct MeetingLoader(pub Engine, pub Option<Principal>);

impl Loader<i64> for MeetingLoader {
    type Value = MeetingRecord;
    type Error = EngineError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, MeetingRecord>, EngineError> {
        let Some(p) = &self.1 else {
            return Ok(HashMap::new());
        };
        Ok(retrying(|| self.0.meetings_by_ids(p, keys))
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
    pub fn new(engine: &Engine, caller: Option<&UserRecord>) -> Loaders {
        let p = caller.map(UserRecord::principal);
        let e = || (engine.clone(), p.clone());
        Loaders {
            users: DataLoader::with_cache(
                {
                    let (e, p) = e();
                    UserLoader(e, p)
                },
                tokio::spawn,
                HashMapCache::default(),
            ),
            events: DataLoader::with_cache(
                {
                    let (e, p) = e();
                    EventLoader(e, p)
                },
                tokio::spawn,
                HashMapCache::default(),
            ),
            barriers: DataLoader::with_cache(
                {
                    let (e, p) = e();
                    BarrierLoader(e, p)
                },
                tokio::spawn,
                HashMapCache::default(),
            ),
            agendas: DataLoader::with_cache(
                {
                    let (e, p) = e();
                    AgendaLoader(e, p)
                },
                tokio::spawn,
                HashMapCache::default(),
            ),
            meetings: DataLoader::with_cache(
                {
                    let (e, p) = e();
                    MeetingLoader(e, p)
                },
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
