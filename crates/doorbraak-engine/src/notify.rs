//! Hearing back: sending what the outbox holds, webhook subscriptions, and
//! sign-in by e-mail link.
//!
//! The store writes outbox rows in each event's transaction
//! (`doorbraak_core::notices` says who hears what). [`Engine::deliver_due`]
//! takes due rows with a lease, renders them, and hands them to an
//! [`Outbound`] (the server's SMTP and HTTP clients): I/O stays at the
//! edge. A row is marked delivered only after the send succeeded, so a
//! crash between the two sends it again: delivery is at least once.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{Datelike, TimeDelta};
use doorbraak_core::{Level, MessageKind, Principal, Role, handler_role};
use doorbraak_store::{
    AttemptEnd, CaseQuery, Channel, OutboxItem, ScheduledMessage, WebhookSubscription,
};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::auth::{hash_token, random_token};
use crate::{Engine, EngineError, NewSessionCookie, SignInMethod};

/// How long a sign-in link works.
pub const LINK_VALID: TimeDelta = TimeDelta::minutes(15);
/// How long a worker holds a row it is sending.
const LEASE: TimeDelta = TimeDelta::minutes(2);
/// Webhooks are retried for at least this long.
pub const WEBHOOK_RETRY_FOR: TimeDelta = TimeDelta::hours(25);
/// E-mail is tried this many times.
const MAIL_ATTEMPTS: i32 = 12;

/// Why a send did not succeed.
#[derive(Debug, Clone)]
pub struct SendError {
    /// The HTTP status, for a webhook that answered.
    pub status: Option<u16>,
    pub message: String,
    /// Worth trying again later (a timeout, a 5xx); not for a refused
    /// address.
    pub retry: bool,
}

/// The outside world: SMTP and HTTP, implemented by the server.
#[async_trait::async_trait]
pub trait Outbound: Send + Sync {
    /// Whether e-mail can be sent at all (an SMTP server is configured).
    fn mail_enabled(&self) -> bool;
    async fn send_mail(&self, to: &str, subject: &str, body: &str) -> Result<(), SendError>;
    /// POSTs `body` to `url`; returns the status of a 2xx answer.
    async fn post_webhook(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> Result<u16, SendError>;
}

/// A message as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
}

fn level_nl(l: &str) -> &'static str {
    match l.parse::<Level>() {
        Ok(Level::ProgrammeBureau) => "het programmabureau",
        Ok(Level::Alliance) => "de alliantie",
        Ok(Level::NationalRepresentative) => "de rijksvertegenwoordiger",
        Ok(Level::BreakthroughMeeting) => "het doorbraakoverleg",
        Err(_) => "het volgende niveau",
    }
}

