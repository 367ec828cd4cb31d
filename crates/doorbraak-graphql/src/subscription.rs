//! Subscriptions (graphql-transport-ws on `/graphql/ws`).

use async_graphql::{Context, ID, Subscription};
use futures_util::Stream;
use futures_util::stream::StreamExt;

use crate::errors::{ErrorCode, to_gql};
use crate::query::parse_id;
use crate::types::{Case, caller, engine};

pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// The case as it is now, then again each time it changes (through
    /// this server instance). Ends when the case leaves your scope.
    async fn case_updated(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<impl Stream<Item = Case> + use<>> {
        let me = caller(ctx)?.principal();
        let id = parse_id(&id).ok_or_else(|| ErrorCode::NotFound.error("case not found"))?;
        let e = engine(ctx).clone();
        // Listen before reading, so no change between the two is missed.
        let changes = tokio_stream_from(e.subscribe());
        let Some(now) = e.case(&me, id).await.map_err(to_gql)? else {
            return Err(ErrorCode::NotFound.error("case not found"));
        };
        let later = changes
            .filter(move |changed| futures_util::future::ready(*changed == id))
            .then(move |_| {
                let e = e.clone();
                let me = me.clone();
                async move { e.case(&me, id).await.ok().flatten() }
            })
            .take_while(|c| futures_util::future::ready(c.is_some()))
            // Each version once, even if a change is announced twice.
            .scan(now.status.version, |shown, c| {
                let c = c.filter(|c| c.status.version > *shown);
                if let Some(c) = &c {
                    *shown = c.status.version;
                }
                futures_util::future::ready(Some(c))
            })
            .filter_map(|c| futures_util::future::ready(c.map(Case)));
        Ok(futures_util::stream::once(futures_util::future::ready(Case(now))).chain(later))
    }
}

/// A broadcast receiver as a stream; a lagging receiver skips what it missed.
fn tokio_stream_from(rx: tokio::sync::broadcast::Receiver<i64>) -> impl Stream<Item = i64> {
    use tokio::sync::broadcast::error::RecvError;
    futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(id) => return Some((id, rx)),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    })
}
