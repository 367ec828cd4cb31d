//! The command line: `serve`, `migrate`, `user create`, `schema`.
//!
//! Standard output carries only what a command produces (a token, the
//! schema); logs go to standard error. A failure to start is one line.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use clap::{Args, Parser, Subcommand};
use doorbraak_engine::{Engine, Role, Store, SystemClock};
use tokio::net::TcpListener;

use crate::{AppOptions, RateLimit, Server, app};

#[derive(Parser, Debug)]
#[command(
    name = "doorbraak",
    version,
    about = "Doorbraak: carries breakthrough cases up the escalation ladder"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug, Clone)]
struct DbArgs {
    /// Database: sqlite://PATH (the default, created if missing) or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://doorbraak.db")]
    database_url: String,
    /// SQLite only: `normal` (a crashed process loses nothing; a power cut
    /// may lose the last commits) or `full` (a power cut loses nothing
    /// either; every commit waits for the disk).
    #[arg(long, env = "DOORBRAAK_SQLITE_SYNCHRONOUS", default_value = "normal")]
    sqlite_synchronous: String,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the service (migrations are applied on start).
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// Address to listen on.
        #[arg(long, env = "DOORBRAAK_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
        /// Requests per second allowed per user.
        #[arg(long, env = "DOORBRAAK_RATE_LIMIT", default_value_t = 50.0)]
        rate_limit: f64,
        /// Burst of operations allowed per user above the steady rate.
        #[arg(long, env = "DOORBRAAK_RATE_BURST", default_value_t = 200.0)]
        rate_burst: f64,
        #[command(flatten)]
        limits: LimitArgs,
        /// When set, `/metrics` wants `Authorization: Bearer <this token>`.
        #[arg(long, env = "DOORBRAAK_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
        /// The address people reach the service at (links, the session
        /// cookie's `Secure` flag). Default: `http://` plus the listening address.
        #[arg(long, env = "DOORBRAAK_PUBLIC_URL")]
        public_url: Option<String>,
        /// SMTP server for e-mail: smtp://host:port, smtp://user:pass@host:port
        /// or smtps://…; without it no e-mail is sent.
        #[arg(long, env = "DOORBRAAK_SMTP_URL", hide_env_values = true)]
        smtp_url: Option<String>,
        /// The sender of e-mail.
        #[arg(
            long,
            env = "DOORBRAAK_MAIL_FROM",
            default_value = "Doorbraak <doorbraak@localhost>"
        )]
        mail_from: String,
        /// Allow webhook callbacks to loopback and private addresses.
        #[arg(long, env = "DOORBRAAK_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set)]
        webhook_allow_private: bool,
        /// Seconds before the first retry of a message or delivery; the
        /// wait doubles with every attempt.
        #[arg(long, env = "DOORBRAAK_OUTBOX_BACKOFF_SECONDS", default_value_t = 30)]
        outbox_backoff_seconds: u32,
        #[command(flatten)]
        oidc: OidcArgs,
    },
    /// Apply pending migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Fill the database with example people and cases, and print each
    /// person's access code (for a first look at the pages).
    Demo {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Fill the database with N realistic generated cases (all areas and
    /// levels, outcomes, barriers, meetings, four years of events), written
    /// in bulk; the same seed gives the same cases.
    Generate {
        /// How many cases.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
        cases: u64,
        /// Seed of the random choices.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Signing in through the organisation's identity provider.
#[derive(Args, Debug, Clone)]
struct OidcArgs {
    /// The issuer (its discovery document is at
    /// `<issuer>/.well-known/openid-configuration`).
    #[arg(long, env = "DOORBRAAK_OIDC_ISSUER")]
    oidc_issuer: Option<String>,
    #[arg(long, env = "DOORBRAAK_OIDC_CLIENT_ID")]
    oidc_client_id: Option<String>,
    /// For client_secret_basic.
    #[arg(long, env = "DOORBRAAK_OIDC_CLIENT_SECRET", hide_env_values = true)]
    oidc_client_secret: Option<String>,
    /// Path of a PEM RSA private key, for private_key_jwt.
    #[arg(long, env = "DOORBRAAK_OIDC_CLIENT_KEY")]
    oidc_client_key: Option<String>,
    /// The audience API access tokens must carry (default: the client id).
    #[arg(long, env = "DOORBRAAK_OIDC_AUDIENCE")]
    oidc_audience: Option<String>,
    /// `false` turns the access-code form off (only with OpenID Connect).
    #[arg(long, env = "DOORBRAAK_ACCESS_CODE_SIGNIN", default_value_t = true, action = clap::ArgAction::Set)]
    access_code_signin: bool,
}

impl OidcArgs {
    fn settings(&self) -> Result<Option<doorbraak_web::oidc::OidcSettings>> {
        use doorbraak_web::oidc::{ClientAuth, OidcSettings};
        let Some(issuer) = self
            .oidc_issuer
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return Ok(None);
        };
        let client_id = self
            .oidc_client_id
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| anyhow!("DOORBRAAK_OIDC_ISSUER needs DOORBRAAK_OIDC_CLIENT_ID"))?;
        let auth = match (&self.oidc_client_secret, &self.oidc_client_key) {
            (Some(s), None) if !s.is_empty() => ClientAuth::Secret(s.clone()),
            (None, Some(path)) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("cannot read DOORBRAAK_OIDC_CLIENT_KEY {path}"))?;
                OidcSettings::key_from_pem(&pem).map_err(|e| anyhow!(e))?
            }
            _ => {
                return Err(anyhow!(
                    "give either DOORBRAAK_OIDC_CLIENT_SECRET or DOORBRAAK_OIDC_CLIENT_KEY"
                ));
            }
        };
        Ok(Some(OidcSettings {
            issuer: issuer.to_owned(),
            audience: self
                .oidc_audience
                .clone()
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| client_id.clone()),
            client_id,
            auth,
        }))
    }
}