/// The Dutch text of a message. It names the case by its reference and
/// title and links to its page; it never holds the description.
pub fn render(kind: MessageKind, p: &Value, public_url: &str) -> Message {
    let reference = p["reference"].as_str().unwrap_or("");
    let title = p["title"].as_str().unwrap_or("");
    let link = format!("{public_url}/zaken/{}", p["caseId"]);
    let note = p["note"].as_str().unwrap_or("");
    let level = level_nl(p["level"].as_str().unwrap_or(""));
    let footer = format!(
        "\n\nBekijk de zaak: {link}\n\nU krijgt dit bericht van Doorbraak. Berichten die niet nodig zijn, zet u uit op {public_url}/mijn-gegevens.\n"
    );
    let (subject, text) = match kind {
        MessageKind::Receipt => (
            format!("Uw zaak {reference} is ontvangen"),
            format!(
                "Uw zaak \"{title}\" is ontvangen. Het kenmerk is {reference}.\nHet programmabureau bekijkt de zaak. U hoort het als er iets verandert."
            ),
        ),
        MessageKind::Moved => (
            format!("Uw zaak {reference} is nu bij {level}"),
            format!(
                "Uw zaak \"{title}\" ({reference}) is verder gegaan. Hij is nu bij {level}.\n\nToelichting:\n{note}"
            ),
        ),
        MessageKind::Question => (
            format!("Vraag over uw zaak {reference}"),
            format!(
                "Er is een vraag over uw zaak \"{title}\" ({reference}):\n\n{note}\n\nDe klok staat stil tot u antwoordt. Beantwoord de vraag op de pagina van de zaak: {link}"
            ),
        ),
        MessageKind::Decision => {
            let outcome = match p["outcome"].as_str() {
                Some("ALREADY_POSSIBLE") => "Het kan al binnen de regels.",
                Some("INCIDENTAL_BREAKTHROUGH") => "Er is een doorbraak voor deze situatie.",
                Some("STRUCTURAL_BREAKTHROUGH") => {
                    "Er is een structurele doorbraak: de regel verandert."
                }
                Some("EXPERIMENT") => "Er komt een experiment.",
                Some("FUNDING_UNLOCKED") => "Er is geld vrijgemaakt.",
                _ => "Er komt geen doorbraak.",
            };
            (
                format!("Besluit over uw zaak {reference}"),
                format!(
                    "Er is een besluit over uw zaak \"{title}\" ({reference}).\n\n{outcome}\n\nUitleg:\n{note}\n\nBent u het er niet mee eens? Binnen 30 dagen kunt u bezwaar maken op de pagina van de zaak."
                ),
            )
        }
        MessageKind::Closed => (
            format!("Uw zaak {reference} is gesloten"),
            format!("Uw zaak \"{title}\" ({reference}) is gesloten.\n\nReden:\n{note}"),
        ),
        MessageKind::EnteredQueue => (
            format!("Nieuwe zaak in uw wachtrij: {reference}"),
            format!("De zaak \"{title}\" ({reference}) staat in uw wachtrij."),
        ),
        MessageKind::Answered => (
            format!("Antwoord ontvangen bij {reference}"),
            format!(
                "De indiener heeft uw vraag bij \"{title}\" ({reference}) beantwoord. De klok loopt weer."
            ),
        ),
        MessageKind::DeadlineSoon => (
            format!("Over twee dagen verloopt de deadline van {reference}"),
            format!(
                "De deadline van de zaak \"{title}\" ({reference}) is {}.",
                p["deadline"].as_str().unwrap_or("")
            ),
        ),
        MessageKind::Digest => {
            let list: Vec<String> = p["cases"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.as_str())
                        .map(|c| format!("- {c}"))
                        .collect()
                })
                .unwrap_or_default();
            let scope = p["scope"].as_str().unwrap_or("");
            return Message {
                subject: format!("Vastlopers deze week: {} zaken ({scope})", list.len()),
                body: format!(
                    "Deze zaken zijn over hun deadline ({scope}):\n\n{}\n\nHet overzicht: {public_url}/vastlopers\n",
                    list.join("\n")
                ),
            };
        }
        MessageKind::SignInLink => {
            return Message {
                subject: "Inloggen bij Doorbraak".to_owned(),
                body: format!(
                    "U vroeg om in te loggen bij Doorbraak. Open deze link binnen 15 minuten en klik op de knop \"Inloggen\":\n\n{public_url}/inloggen/link?code={}\n\nVroeg u dit niet? Dan kunt u dit bericht negeren.\n",
                    p["code"].as_str().unwrap_or("")
                ),
            };
        }
    };
    Message {
        subject,
        body: format!("{text}{footer}"),
    }
}

/// The body of a webhook delivery, in the shape of the ZGW Notificaties API.
pub fn webhook_body(p: &Value, public_url: &str) -> String {
    let url = format!("{public_url}/zaken/{}", p["caseId"]);
    json!({
        "kanaal": "zaken",
        "hoofdObject": url,
        "resource": "zaak",
        "resourceUrl": url,
        "actie": p["action"],
        "aanmaakdatum": p["at"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        "kenmerken": {
            "reference": p["reference"],
            "focusArea": p["focusArea"],
            "owningMinistry": p["owningMinistry"],
            "state": p["state"],
            "level": p["level"],
        },
    })
    .to_string()
}

/// `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, per the
/// Standard Webhooks specification; the key is the secret after `whsec_`,
/// base64-decoded.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

fn backoff(base: TimeDelta, attempts: i32, cap: TimeDelta) -> TimeDelta {
    let factor = 1i32 << attempts.clamp(1, 20).saturating_sub(1);
    (base * factor).min(cap)
}

/// The settings the deliverer needs.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// `DOORBRAAK_PUBLIC_URL`, for links.
    pub public_url: String,
    /// `DOORBRAAK_WEBHOOK_ALLOW_PRIVATE`.
    pub allow_private: bool,
    /// The first wait before a retry; it doubles with every attempt
    /// (`DOORBRAAK_OUTBOX_BACKOFF_SECONDS`, default 30).
    pub backoff_base: TimeDelta,
}

