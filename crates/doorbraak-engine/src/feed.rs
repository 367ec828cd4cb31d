//! Tells this instance's subscribers about changes made by any instance.
//!
//! On SQLite every write goes through this process, so [`Engine::changed`]
//! tells subscribers directly. On PostgreSQL the change feed below takes
//! over: it listens for the store's notifications and reads the events
//! table after the last event it saw, so it also catches up after a lost
//! connection. It also reads every [`SWEEP`] without a notification: an
//! instance that died between a commit and its notification (sent after
//! the commit, see `doorbraak_store::feed`) delays that change by at most
//! that long. Events can commit slightly out of id order, so each read
//! looks back a small window and remembers the ids it already passed on.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::{Engine, EngineError};

/// How far back each read looks, for events that committed out of order.
const WINDOW: i64 = 256;

/// How long the feed waits for a notification before it reads anyway.
const SWEEP: Duration = Duration::from_secs(1);

/// The least time between two reads: notifications that arrive meanwhile
/// (from any number of instances) are folded into the next read, so the
/// feed reads at most 50 times a second however busy the instances are,
/// and tells subscribers at most this much later.
const READ_SPACING: Duration = Duration::from_millis(20);

impl Engine {
    /// Starts the change feed on PostgreSQL (does nothing on SQLite).
    /// Call once per process, before serving.
    pub async fn start_change_feed(&self) -> Result<(), EngineError> {
        let Some(mut listener) = self.store.listen().await? else {
            return Ok(());
        };
        self.feed_running.store(true, Ordering::SeqCst);
        // The listener lives in a task of its own that only forwards
        // wake-ups (and reconnects), so waiting for one with a time limit
        // never cancels a read from its connection halfway.
        let (wake, mut woken) = tokio::sync::mpsc::channel::<()>(1);
        let store = self.store.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    // A wake-up already waiting covers this one too.
                    Ok(_) => {
                        if let Err(tokio::sync::mpsc::error::TrySendError::Closed(())) =
                            wake.try_send(())
                        {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "change feed: listener lost; reconnecting");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        match store.listen().await {
                            Ok(Some(l)) => {
                                listener = l;
                                // What happened meanwhile is read now.
                                let _ = wake.try_send(());
                            }
                            Ok(None) => return,
                            Err(e) => {
                                tracing::warn!(error = %e, "change feed: cannot reconnect yet")
                            }
                        }
                    }
                }
            }
        });
        let engine = self.clone();
        let mut last = self.store.last_event_id().await?;
        tokio::spawn(async move {
            let mut seen: BTreeSet<i64> = BTreeSet::new();
            loop {
                if let Err(e) = engine.catch_up(&mut last, &mut seen).await {
                    tracing::warn!(error = %e, "change feed: cannot read new events");
                }
                tokio::time::sleep(READ_SPACING).await;
                // A notification, or none for a while: read either way.
                if let Ok(None) = tokio::time::timeout(SWEEP, woken.recv()).await {
                    return;
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