/// What one GraphQL request may cost (see `doorbraak_graphql::limits`).
#[derive(Args, Debug, Clone)]
struct LimitArgs {
    /// Seconds a request may run before it is stopped (TOO_COMPLEX).
    #[arg(long, env = "DOORBRAAK_REQUEST_TIMEOUT", default_value_t = 10.0)]
    request_timeout: f64,
    /// Deepest nesting of data fields.
    #[arg(long, env = "DOORBRAAK_MAX_DEPTH", default_value_t = 12)]
    max_depth: u32,
    /// Most fields in a document once its fragments are expanded.
    #[arg(long, env = "DOORBRAAK_MAX_FIELDS", default_value_t = 2_000)]
    max_fields: u64,
    /// Most aliases in a document.
    #[arg(long, env = "DOORBRAAK_MAX_ALIASES", default_value_t = 30)]
    max_aliases: u64,
    /// Most root fields in an operation.
    #[arg(long, env = "DOORBRAAK_MAX_ROOT_FIELDS", default_value_t = 20)]
    max_root_fields: u64,
}

impl LimitArgs {
    fn limits(&self) -> Result<crate::Limits> {
        if !(self.request_timeout > 0.0 && self.request_timeout <= 3600.0) {
            return Err(anyhow!(
                "the request timeout must be above 0 and at most 3600 seconds"
            ));
        }
        if self.max_depth == 0 || self.max_fields == 0 || self.max_root_fields == 0 {
            return Err(anyhow!(
                "the depth, field and root-field limits must be at least 1"
            ));
        }
        Ok(crate::Limits {
            timeout: std::time::Duration::from_secs_f64(self.request_timeout),
            max_depth: self.max_depth,
            max_fields: self.max_fields,
            max_aliases: self.max_aliases,
            max_root_fields: self.max_root_fields,
            ..crate::Limits::default()
        })
    }
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create a user and print their token (once) on standard output.
    Create {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        name: String,
        /// A role, in any case, with _ or - (national-representative).
        #[arg(long)]
        role: String,
        /// Focus area code; repeat for several.
        #[arg(long = "area")]
        areas: Vec<String>,
        /// Ministry code.
        #[arg(long)]
        ministry: Option<String>,
        /// E-mail address (unique; for messages and sign-in by e-mail link).
        #[arg(long)]
        email: Option<String>,
    },
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("DOORBRAAK_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

async fn open(db: &DbArgs) -> Result<Engine> {
    let sizes = doorbraak_engine::PoolSizes {
        sqlite_sync: db
            .sqlite_synchronous
            .parse()
            .map_err(|e: String| anyhow!(e))?,
        ..doorbraak_engine::PoolSizes::default()
    };
    let store = Store::connect_with(&db.database_url, &sizes)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow!("cannot apply migrations: {e}"))?;
    Engine::new(store, Arc::new(SystemClock))
        .await
        .map_err(|e| anyhow!("cannot load reference data: {e}"))
}

/// Writes one line to standard output (tokens, the schema).
fn out(line: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this
/// function is called (not when the future is first polled), so a signal
/// that arrives right after start-up is never missed.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot install the SIGTERM handler")?;
    #[cfg(unix)]
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("cannot install the SIGINT handler")?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// `DOORBRAAK_PUBLIC_URL`, checked, or `http://` plus the address listened on.
fn resolve_public_url(given: Option<&str>, listener: &TcpListener) -> Result<String> {
    match given.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
            Ok(u.trim_end_matches('/').to_owned())
        }
        Some(u) => Err(anyhow!(
            "DOORBRAAK_PUBLIC_URL `{u}` must start with http:// or https://"
        )),
        None => Ok(format!(
            "http://{}",
            listener
                .local_addr()
                .context("cannot read the listening address")?
        )),
    }
}