impl NotifyConfig {
    pub fn new(public_url: &str) -> NotifyConfig {
        NotifyConfig {
            public_url: public_url.trim_end_matches('/').to_owned(),
            allow_private: false,
            backoff_base: TimeDelta::seconds(30),
        }
    }
    /// How long a worker holds a row it is sending: long enough for a slow
    /// server, short enough that a crashed worker's rows go out soon.
    fn lease(&self) -> TimeDelta {
        (self.backoff_base * 4).clamp(TimeDelta::seconds(10), LEASE)
    }
}

impl Engine {
    /// Sends what is due; returns how many rows it finished (delivered,
    /// rescheduled or failed).
    pub async fn deliver_due(
        &self,
        out: &Arc<dyn Outbound>,
        cfg: &NotifyConfig,
    ) -> Result<usize, EngineError> {
        let now = self.now();
        let due = self.store.due_outbox(now, 50).await?;
        let mut done = 0;
        for item in due {
            if !self
                .store
                .claim_outbox(item.id, now, now + cfg.lease())
                .await?
            {
                continue; // another instance has it
            }
            self.deliver_one(out, cfg, &item).await?;
            done += 1;
        }
        Ok(done)
    }

    /// Stops trying a row, for a reason that retrying will not change.
    async fn give_up(
        &self,
        item: &OutboxItem,
        status: Option<i32>,
        why: &str,
        redacted: Option<&str>,
    ) -> Result<(), EngineError> {
        let end = AttemptEnd::Failed {
            status,
            error: why.to_owned(),
        };
        Ok(self
            .store
            .finish_outbox(item.id, self.now(), &end, redacted)
            .await?)
    }

    async fn deliver_one(
        &self,
        out: &Arc<dyn Outbound>,
        cfg: &NotifyConfig,
        item: &OutboxItem,
    ) -> Result<(), EngineError> {
        let now = self.now();
        let attempts = item.attempts + 1;
        let payload: Value = serde_json::from_str(&item.payload).unwrap_or(Value::Null);
        match item.channel {
            Channel::Email => {
                let Some(to) = &item.email else {
                    return self
                        .give_up(item, None, "the recipient has no address (any more)", None)
                        .await;
                };
                if !out.mail_enabled() {
                    return self
                        .give_up(
                            item,
                            None,
                            "e-mail is not configured (DOORBRAAK_SMTP_URL)",
                            None,
                        )
                        .await;
                }
                let kind = MessageKind::parse(&item.kind).unwrap_or(MessageKind::Moved);
                let m = render(kind, &payload, &cfg.public_url);
                // A sign-in link's secret is dropped once sent, or once given up.
                let redacted =
                    (kind == MessageKind::SignInLink).then_some("{\"kind\":\"SIGN_IN_LINK\"}");
                let (end, redact) = match out.send_mail(to, &m.subject, &m.body).await {
                    Ok(()) => (AttemptEnd::Delivered { status: None }, redacted),
                    Err(e) => {
                        tracing::warn!(outbox.id = item.id, attempts, error = %e.message, "sending a message failed");
                        if e.retry && attempts < MAIL_ATTEMPTS {
                            let at = now + backoff(cfg.backoff_base, attempts, TimeDelta::hours(1));
                            (
                                AttemptEnd::Retry {
                                    at,
                                    status: None,
                                    error: e.message,
                                },
                                None,
                            )
                        } else {
                            (
                                AttemptEnd::Failed {
                                    status: None,
                                    error: e.message,
                                },
                                redacted,
                            )
                        }
                    }
                };
                self.store.finish_outbox(item.id, now, &end, redact).await?;
            }
            Channel::Webhook => {
                let Some(sub) = item.subscription.as_ref().filter(|s| s.active) else {
                    return self
                        .give_up(item, None, "the subscription is inactive", None)
                        .await;
                };
                let body = webhook_body(&payload, &cfg.public_url);
                let id = format!("msg_{}", item.id);
                // The signature's timestamp is the wall clock's: it lets the
                // receiver refuse replays, and says nothing about the case.
                let ts = chrono::Utc::now().timestamp();
                let Some(signature) = sign(&sub.secret, &id, ts, &body) else {
                    return self
                        .give_up(item, None, "the subscription's secret is unreadable", None)
                        .await;
                };
                let headers = [
                    ("webhook-id", id.clone()),
                    ("webhook-timestamp", ts.to_string()),
                    ("webhook-signature", signature),
                ];
                let end = match out.post_webhook(&sub.callback_url, &headers, &body).await {
                    Ok(status) => AttemptEnd::Delivered {
                        status: Some(i32::from(status)),
                    },
                    Err(e) if e.status == Some(410) => {
                        tracing::info!(
                            subscription.id = sub.id,
                            "the receiver answered 410 Gone: subscription disabled"
                        );
                        self.store.set_subscription_active(sub.id, false).await?;
                        AttemptEnd::Failed {
                            status: Some(410),
                            error: "410 Gone: the subscription was disabled".to_owned(),
                        }
                    }
                    Err(e) => {
                        tracing::warn!(outbox.id = item.id, subscription.id = sub.id, attempts, error = %e.message, "a webhook delivery failed");
                        let status = e.status.map(i32::from);
                        if e.retry && now - item.created_at < WEBHOOK_RETRY_FOR {
                            let at = now + backoff(cfg.backoff_base, attempts, TimeDelta::hours(2));
                            AttemptEnd::Retry {
                                at,
                                status,
                                error: e.message,
                            }
                        } else {
                            AttemptEnd::Failed {
                                status,
                                error: e.message,
                            }
                        }
                    }
                };
                self.store.finish_outbox(item.id, now, &end, None).await?;
            }
        }
        Ok(())
    }

