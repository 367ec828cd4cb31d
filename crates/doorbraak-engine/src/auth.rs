//! Users and bearer tokens.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use doorbraak_core::{AreaCode, EmailAddress, MinistryCode, Principal, Role, Text, may_see_name};
use doorbraak_store::{NewUser, StoreError, UserChange};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{Engine, EngineError, UserRecord};

/// Every token starts with this, so a leaked one is easy to recognise.
pub const TOKEN_PREFIX: &str = "dbk_";

/// How long a resolved token is trusted without asking the database.
pub(crate) const TOKEN_CACHE_TTL: Duration = Duration::from_secs(30);
/// Most tokens the cache holds (moka evicts beyond it).
pub(crate) const TOKEN_CACHE_MAX: u64 = 10_000;

/// The SHA-256 of a token, in hex: the only form in which tokens are stored.
pub fn hash_token(token: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(token.as_bytes());
    // Every API request hashes its token: no `format!` per byte.
    let mut hex = String::with_capacity(2 * digest.len());
    for b in digest {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    hex
}

/// 256 random bits, base64url without padding (43 characters).
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_token())
}

impl Engine {
    /// Resolves a bearer token to its user.
    pub async fn authenticate(&self, token: &str) -> Result<UserRecord, EngineError> {
        let token = token.trim();
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 100 {
            return Err(EngineError::Unauthenticated);
        }
        let hash = hash_token(token);
        if let Some(user) = self.tokens.get(&hash) {
            return Ok(user);
        }
        let user = self
            .store
            .user_by_token_hash(&hash)
            .await?
            .ok_or(EngineError::Unauthenticated)?;
        self.tokens.insert(hash, user.clone());
        Ok(user)
    }

    /// An administrator creates a user; returns them with their token
    /// (shown once, never stored).
    pub async fn create_user_as(
        &self,
        caller: &UserRecord,
        input: &UserInput,
    ) -> Result<(UserRecord, String), EngineError> {
        if caller.role != Role::Administrator {
            return Err(EngineError::Forbidden(
                "only administrators create users".into(),
            ));
        }
        self.create_user_with(input).await
    }

    /// Creates a user and returns them with their token (shown once, never
    /// stored), with no caller to check: for the operator's command line
    /// (whoever runs it holds the database already), the first
    /// administrator, and tests. Requests use [`Engine::create_user_as`].
    pub async fn create_user(
        &self,
        name: &str,
        role: Role,
        areas: &[String],
        ministry: Option<&str>,
    ) -> Result<(UserRecord, String), EngineError> {
        self.create_user_with(&UserInput {
            name: name.to_owned(),
            role,
            areas: areas.to_vec(),
            ministry: ministry.map(str::to_owned),
            email: None,
        })
        .await
    }

    /// [`Engine::create_user`] with every field, the e-mail address too.
    pub async fn create_user_with(
        &self,
        input: &UserInput,
    ) -> Result<(UserRecord, String), EngineError> {
        let change = self.check_user(input)?;
        let token = new_token();
        let user = self
            .store
            .create_user(
                &NewUser {
                    name: change.name,
                    role: change.role,
                    areas: change.areas,
                    ministry: change.ministry,
                    email: change.email,
                    token_hash: hash_token(&token),
                },
                self.now(),
            )
            .await
            .map_err(email_taken)?;
        tracing::info!(user.id = user.id, role = %user.role, "user created");
        Ok((user, token))
    }

