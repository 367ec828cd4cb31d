//! The outside world for the outbox: SMTP (lettre) and HTTP (reqwest), and
//! the worker that sends what is due.
//!
//! Webhook callbacks are resolved before each delivery; when any address a
//! name resolves to is loopback or private (and
//! `DOORBRAAK_WEBHOOK_ALLOW_PRIVATE` is not set) the delivery is refused,
//! and the request is pinned to the checked address, so a name cannot
//! resolve to something else between the check and the connection.
//! Redirects are never followed: a 3xx answer is a failed delivery.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use doorbraak_engine::{Engine, NotifyConfig, Outbound, SendError, is_private};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// The settings of the outbound side.
#[derive(Debug, Clone, Default)]
pub struct OutboundConfig {
    /// `DOORBRAAK_SMTP_URL`: `smtp://host:port`, `smtp://user:pass@host:port`
    /// or `smtps://…`.
    pub smtp_url: Option<String>,
    /// `DOORBRAAK_MAIL_FROM`.
    pub mail_from: String,
    /// `DOORBRAAK_WEBHOOK_ALLOW_PRIVATE`.
    pub allow_private: bool,
}

pub struct Sender {
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Option<Mailbox>,
    allow_private: bool,
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Builds the SMTP transport from `smtp[s]://[user:pass@]host[:port]`.
fn smtp_transport(url: &str) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("smtps://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("smtp://") {
        (false, r)
    } else {
        anyhow::bail!("DOORBRAAK_SMTP_URL must start with smtp:// or smtps://");
    };
    let rest = rest.trim_end_matches('/');
    let (creds, hostport) = match rest.rsplit_once('@') {
        Some((c, h)) => (Some(c), h),
        None => (None, rest),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (
            h,
            Some(
                p.parse::<u16>()
                    .map_err(|_| anyhow::anyhow!("DOORBRAAK_SMTP_URL has an invalid port"))?,
            ),
        ),
        None => (hostport, None),
    };
    if host.is_empty() {
        anyhow::bail!("DOORBRAAK_SMTP_URL has no host");
    }
    let mut b = if tls {
        AsyncSmtpTransport::<Tokio1Executor>::relay(host)?
    } else {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
    };
    if let Some(p) = port {
        b = b.port(p);
    }
    if let Some(c) = creds {
        let (u, p) = c.split_once(':').unwrap_or((c, ""));
        b = b.credentials(Credentials::new(decode(u), decode(p)));
    }
    Ok(b.timeout(Some(Duration::from_secs(20))).build())
}

impl Sender {
    pub fn new(cfg: &OutboundConfig) -> anyhow::Result<Sender> {
        let smtp = cfg
            .smtp_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(smtp_transport)
            .transpose()?;
        let from = if smtp.is_some() {
            Some(cfg.mail_from.parse::<Mailbox>().map_err(|_| {
                anyhow::anyhow!(
                    "DOORBRAAK_MAIL_FROM `{}` is not an e-mail address",
                    cfg.mail_from
                )
            })?)
        } else {
            None
        };
        Ok(Sender {
            smtp,
            from,
            allow_private: cfg.allow_private,
        })
    }
}

fn err(message: impl Into<String>, retry: bool) -> SendError {
    SendError {
        status: None,
        message: message.into(),
        retry,
    }
}

#[async_trait::async_trait]
impl Outbound for Sender {
    fn mail_enabled(&self) -> bool {
        self.smtp.is_some()
    }

    async fn send_mail(&self, to: &str, subject: &str, body: &str) -> Result<(), SendError> {
        let (Some(smtp), Some(from)) = (&self.smtp, &self.from) else {
            return Err(err("e-mail is not configured", false));
        };
        let to: Mailbox = to
            .parse()
            .map_err(|_| err("the recipient's address is invalid", false))?;
        let msg = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| err(format!("cannot build the message: {e}"), false))?;
        smtp.send(msg).await.map(|_| ()).map_err(|e| {
            // The error may quote the server's answer, never our recipient.
            let permanent = e.is_permanent();
            err(
                format!(
                    "SMTP: {}",
                    if permanent {
                        "the server refused the message"
                    } else {
                        "the server could not be reached or answered with a temporary error"
                    }
                ),
                !permanent,
            )
        })
    }

    async fn post_webhook(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> Result<u16, SendError> {
        let parsed =
            reqwest::Url::parse(url).map_err(|_| err("the callback address is invalid", false))?;
        let host = parsed
            .host_str()
            .ok_or_else(|| err("the callback address has no host", false))?
            .to_owned();
        let port = parsed.port_or_known_default().unwrap_or(443);
        let bare = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare.as_str(), port))
            .await
            .map_err(|e| err(format!("cannot resolve the callback's host: {e}"), true))?
            .collect();
        let Some(first) = addrs.first().copied() else {
            return Err(err("the callback's host has no address", true));
        };
        if !self.allow_private && addrs.iter().any(|a| is_private(a.ip())) {
            return Err(err(
                "the callback resolves to a loopback or private address",
                false,
            ));
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .resolve(&bare, first)
            .build()
            .map_err(|e| err(format!("cannot build the HTTP client: {e}"), true))?;
        let mut req = client
            .post(parsed)
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => Ok(r.status().as_u16()),
            Ok(r) => {
                let s = r.status().as_u16();
                let retry = s == 429 || s == 408 || s >= 500 || (300..400).contains(&s);
                Err(SendError {
                    status: Some(s),
                    message: format!("the receiver answered {s}"),
                    retry,
                })
            }
            Err(e) => Err(err(
                format!(
                    "the receiver could not be reached: {}",
                    if e.is_timeout() {
                        "timeout"
                    } else {
                        "connection failed"
                    }
                ),
                true,
            )),
        }
    }
}

/// Sends what the outbox holds, every second, and writes reminders and
/// digests every five minutes. Runs until the process ends.
pub fn spawn_outbox_worker(
    engine: Engine,
    out: Arc<dyn Outbound>,
    cfg: NotifyConfig,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            if n.is_multiple_of(300)
                && let Err(e) = engine.schedule_messages().await
            {
                tracing::warn!(error = %e, "cannot write reminders and digests; retrying later");
            }
            n += 1;
            loop {
                match engine.deliver_due(&out, &cfg).await {
                    Ok(0) => break,
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "sending from the outbox failed; retrying in a second");
                        break;
                    }
                }
            }
        }
    })
}