    /// Writes the reminders (two days before a deadline) and the weekly
    /// digests of stuck cases that are due now. Each is written once,
    /// whichever instance gets there first.
    pub async fn schedule_messages(&self) -> Result<(), EngineError> {
        let now = self.now();
        let soon = now + TimeDelta::days(2);
        let q = CaseQuery {
            overdue_at: Some(soon),
            ..CaseQuery::default()
        };
        let mut msgs = Vec::new();
        let mut after = None;
        let mut stuck: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        let mut all_stuck = Vec::new();
        loop {
            let page = self
                .store
                .list_cases(&doorbraak_core::ReadScope::All, &q, after, 200)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for c in &page {
                let Some(deadline) = c.status.deadline else {
                    continue;
                };
                let Some(level) = c.status.state.active_level() else {
                    continue;
                };
                if deadline <= now {
                    stuck
                        .entry(c.facts.focus_area.clone())
                        .or_default()
                        .push(format!("{} ({})", c.facts.reference, c.facts.title));
                    all_stuck.push(format!(
                        "{} ({}, {})",
                        c.facts.reference, c.facts.focus_area, c.facts.title
                    ));
                    continue;
                }
                let role = handler_role(level);
                let who = match c.status.assignee {
                    Some(a) => vec![a],
                    None => {
                        let area = (role != Role::BreakthroughSecretariat)
                            .then_some(c.facts.focus_area.as_str());
                        self.store.users_to_tell(role, area, false).await?
                    }
                };
                let payload = json!({
                    "caseId": c.id, "reference": c.facts.reference, "title": c.facts.title,
                    "deadline": deadline.format("%Y-%m-%d %H:%M UTC").to_string(),
                });
                for u in who {
                    msgs.push(ScheduledMessage {
                        user_id: u,
                        case_id: Some(c.id),
                        kind: MessageKind::DeadlineSoon,
                        payload: payload.to_string(),
                        dedupe_key: format!("deadline:{}:{}:{u}", c.id, deadline.timestamp()),
                    });
                }
            }
        }
        let week = now.iso_week();
        let tag = format!("{}-W{:02}", week.year(), week.week());
        for (area, cases) in &stuck {
            let payload = json!({ "scope": area, "cases": cases });
            for u in self
                .store
                .users_to_tell(Role::ProgrammeBureau, Some(area), false)
                .await?
            {
                msgs.push(ScheduledMessage {
                    user_id: u,
                    case_id: None,
                    kind: MessageKind::Digest,
                    payload: payload.to_string(),
                    dedupe_key: format!("digest:{area}:{tag}:{u}"),
                });
            }
        }
        if !all_stuck.is_empty() {
            let payload = json!({ "scope": "landelijk", "cases": all_stuck });
            for u in self
                .store
                .users_to_tell(Role::BreakthroughSecretariat, None, false)
                .await?
            {
                msgs.push(ScheduledMessage {
                    user_id: u,
                    case_id: None,
                    kind: MessageKind::Digest,
                    payload: payload.to_string(),
                    dedupe_key: format!("digest:NL:{tag}:{u}"),
                });
            }
        }
        self.store.enqueue_scheduled(&msgs, now).await?;
        Ok(())
    }