    /// Checks a user's fields against the reference data and the shape
    /// each role needs.
    fn check_user(&self, input: &UserInput) -> Result<UserChange, EngineError> {
        let (name, role, areas, ministry) = (
            input.name.as_str(),
            input.role,
            input.areas.as_slice(),
            input.ministry.as_deref(),
        );
        let name = Text::parse("name", name, 2, 200)?.into_string();
        let codes = self.known_areas("areas", areas)?;
        let ministry = match ministry.map(str::trim).filter(|m| !m.is_empty()) {
            None => None,
            Some(m) => {
                let code = MinistryCode::parse("ministry", m)?;
                let Some(row) = self.ministry(code.as_str()) else {
                    return Err(EngineError::validation(
                        "ministry",
                        format!("{} is not a known ministry", code.as_str()),
                    ));
                };
                if role == Role::NationalRepresentative && !row.provides_representative {
                    return Err(EngineError::validation(
                        "ministry",
                        format!("{} does not provide national representatives", row.code),
                    ));
                }
                Some(row.code)
            }
        };
        check_role_shape(role, &codes, ministry.as_deref())?;
        let email = match input.email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(EmailAddress::parse("email", raw)?.into_string()),
        };
        Ok(UserChange {
            name,
            role,
            areas: codes,
            ministry,
            email,
        })
    }

    /// Focus area codes as typed, checked against the reference data;
    /// sorted, without repeats.
    pub(crate) fn known_areas(
        &self,
        field: &str,
        areas: &[String],
    ) -> Result<Vec<String>, EngineError> {
        let mut codes = Vec::new();
        for a in areas {
            let code = AreaCode::parse(field, a)?;
            if self.focus_area(code.as_str()).is_none() {
                return Err(EngineError::validation(
                    field,
                    format!("{} is not a known focus area", code.as_str()),
                ));
            }
            codes.push(code.as_str().to_owned());
        }
        codes.sort();
        codes.dedup();
        Ok(codes)
    }

    /// Ministry codes as typed, checked against the reference data.
    pub(crate) fn known_ministries(
        &self,
        field: &str,
        codes: &[String],
    ) -> Result<Vec<String>, EngineError> {
        let mut out = Vec::new();
        for m in codes {
            let code = MinistryCode::parse(field, m)?;
            if self.ministry(code.as_str()).is_none() {
                return Err(EngineError::validation(
                    field,
                    format!("{} is not a known ministry", code.as_str()),
                ));
            }
            out.push(code.as_str().to_owned());
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// An administrator changes a user's name, role, areas, ministry and
    /// e-mail address (all at once). Their token and sessions stay valid;
    /// the new rights apply from the next request.
    pub async fn update_user(
        &self,
        caller: &UserRecord,
        id: i64,
        input: &UserInput,
    ) -> Result<UserRecord, EngineError> {
        if caller.role != Role::Administrator {
            return Err(EngineError::Forbidden(
                "only administrators change users".into(),
            ));
        }
        if caller.id == id && input.role != Role::Administrator {
            return Err(EngineError::validation(
                "role",
                "you cannot take away your own administrator role",
            ));
        }
        let change = self.check_user(input)?;
        let user = self
            .store
            .update_user(id, &change)
            .await
            .map_err(email_taken)?
            .ok_or(EngineError::NotFound("user"))?;
        self.forget_tokens_of(id);
        tracing::info!(user.id = id, role = %user.role, "user changed");
        Ok(user)
    }

    /// An administrator turns a user off (or on again). A deactivated user's
    /// token stops working and their sessions end; what they did stays on
    /// record under their name.
    pub async fn set_user_active(
        &self,
        caller: &UserRecord,
        id: i64,
        active: bool,
    ) -> Result<UserRecord, EngineError> {
        if caller.role != Role::Administrator {
            return Err(EngineError::Forbidden(
                "only administrators deactivate users".into(),
            ));
        }
        if caller.id == id && !active {
            return Err(EngineError::validation(
                "id",
                "you cannot deactivate yourself",
            ));
        }
        if !self.store.set_user_active(id, active).await? {
            return Err(EngineError::NotFound("user"));
        }
        self.forget_tokens_of(id);
        tracing::info!(user.id = id, active, "user activation changed");
        self.store
            .users_by_ids(&[id])
            .await?
            .pop()
            .ok_or(EngineError::NotFound("user"))
    }

    /// Drops a user's resolved tokens from this instance's cache.
    fn forget_tokens_of(&self, id: i64) {
        if let Err(e) = self.tokens.invalidate_entries_if(move |_, u| u.id == id) {
            tracing::warn!(error = %e, "cannot drop a user's tokens from the cache; clearing it");
            self.tokens.invalidate_all();
        }
    }

    /// On a database without users, creates the first administrator and
    /// returns their token; otherwise `None`.
    pub async fn bootstrap_administrator(&self) -> Result<Option<String>, EngineError> {
        if self.store.count_users().await? > 0 {
            return Ok(None);
        }
        let (_, token) = self
            .create_user("Administrator", Role::Administrator, &[], None)
            .await?;
        Ok(Some(token))
    }

    /// The engine's own user, the actor of automatic steps (created on first
    /// use). Its stored hash is not a SHA-256 in hex, so no token matches it.
    pub async fn system_user(&self) -> Result<UserRecord, EngineError> {
        const MARK: &str = "system:automatic-steps";
        if let Some(u) = self.store.user_by_token_hash(MARK).await? {
            return Ok(u);
        }
        let user = self
            .store
            .create_user(
                &NewUser {
                    name: "Doorbraak (automatic)".to_owned(),
                    role: Role::Administrator,
                    areas: Vec::new(),
                    ministry: None,
                    email: None,
                    token_hash: MARK.to_owned(),
                },
                self.now(),
            )
            .await;
        match user {
            Ok(u) => Ok(u),
            // Another instance created it first.
            Err(_) => self
                .store
                .user_by_token_hash(MARK)
                .await?
                .ok_or_else(|| EngineError::Internal("cannot create the system user".into())),
        }
    }

    /// Issues a new token for a user (administrators only); the old one stops
    /// working at once on this instance and within the token cache's 30
    /// seconds on others.
    pub async fn issue_token(
        &self,
        caller: &UserRecord,
        user_id: i64,
    ) -> Result<(UserRecord, String), EngineError> {
        if caller.role != Role::Administrator {
            return Err(EngineError::Forbidden(
                "only administrators issue tokens".into(),
            ));
        }
        let user = self
            .store
            .users_by_ids(&[user_id])
            .await?
            .pop()
            .ok_or(EngineError::NotFound("user"))?;
        let token = new_token();
        if !self
            .store
            .replace_token_hash(user.id, &hash_token(&token))
            .await?
        {
            return Err(EngineError::NotFound("user"));
        }
        // The old token must stop working at once on this instance.
        self.forget_tokens_of(user.id);
        tracing::info!(user.id = user.id, "token reissued");
        Ok((user, token))
    }

    /// Adds a focus area (administrators only).
    pub async fn add_focus_area(
        &self,
        caller: &UserRecord,
        code: &str,
        name: &str,
    ) -> Result<(), EngineError> {
        if caller.role != Role::Administrator {
            return Err(EngineError::Forbidden(
                "only administrators manage focus areas".into(),
            ));
        }
        let code = AreaCode::parse("code", code)?;
        let name = Text::parse("name", name, 2, 200)?.into_string();
        if !self.store.add_focus_area(code.as_str(), &name).await? {
            return Err(EngineError::validation(
                "code",
                "is taken by another focus area",
            ));
        }
        self.reload_reference().await
    }

    /// Adds a ministry (administrators only).
    pub async fn add_ministry(
        &self,
        caller: &UserRecord,
        code: &str,
        name: &str,
        provides_representative: bool,
    ) -> Result<(), EngineError> {
        if caller.role != Role::Administrator {
            return Err(EngineError::Forbidden(
                "only administrators manage ministries".into(),
            ));
        }
        let code = MinistryCode::parse("code", code)?;
        let name = Text::parse("name", name, 2, 200)?.into_string();
        if !self
            .store
            .add_ministry(code.as_str(), &name, provides_representative)
            .await?
        {
            return Err(EngineError::validation(
                "code",
                "is taken by another ministry",
            ));
        }
        self.reload_reference().await
    }

    /// Users by id, for display: those whose names the caller may see
    /// (`doorbraak_core::may_see_name`: a professional sees only their own).
    pub async fn users(&self, p: &Principal, ids: &[i64]) -> Result<Vec<UserRecord>, EngineError> {
        let visible: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| may_see_name(p, *id))
            .collect();
        Ok(self.store.users_by_ids(&visible).await?)
    }

    /// Every user (administrators only).
    pub async fn all_users(&self, caller: &UserRecord) -> Result<Vec<UserRecord>, EngineError> {
        if caller.role != Role::Administrator {
            return Err(EngineError::Forbidden(
                "only administrators list users".into(),
            ));
        }
        Ok(self.store.all_users().await?)
    }
}

