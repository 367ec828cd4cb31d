//! Web sessions: how a person who signed in on the pages stays signed in.
//!
//! The cookie holds a 256-bit random value; the database holds its SHA-256
//! only, with the user, a CSRF token for the session's forms, how the person
//! signed in and (for OpenID Connect) the level of assurance. A session
//! ends when its owner signs out, after [`IDLE`] without a request, after
//! [`ABSOLUTE`] at most, or when the user is deactivated. Because sessions
//! live in the database, they survive a restart and work on every instance.

use chrono::TimeDelta;
use doorbraak_store::{NewSession, SessionRecord};

use crate::auth::{hash_token, random_token};
use crate::{Engine, EngineError, UserRecord};

/// A session ends after this long without a request.
pub const IDLE: TimeDelta = TimeDelta::hours(2);
/// A session ends this long after sign-in, however busy.
pub const ABSOLUTE: TimeDelta = TimeDelta::hours(12);
/// A request moves the idle expiry on only when the last move is older
/// than this, so reading pages does not write on every request.
const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(5);

/// Every session cookie value starts with this.
const SESSION_PREFIX: &str = "dbs_";

/// How a person signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    /// The access code `user create` prints.
    AccessCode,
    /// A one-time link sent by e-mail.
    EmailLink,
    /// The organisation's identity provider (OpenID Connect).
    OpenIdConnect,
}

impl SignInMethod {
    pub const fn as_str(self) -> &'static str {
        match self {
            SignInMethod::AccessCode => "code",
            SignInMethod::EmailLink => "email",
            SignInMethod::OpenIdConnect => "oidc",
        }
    }
    fn parse(s: &str) -> SignInMethod {
        match s {
            "email" => SignInMethod::EmailLink,
            "oidc" => SignInMethod::OpenIdConnect,
            _ => SignInMethod::AccessCode,
        }
    }
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: UserRecord,
    /// The value every form of this session carries.
    pub csrf_token: String,
    pub method: SignInMethod,
    pub acr: Option<String>,
    pub expires_at: doorbraak_core::Timestamp,
    /// The provider's ID token, when signed in through OpenID Connect.
    pub id_token: Option<String>,
}

/// A new session: the cookie value (given to the browser once, never
/// stored) and the session.
#[derive(Debug, Clone)]
pub struct NewSessionCookie {
    pub cookie: String,
    pub session: Session,
}

impl Engine {
    /// Starts a session for a user who has just proved who they are.
    pub async fn start_session(
        &self,
        user: &UserRecord,
        method: SignInMethod,
        acr: Option<&str>,
    ) -> Result<NewSessionCookie, EngineError> {
        self.start_session_with(user, method, acr, None).await
    }

    /// [`Engine::start_session`], keeping the provider's ID token (for
    /// signing out there too).
    pub async fn start_session_with(
        &self,
        user: &UserRecord,
        method: SignInMethod,
        acr: Option<&str>,
        id_token: Option<&str>,
    ) -> Result<NewSessionCookie, EngineError> {
        if !user.active {
            return Err(EngineError::Unauthenticated);
        }
        let now = self.now();
        let cookie = format!("{SESSION_PREFIX}{}", random_token());
        let csrf_token = random_token();
        let expires_at = now + IDLE;
        self.store
            .insert_session(
                &NewSession {
                    token_hash: hash_token(&cookie),
                    user_id: user.id,
                    csrf_token: csrf_token.clone(),
                    method: method.as_str().to_owned(),
                    acr: acr.map(str::to_owned),
                    expires_at,
                    id_token: id_token.map(str::to_owned),
                },
                now,
            )
            .await?;
        tracing::info!(
            user.id = user.id,
            method = method.as_str(),
            "session started"
        );
        Ok(NewSessionCookie {
            cookie,
            session: Session {
                user: user.clone(),
                csrf_token,
                method,
                acr: acr.map(str::to_owned),
                expires_at,
                id_token: id_token.map(str::to_owned),
            },
        })
    }

    /// Signs in with an access code and starts a session.
    pub async fn sign_in_with_code(&self, code: &str) -> Result<NewSessionCookie, EngineError> {
        let user = self.authenticate(code).await?;
        self.start_session(&user, SignInMethod::AccessCode, None)
            .await
    }

    /// The live session behind a cookie value; `None` when it is unknown,
    /// expired or its user is deactivated. Moves the idle expiry on.
    pub async fn session(&self, cookie: &str) -> Result<Option<Session>, EngineError> {
        if !cookie.starts_with(SESSION_PREFIX) || cookie.len() > 100 {
            return Ok(None);
        }
        let now = self.now();
        let hash = hash_token(cookie);
        let Some(s) = self.store.session(&hash, now).await? else {
            return Ok(None);
        };
        let SessionRecord {
            user,
            csrf_token,
            method,
            acr,
            created_at,
            last_seen_at,
            expires_at,
            id_token,
        } = s;
        let mut expires_at = expires_at;
        if now - last_seen_at >= TOUCH_EVERY {
            expires_at = (now + IDLE).min(created_at + ABSOLUTE);
            self.store.touch_session(&hash, now, expires_at).await?;
        }
        Ok(Some(Session {
            user,
            csrf_token,
            method: SignInMethod::parse(&method),
            acr,
            expires_at,
            id_token,
        }))
    }

    /// Ends the session behind a cookie value (signing out). Unknown
    /// values are ignored.
    pub async fn end_session(&self, cookie: &str) -> Result<(), EngineError> {
        if cookie.starts_with(SESSION_PREFIX) && cookie.len() <= 100 {
            self.store.delete_session(&hash_token(cookie)).await?;
        }
        Ok(())
    }

    /// Removes expired sessions (the service's own housekeeping).
    pub async fn purge_expired_sessions(&self) -> Result<u64, EngineError> {
        Ok(self.store.delete_expired_sessions(self.now()).await?)
    }
}