    /// Rows not yet delivered (for metrics and tests).
    pub async fn outbox_waiting(&self) -> Result<u64, EngineError> {
        Ok(self.store.outbox_waiting().await?)
    }

    /// Asks for a sign-in link for an address. The answer is the same
    /// whether the address is known or not; a link goes out only to an
    /// active user with that address.
    pub async fn request_sign_in_link(&self, email: &str) -> Result<(), EngineError> {
        let Ok(address) = doorbraak_core::EmailAddress::parse("email", email) else {
            return Ok(());
        };
        let Some(user) = self.store.user_by_email(address.as_str()).await? else {
            return Ok(());
        };
        let now = self.now();
        // A mailbox is not flooded: at most five links per fifteen minutes.
        if self
            .store
            .sign_in_links_since(user.id, now - LINK_VALID)
            .await?
            >= 5
        {
            tracing::info!(
                user.id = user.id,
                "sign-in link not sent: too many asked for"
            );
            return Ok(());
        }
        let code = random_token();
        let payload = json!({ "kind": "SIGN_IN_LINK", "code": code });
        self.store
            .insert_sign_in_link(
                &hash_token(&code),
                user.id,
                now,
                now + LINK_VALID,
                &payload.to_string(),
            )
            .await?;
        tracing::info!(user.id = user.id, "sign-in link sent");
        Ok(())
    }

    /// Whether a link's code can still be used (nothing is used up).
    pub async fn sign_in_link_usable(&self, code: &str) -> Result<bool, EngineError> {
        if code.len() > 100 {
            return Ok(false);
        }
        Ok(self
            .store
            .sign_in_link_usable(&hash_token(code), self.now())
            .await?)
    }

    /// Uses a link's code, once, and starts a session.
    pub async fn sign_in_with_link(&self, code: &str) -> Result<NewSessionCookie, EngineError> {
        if code.len() > 100 {
            return Err(EngineError::Unauthenticated);
        }
        let id = self
            .store
            .use_sign_in_link(&hash_token(code), self.now())
            .await?
            .ok_or(EngineError::Unauthenticated)?;
        let user = self
            .store
            .users_by_ids(&[id])
            .await?
            .pop()
            .filter(|u| u.active)
            .ok_or(EngineError::Unauthenticated)?;
        self.start_session(&user, SignInMethod::EmailLink, None)
            .await
    }

    /// A user turns messages that are not essential on or off.
    pub async fn set_notify_optional(&self, p: &Principal, on: bool) -> Result<(), EngineError> {
        self.store.set_notify_optional(p.id, on).await?;
        Ok(())
    }

    fn require_admin(&self, p: &Principal) -> Result<(), EngineError> {
        if p.role == Role::Administrator {
            Ok(())
        } else {
            Err(EngineError::Forbidden(
                "only administrators manage webhook subscriptions".into(),
            ))
        }
    }

    /// Registers a webhook subscription (administrators). Returns it with
    /// its secret, which is shown this once.
    pub async fn create_subscription(
        &self,
        p: &Principal,
        url: &str,
        areas: &[String],
        ministries: &[String],
        allow_private: bool,
    ) -> Result<WebhookSubscription, EngineError> {
        self.require_admin(p)?;
        check_callback(url, allow_private)?;
        let codes = self.known_areas("input.focusAreas", areas)?;
        let mins = self.known_ministries("input.ministries", ministries)?;
        let mut key = [0u8; 24];
        rand::rng().fill_bytes(&mut key);
        let secret = format!("whsec_{}", STANDARD.encode(key));
        Ok(self
            .store
            .create_subscription(url.trim(), &secret, &codes, &mins, self.now())
            .await?)
    }

    pub async fn subscriptions(
        &self,
        p: &Principal,
    ) -> Result<Vec<WebhookSubscription>, EngineError> {
        self.require_admin(p)?;
        Ok(self.store.subscriptions().await?)
    }