/// Every minute, escalates the overdue cases of levels configured to do so.
fn spawn_deadline_worker(engine: Engine) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // Service norms may have been changed through another instance.
            if let Err(e) = engine.reload_reference().await {
                tracing::warn!(error = %e, "cannot reload the service norms");
            }
            if let Err(e) = engine.escalate_overdue().await {
                tracing::warn!(error = %e, "automatic escalation failed; retrying in a minute");
            }
            if let Err(e) = engine.purge_expired_sessions().await {
                tracing::warn!(error = %e, "cannot remove expired sessions; retrying in a minute");
            }
        }
    });
}

/// Cases folded into the statistics' sums per transaction in the
/// background (small, so a fold never holds the write lock for long).
const FOLD_BATCH: u64 = 500;

/// Keeps the statistics' sums up to date: folds in the cases whose
/// contribution may have changed, a batch at a time, and rests a quarter
/// of a second when none are waiting. Readers never wait for it: what is
/// not folded in yet is read case by case.
fn spawn_statistics_folder(engine: Engine) {
    tokio::spawn(async move {
        loop {
            let pause = match engine.fold_statistics(FOLD_BATCH).await {
                Ok(n) if n as u64 >= FOLD_BATCH => None,
                Ok(_) => Some(std::time::Duration::from_millis(250)),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot fold cases into the statistics; retrying in 5 s");
                    Some(std::time::Duration::from_secs(5))
                }
            };
            if let Some(p) = pause {
                tokio::time::sleep(p).await;
            }
        }
    });
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve {
            db,
            addr,
            rate_limit,
            rate_burst,
            limits,
            metrics_token,
            public_url,
            smtp_url,
            mail_from,
            webhook_allow_private,
            outbox_backoff_seconds,
            oidc,
        } => {
            let oidc_settings = oidc.settings()?;
            let limits = limits.limits()?;
            let addr: SocketAddr = addr.parse().with_context(|| {
                format!("invalid listen address `{addr}` (expected HOST:PORT, e.g. 127.0.0.1:8080)")
            })?;
            if !(rate_limit > 0.0 && rate_burst >= 1.0) {
                return Err(anyhow!(
                    "the rate limit must be above 0 and the burst at least 1"
                ));
            }
            let engine = open(&db).await?;
            // Bind before creating the first administrator, so a failed start
            // never spends the one-time token.
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            if let Some(token) = engine
                .bootstrap_administrator()
                .await
                .map_err(|e| anyhow!("cannot create the first administrator: {e}"))?
            {
                tracing::warn!(
                    "no users yet: created an administrator; their token is printed on standard output, once"
                );
                out(&token)?;
            }
            let mut options = AppOptions {
                rate_limit: RateLimit {
                    per_second: rate_limit,
                    burst: rate_burst,
                },
                limits,
                metrics_token: metrics_token.filter(|t| !t.is_empty()),
                web: doorbraak_web::WebOptions::new(&resolve_public_url(
                    public_url.as_deref(),
                    &listener,
                )?),
                allow_private_webhooks: webhook_allow_private,
            };
            if let Some(settings) = oidc_settings {
                let client = doorbraak_web::oidc::Oidc::new(settings, &options.web.public_url);
                tracing::info!(redirect_uri = %client.redirect_uri, "sign-in through OpenID Connect is on");
                options.web.oidc = Some(std::sync::Arc::new(client));
                options.web.access_code_signin = oidc.access_code_signin;
            }
            let smtp_url = smtp_url.filter(|u| !u.trim().is_empty());
            if smtp_url.is_none() {
                tracing::warn!(
                    "e-mail is off: DOORBRAAK_SMTP_URL is not set, so no message is sent"
                );
            }
            let sender = crate::Sender::new(&crate::OutboundConfig {
                smtp_url,
                mail_from,
                allow_private: webhook_allow_private,
            })?;
            crate::spawn_outbox_worker(
                engine.clone(),
                std::sync::Arc::new(sender),
                doorbraak_engine::NotifyConfig {
                    allow_private: webhook_allow_private,
                    backoff_base: chrono::TimeDelta::seconds(i64::from(
                        outbox_backoff_seconds.clamp(1, 3600),
                    )),
                    ..doorbraak_engine::NotifyConfig::new(&options.web.public_url)
                },
            );
            let signal = shutdown_signal()?;
            spawn_deadline_worker(engine.clone());
            spawn_statistics_folder(engine.clone());
            engine
                .start_change_feed()
                .await
                .map_err(|e| anyhow!("cannot start the change feed: {e}"))?;
            let server = Server::start(listener, app(engine, &options))?;
            tracing::info!(addr = %server.addr, "doorbraak is listening: the web application on /, GraphiQL on /graphql");
            server.run_until(signal).await?;
            tracing::info!("stopped");
            Ok(())
        }
        Command::Generate { cases, seed, db } => {
            let engine = open(&db).await?;
            let started = std::time::Instant::now();
            let r = engine
                .generate(cases as usize, seed)
                .await
                .map_err(|e| anyhow!("cannot generate the cases: {e}"))?;
            let secs = started.elapsed().as_secs_f64();
            out(&format!(
                "generated {} cases with {} events, {} barriers, {} meetings, {} agenda items, {} precedents and {} people in {secs:.1} s ({:.0} rows per second)",
                r.cases,
                r.events,
                r.barriers,
                r.meetings,
                r.agenda_items,
                r.precedents,
                r.users,
                r.rows() as f64 / secs.max(1e-9)
            ))?;
            let started = std::time::Instant::now();
            let folded = engine
                .fold_all_statistics(doorbraak_engine::BULK_FOLD_BATCH)
                .await
                .map_err(|e| anyhow!("cannot fold the cases into the statistics: {e}"))?;
            out(&format!(
                "folded {folded} cases into the statistics' sums in {:.1} s",
                started.elapsed().as_secs_f64()
            ))?;
            Ok(())
        }
        Command::Demo { db } => {
            let engine = open(&db).await?;
            let people = engine
                .fill_demo()
                .await
                .map_err(|e| anyhow!("cannot fill in the example data: {e}"))?;
            out("Example data is in place. Sign in on /inloggen with one of these access codes:")?;
            for p in people {
                out(&format!(
                    "{:<26} {:<44} {}",
                    p.role.as_str(),
                    p.name,
                    p.code
                ))?;
            }
            Ok(())
        }
        Command::Migrate { db } => {
            open(&db).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    db,
                    name,
                    role,
                    areas,
                    ministry,
                    email,
                },
        } => {
            let role = Role::parse_lenient(&role).map_err(|e| {
                anyhow!("{e}; use one of professional, programme-bureau, alliance-secretary, national-representative, breakthrough-secretariat, ministry-analyst, administrator")
            })?;
            let engine = open(&db).await?;
            let (user, token) = engine
                .create_user_with(&doorbraak_engine::UserInput {
                    name,
                    role,
                    areas,
                    ministry,
                    email,
                })
                .await
                .map_err(|e| anyhow!("{e}"))?;
            tracing::info!(
                user.id = user.id,
                "user created; the token is printed on standard output, once"
            );
            out(&token)
        }
        Command::Schema => out(doorbraak_graphql::sdl().trim_end()),
    }
}

/// The binary's entry point. Returns the process exit code.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("doorbraak: error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let line = format!("{e:#}").replace('\n', " ");
            eprintln!("doorbraak: error: {line}");
            std::process::ExitCode::FAILURE
        }
    }
}
