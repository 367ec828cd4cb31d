//! Who is who when people sign in through an OpenID provider. A person is
//! matched to a user by (issuer, `sub`) once linked. The first time, the
//! match is by e-mail: the provider's `email` claim with `email_verified:
//! true`, against the address an administrator gave the user, and the link
//! is made. Nobody gets a role from the provider; someone unknown is
//! recorded as a request for access, for the administrators to see.

use chrono::TimeDelta;
use doorbraak_core::{EmailAddress, Principal, Role, Timestamp};

use crate::auth::{hash_token, random_token};
use crate::{Engine, EngineError, UserRecord};

/// How long a login may stay at the provider.
const LOGIN_VALID: TimeDelta = TimeDelta::minutes(10);

/// What the provider said about the person (verified by the caller).
#[derive(Debug, Clone)]
pub struct ProvidedIdentity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

/// A login on its way to the provider.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// A request for access by someone without a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequest {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub at: Timestamp,
}

impl Engine {
    /// Starts a login: `state` and `nonce` of 256 random bits each and a
    /// PKCE verifier, kept (state by its hash) until the provider returns.
    pub async fn begin_login(&self, return_to: &str) -> Result<PendingLogin, EngineError> {
        let login = PendingLogin {
            state: random_token(),
            nonce: random_token(),
            verifier: format!("{}{}", random_token(), random_token()),
        };
        self.store
            .save_oidc_login(
                &hash_token(&login.state),
                &login.nonce,
                &login.verifier,
                return_to,
                self.now() + LOGIN_VALID,
            )
            .await?;
        Ok(login)
    }

    /// Takes the login a provider's answer belongs to, once:
    /// (nonce, verifier, return_to). A replayed or unknown state finds none.
    pub async fn finish_login(
        &self,
        state: &str,
    ) -> Result<Option<(String, String, String)>, EngineError> {
        if state.len() > 100 {
            return Ok(None);
        }
        Ok(self
            .store
            .take_oidc_login(&hash_token(state), self.now())
            .await?)
    }

    /// The user behind a verified identity, linking it on first use by a
    /// verified e-mail address; `None` (and a request for access) for
    /// someone unknown.
    pub async fn user_for_identity(
        &self,
        id: &ProvidedIdentity,
        link: bool,
    ) -> Result<Option<UserRecord>, EngineError> {
        if let Some(u) = self.store.user_by_identity(&id.issuer, &id.subject).await? {
            return Ok(Some(u));
        }
        if !link {
            return Ok(None);
        }
        let by_email = match (&id.email, id.email_verified) {
            (Some(e), true) => match EmailAddress::parse("email", e) {
                Ok(a) => self.store.user_by_email(a.as_str()).await?,
                Err(_) => None,
            },
            _ => None,
        };
        match by_email {
            Some(u) => {
                self.store
                    .link_identity(&id.issuer, &id.subject, u.id, self.now())
                    .await?;
                tracing::info!(
                    user.id = u.id,
                    "identity linked to a user by a verified e-mail address"
                );
                Ok(Some(u))
            }
            None => {
                self.store
                    .record_access_request(
                        &id.issuer,
                        &id.subject,
                        id.email.as_deref(),
                        id.name.as_deref(),
                        self.now(),
                    )
                    .await?;
                tracing::info!(
                    "someone without access signed in at the provider; recorded as a request"
                );
                Ok(None)
            }
        }
    }

    /// The requests for access (administrators).
    pub async fn access_requests(&self, p: &Principal) -> Result<Vec<AccessRequest>, EngineError> {
        if p.role != Role::Administrator {
            return Err(EngineError::Forbidden(
                "only administrators see requests for access".into(),
            ));
        }
        Ok(self
            .store
            .access_requests()
            .await?
            .into_iter()
            .map(|(issuer, subject, email, name, at)| AccessRequest {
                issuer,
                subject,
                email,
                name,
                at,
            })
            .collect())
    }
}