    pub async fn set_subscription_active(
        &self,
        p: &Principal,
        id: i64,
        active: bool,
    ) -> Result<WebhookSubscription, EngineError> {
        self.require_admin(p)?;
        if !self.store.set_subscription_active(id, active).await? {
            return Err(EngineError::NotFound("webhook subscription"));
        }
        self.store
            .subscriptions()
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(EngineError::NotFound("webhook subscription"))
    }

    pub async fn delete_subscription(&self, p: &Principal, id: i64) -> Result<bool, EngineError> {
        self.require_admin(p)?;
        Ok(self.store.delete_subscription(id).await?)
    }

    pub async fn deliveries(
        &self,
        p: &Principal,
        id: i64,
        first: u64,
    ) -> Result<Vec<doorbraak_store::DeliveryRecord>, EngineError> {
        self.require_admin(p)?;
        Ok(self.store.deliveries(id, first.min(100)).await?)
    }
}

/// Is this address one a webhook may not reach (loopback, private,
/// link-local, unspecified, multicast, carrier-grade NAT, unique local)?
pub fn is_private(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v) => {
            let o = v.octets();
            v.is_loopback()
                || v.is_private()
                || v.is_link_local()
                || v.is_unspecified()
                || v.is_multicast()
                || v.is_broadcast()
                || v.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        IpAddr::V6(v) => {
            let s = v.segments();
            v.is_loopback()
                || v.is_unspecified()
                || v.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || v.to_ipv4_mapped()
                    .is_some_and(|m| is_private(IpAddr::V4(m)))
        }
    }
}

/// Checks a callback address as given: http(s), a host, and (unless
/// allowed) no private address written as an IP or as `localhost`. Names
/// are checked again when they are resolved for each delivery.
pub fn check_callback(url: &str, allow_private: bool) -> Result<(), EngineError> {
    let bad = |m: &str| EngineError::validation("input.callbackUrl", m.to_owned());
    let u = url.trim();
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or_else(|| bad("must start with https:// or http://"))?;
    if u.len() > 2000 || u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("is not a valid address"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(bad("must not hold a user name or password"));
    }
    let host = if let Some(h) = authority.strip_prefix('[') {
        h.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    if host.is_empty() {
        return Err(bad("has no host"));
    }
    if !allow_private {
        let local = host.eq_ignore_ascii_case("localhost")
            || host.to_ascii_lowercase().ends_with(".localhost");
        if local || host.parse::<std::net::IpAddr>().is_ok_and(is_private) {
            return Err(bad(
                "points to a loopback or private address; set DOORBRAAK_WEBHOOK_ALLOW_PRIVATE=true to allow it",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification's reference tests.
        let s = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            s.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(sign("no-prefix", "x", 1, "{}"), None);
    }

    #[test]
    fn private_callbacks_are_refused_unless_allowed() {
        for u in [
            "http://127.0.0.1/x",
            "http://localhost:8080/",
            "https://10.1.2.3/",
            "http://[::1]/",
            "http://169.254.169.254/latest",
            "http://192.168.0.1",
            "http://[fd00::1]/",
        ] {
            assert!(check_callback(u, false).is_err(), "{u}");
            assert!(check_callback(u, true).is_ok(), "{u}");
        }
        assert!(check_callback("https://zaken.gemeente.example/notificaties", false).is_ok());
        assert!(check_callback("ftp://x.example/", true).is_err());
        assert!(check_callback("https://user:pw@x.example/", true).is_err());
    }

    #[test]
    fn backoff_grows_and_stops_at_its_cap() {
        let b = TimeDelta::seconds(30);
        assert_eq!(backoff(b, 1, TimeDelta::hours(1)), TimeDelta::seconds(30));
        assert_eq!(backoff(b, 3, TimeDelta::hours(1)), TimeDelta::seconds(120));
        assert_eq!(backoff(b, 19, TimeDelta::hours(2)), TimeDelta::hours(2));
    }

    #[test]
    fn messages_hold_no_description() {
        let p = json!({ "caseId": 7, "reference": "ZDO-2026-0007", "title": "Bijverdienen", "note": "Hoe oud is hij?", "level": "ALLIANCE" });
        let m = render(MessageKind::Question, &p, "https://doorbraak.example.nl");
        assert!(m.body.contains("https://doorbraak.example.nl/zaken/7"));
        assert!(m.body.contains("Hoe oud is hij?"));
        assert!(m.subject.contains("ZDO-2026-0007"));
    }
}