/// A user's editable fields, as an administrator (or the command line)
/// gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInput {
    pub name: String,
    pub role: Role,
    pub areas: Vec<String>,
    pub ministry: Option<String>,
    pub email: Option<String>,
}

fn email_taken(e: StoreError) -> EngineError {
    match e {
        StoreError::Duplicate(what) if what == "email" => {
            EngineError::validation("email", "is already the address of another user")
        }
        other => other.into(),
    }
}

/// Which areas and ministry each role needs (DOMAIN.md, roles).
fn check_role_shape(
    role: Role,
    areas: &[String],
    ministry: Option<&str>,
) -> Result<(), EngineError> {
    match role {
        Role::ProgrammeBureau if areas.is_empty() => Err(EngineError::validation(
            "areas",
            "a programme bureau member works in at least one focus area",
        )),
        Role::AllianceSecretary if areas.len() != 1 => Err(EngineError::validation(
            "areas",
            "an alliance secretary serves exactly one focus area",
        )),
        Role::NationalRepresentative if areas.is_empty() => Err(EngineError::validation(
            "areas",
            "a national representative sits in at least one focus area",
        )),
        Role::NationalRepresentative | Role::MinistryAnalyst if ministry.is_none() => Err(
            EngineError::validation("ministry", "this role belongs to a ministry; give its code"),
        ),
        Role::BreakthroughSecretariat | Role::Administrator | Role::MinistryAnalyst
            if !areas.is_empty() =>
        {
            Err(EngineError::validation(
                "areas",
                "this role is national and has no focus areas",
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    /// The stored hash is SHA-256 in lower-case hex (FIPS 180-2's "abc").
    #[test]
    fn a_token_hash_is_sha256_in_lower_case_hex() {
        assert_eq!(
            super::hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
