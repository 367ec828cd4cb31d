//! Webhook subscriptions for other systems (administrators only), and
//! their delivery logs.

use async_graphql::{Context, ID, InputObject, Object};
use doorbraak_engine::{DeliveryRecord, WebhookSubscription as Sub};

use crate::errors::{ApiResult, ErrorCode, to_gql};
use crate::query::parse_id;
use crate::types::{FocusArea, Ministry, area_obj, caller, engine, ministry_obj};

/// Whether callbacks may point to loopback and private addresses
/// (`DOORBRAAK_WEBHOOK_ALLOW_PRIVATE`).
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookSettings {
    pub allow_private: bool,
}

#[derive(InputObject)]
pub struct WebhookSubscriptionInput {
    /// Where deliveries are POSTed (https or http).
    pub callback_url: String,
    /// Focus area codes; empty or absent: every area.
    pub focus_areas: Option<Vec<String>>,
    /// Ministry codes (the rule's owning ministry); empty or absent: all.
    pub ministries: Option<Vec<String>>,
}

/// A subscription of another system to the events of cases.
pub struct WebhookSubscription {
    sub: Sub,
    /// Shown only in the answer that created it.
    show_secret: bool,
}

#[Object]
impl WebhookSubscription {
    async fn id(&self) -> ID {
        ID(self.sub.id.to_string())
    }
    async fn callback_url(&self) -> &str {
        &self.sub.callback_url
    }
    /// `whsec_` and base64: the key of the `webhook-signature` HMAC. Only in
    /// the answer of `createWebhookSubscription`.
    async fn secret(&self) -> Option<&str> {
        self.show_secret.then_some(self.sub.secret.as_str())
    }
    async fn focus_areas(&self, ctx: &Context<'_>) -> Vec<FocusArea> {
        self.sub
            .focus_areas
            .iter()
            .map(|a| area_obj(engine(ctx), a))
            .collect()
    }
    async fn ministries(&self, ctx: &Context<'_>) -> Vec<Ministry> {
        self.sub
            .ministries
            .iter()
            .map(|m| ministry_obj(engine(ctx), m))
            .collect()
    }
    /// False after a `410 Gone` answer (or by hand); `activateWebhookSubscription` turns it on.
    async fn active(&self) -> bool {
        self.sub.active
    }
    /// The newest deliveries first (at most 100).
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> ApiResult<Vec<WebhookDelivery>> {
        let me = caller(ctx)?;
        let rows = engine(ctx)
            .deliveries(&me.principal(), self.sub.id, first.clamp(1, 100) as u64)
            .await
            .map_err(to_gql)?;
        Ok(rows.into_iter().map(WebhookDelivery).collect())
    }
}

/// One delivery of an event to a subscription.
pub struct WebhookDelivery(DeliveryRecord);

#[Object]
impl WebhookDelivery {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn case_reference(&self) -> String {
        payload(&self.0, "reference")
    }
    /// The event's action (`SUBMIT`, `PICK_UP`, `ESCALATE`, …).
    async fn action(&self) -> String {
        payload(&self.0, "action")
    }
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    async fn delivered_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.delivered_at
    }
    /// Set when retries stopped (after 25 hours, or a refused address, or 410).
    async fn failed_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.failed_at
    }
    async fn last_status(&self) -> Option<i32> {
        self.0.last_status
    }
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
}

fn payload(d: &DeliveryRecord, key: &str) -> String {
    serde_json::from_str::<serde_json::Value>(&d.payload)
        .ok()
        .and_then(|v| v[key].as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn sub_id(id: &ID) -> ApiResult<i64> {
    parse_id(id).ok_or_else(|| ErrorCode::NotFound.error("webhook subscription not found"))
}

#[derive(Default)]
pub struct WebhookQueries;

#[Object]
impl WebhookQueries {
    /// Every webhook subscription (administrators).
    async fn webhook_subscriptions(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<WebhookSubscription>> {
        let me = caller(ctx)?;
        let subs = engine(ctx)
            .subscriptions(&me.principal())
            .await
            .map_err(to_gql)?;
        Ok(subs
            .into_iter()
            .map(|sub| WebhookSubscription {
                sub,
                show_secret: false,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct WebhookMutations;

#[Object]
impl WebhookMutations {
    /// Registers a subscription (administrators); the answer holds its secret, once.
    async fn create_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        input: WebhookSubscriptionInput,
    ) -> ApiResult<WebhookSubscription> {
        let me = caller(ctx)?;
        let allow = ctx
            .data_opt::<WebhookSettings>()
            .copied()
            .unwrap_or_default()
            .allow_private;
        let sub = engine(ctx)
            .create_subscription(
                &me.principal(),
                &input.callback_url,
                &input.focus_areas.unwrap_or_default(),
                &input.ministries.unwrap_or_default(),
                allow,
            )
            .await
            .map_err(to_gql)?;
        Ok(WebhookSubscription {
            sub,
            show_secret: true,
        })
    }

    /// Removes a subscription and its delivery log.
    async fn delete_webhook_subscription(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let me = caller(ctx)?;
        engine(ctx)
            .delete_subscription(&me.principal(), sub_id(&id)?)
            .await
            .map_err(to_gql)
    }

    /// Turns a subscription on again (after a `410 Gone` turned it off).
    async fn activate_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<WebhookSubscription> {
        let me = caller(ctx)?;
        let sub = engine(ctx)
            .set_subscription_active(&me.principal(), sub_id(&id)?, true)
            .await
            .map_err(to_gql)?;
        Ok(WebhookSubscription {
            sub,
            show_secret: false,
        })
    }
}
