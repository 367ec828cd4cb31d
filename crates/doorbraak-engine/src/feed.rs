//! Tells this instance's subscribers about changes made by any instance.
//!
//! On SQLite every write goes through this process, so [`Engine::changed`]
//! tells subscribers directly. On PostgreSQL the change feed below takes
//! over: it listens for the store's notifications and reads the events
//! table after the last event it saw, so it also catches up after a lost
//! connection. Events can commit slightly out of id order, so each read
//! looks back a small window and remembers the ids it already passed on.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::{Engine, EngineError};

/// How far back each read looks, for events that committed out of order.
const WINDOW: i64 = 256;

impl Engine {
    /// Starts the change feed on PostgreSQL (does nothing on SQLite).
    /// Call once per process, before serving.
    pub async fn start_change_feed(&self) -> Result<(), EngineError> {
        let Some(mut listener) = self.store.listen().await? else {
            return Ok(());
        };
        self.feed_running.store(true, Ordering::SeqCst);
        let engine = self.clone();
        let mut last = self.store.last_event_id().await?;
        tokio::spawn(async move {
            let mut seen: BTreeSet<i64> = BTreeSet::new();
            loop {
                if let Err(e) = engine.catch_up(&mut last, &mut seen).await {
                    tracing::warn!(error = %e, "change feed: cannot read new events");
                }
                match listener.recv().await {
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "change feed: listener lost; reconnecting");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        match engine.store.listen().await {
                            Ok(Some(l)) => listener = l,
                            Ok(None) => return,
                            Err(e) => {
                                tracing::warn!(error = %e, "change feed: cannot reconnect yet")
                            }
                        }
                    }
                }
            }
        });
        Ok(())
    }

    async fn catch_up(&self, last: &mut i64, seen: &mut BTreeSet<i64>) -> Result<(), EngineError> {
        loop {
            let rows = self.store.events_after(*last - WINDOW, 1_000).await?;
            for e in &rows {
                if seen.insert(e.event) {
                    let _ = self.changes.send(e.case);
                    self.feed_lag(self.now().timestamp_millis() - e.at.timestamp_millis());
                }
                *last = (*last).max(e.event);
            }
            // Forget what fell out of the window.
            let floor = *last - WINDOW;
            *seen = seen.split_off(&floor);
            if rows.len() < 1_000 {
                return Ok(());
            }
        }
    }
}
