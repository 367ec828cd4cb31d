//! Batch loaders, so that a list of cases costs a fixed number of queries,
//! not one per row.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use doorbraak_core::{CaseId, UserId};
use doorbraak_engine::{Engine, EngineError, StoredEvent, UserRecord};

/// The per-request user loader (cached for the request).
pub type Users = DataLoader<UserLoader, HashMapCache>;
/// The per-request event loader (cached for the request).
pub type Events = DataLoader<EventLoader, HashMapCache>;

/// Users by id.
pub struct UserLoader(pub Engine);

impl Loader<UserId> for UserLoader {
    type Value = UserRecord;
    type Error = EngineError;

    async fn load(&self, keys: &[UserId]) -> Result<HashMap<UserId, UserRecord>, EngineError> {
        Ok(self
            .0
            .users(keys)
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
        for e in self.0.events_of(keys).await? {
            out.entry(e.case_id).or_default().push(e);
        }
        Ok(out)
    }
}
