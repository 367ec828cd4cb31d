//! Web sessions, stored by the SHA-256 of their cookie value, so a copy of
//! the database holds no usable session.

use crate::limited::Limited;
use doorbraak_core::{Timestamp, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::convert::{from_ms, ms};
use crate::entity::{session, user};
use crate::users::UserRecord;
use crate::{Store, StoreError};

/// A session to store.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    /// How the person signed in (`code`, `email`, `oidc`).
    pub method: String,
    /// The level of assurance the identity provider reported, if any.
    pub acr: Option<String>,
    pub expires_at: Timestamp,
    /// The provider's ID token (OpenID Connect), for signing out there.
    pub id_token: Option<String>,
}

/// A live session with its user.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user: UserRecord,
    pub csrf_token: String,
    pub method: String,
    pub acr: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    pub id_token: Option<String>,
}

impl Store {
    pub async fn insert_session(&self, s: &NewSession, now: Timestamp) -> Result<(), StoreError> {
        self.count();
        session::Entity::insert(session::ActiveModel {
            token_hash: Set(s.token_hash.clone()),
            user_id: Set(s.user_id),
            csrf_token: Set(s.csrf_token.clone()),
            method: Set(s.method.clone()),
            acr: Set(s.acr.clone()),
            created_at: Set(ms(now)),
            last_seen_at: Set(ms(now)),
            expires_at: Set(ms(s.expires_at)),
            id_token: Set(s.id_token.clone()),
        })
        .exec_without_returning(&self.write)
        .await?;
        Ok(())
    }

    /// The session with this hash, if it has not expired by `now` and its
    /// user is active.
    pub async fn session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.count();
        let Some(s) = session::Entity::find_by_id(token_hash.to_owned())
            .filter(session::Column::ExpiresAt.gt(ms(now)))
            .first(&self.read)
            .await?
        else {
            return Ok(None);
        };
        let Some(u) = user::Entity::find_by_id(s.user_id)
            .filter(user::Column::Active.eq(true))
            .first(&self.read)
            .await?
        else {
            return Ok(None);
        };
        let Some(user) = self.with_areas(vec![u]).await?.pop() else {
            return Ok(None);
        };
        Ok(Some(SessionRecord {
            user,
            csrf_token: s.csrf_token,
            method: s.method,
            acr: s.acr,
            created_at: from_ms(s.created_at)?,
            last_seen_at: from_ms(s.last_seen_at)?,
            expires_at: from_ms(s.expires_at)?,
            id_token: s.id_token,
        }))
    }

    /// Moves a session's idle expiry on.
    pub async fn touch_session(
        &self,
        token_hash: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.count();
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(ms(now)))
            .col_expr(session::Column::ExpiresAt, Expr::value(ms(expires_at)))
            .filter(session::Column::TokenHash.eq(token_hash))
            .exec(&self.write)
            .await?;
        Ok(())
    }

    /// Ends one session; `false` if there was none.
    pub async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        self.count();
        let r = session::Entity::delete_many()
            .filter(session::Column::TokenHash.eq(token_hash))
            .exec(&self.write)
            .await?;
        Ok(r.rows_affected > 0)
    }

    /// Removes sessions that expired before `now`; returns how many.
    pub async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.count();
        let r = session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lte(ms(now)))
            .exec(&self.write)
            .await?;
        Ok(r.rows_affected)
    }

    /// The active user linked to an identity of a provider.
    pub async fn user_by_identity(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.count();
        use crate::entity::user_identity;
        let Some(link) = user_identity::Entity::find_by_id((issuer.to_owned(), subject.to_owned()))
            .first(&self.read)
            .await?
        else {
            return Ok(None);
        };
        let Some(u) = user::Entity::find_by_id(link.user_id)
            .filter(user::Column::Active.eq(true))
            .first(&self.read)
            .await?
        else {
            return Ok(None);
        };
        Ok(self.with_areas(vec![u]).await?.pop())
    }

    /// Links an identity to a user (once; a second link is ignored).
    pub async fn link_identity(
        &self,
        issuer: &str,
        subject: &str,
        user_id: UserId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.count();
        use crate::entity::user_identity;
        user_identity::Entity::insert(user_identity::ActiveModel {
            issuer: Set(issuer.to_owned()),
            subject: Set(subject.to_owned()),
            user_id: Set(user_id),
            created_at: Set(ms(now)),
        })
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([
                user_identity::Column::Issuer,
                user_identity::Column::Subject,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&self.write)
        .await?;
        Ok(())
    }

    /// A login that went to the provider and has not come back yet.
    pub async fn save_oidc_login(
        &self,
        state_hash: &str,
        nonce: &str,
        verifier: &str,
        return_to: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.count();
        use crate::entity::oidc_login;
        oidc_login::Entity::insert(oidc_login::ActiveModel {
            state_hash: Set(state_hash.to_owned()),
            nonce: Set(nonce.to_owned()),
            verifier: Set(verifier.to_owned()),
            return_to: Set(return_to.to_owned()),
            expires_at: Set(ms(expires_at)),
        })
        .exec_without_returning(&self.write)
        .await?;
        Ok(())
    }

    /// Takes a pending login, once: (nonce, verifier, return_to).
    pub async fn take_oidc_login(
        &self,
        state_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(String, String, String)>, StoreError> {
        self.count();
        use crate::entity::oidc_login;
        let Some(l) = oidc_login::Entity::find_by_id(state_hash.to_owned())
            .first(&self.write)
            .await?
        else {
            return Ok(None);
        };
        let r = oidc_login::Entity::delete_by_id(state_hash.to_owned())
            .exec(&self.write)
            .await?;
        if r.rows_affected != 1 || l.expires_at <= ms(now) {
            return Ok(None);
        }
        Ok(Some((l.nonce, l.verifier, l.return_to)))
    }

    /// Someone the provider knows but this service does not.
    pub async fn record_access_request(
        &self,
        issuer: &str,
        subject: &str,
        email: Option<&str>,
        name: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.count();
        use crate::entity::access_request;
        access_request::Entity::insert(access_request::ActiveModel {
            issuer: Set(issuer.to_owned()),
            subject: Set(subject.to_owned()),
            email: Set(email.map(str::to_owned)),
            name: Set(name.map(|n| n.chars().take(200).collect())),
            created_at: Set(ms(now)),
        })
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([
                access_request::Column::Issuer,
                access_request::Column::Subject,
            ])
            .update_columns([
                access_request::Column::Email,
                access_request::Column::Name,
                access_request::Column::CreatedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(&self.write)
        .await?;
        Ok(())
    }

    /// The requests for access, newest first: (issuer, subject, email, name, at).
    pub async fn access_requests(
        &self,
    ) -> Result<Vec<(String, String, Option<String>, Option<String>, Timestamp)>, StoreError> {
        self.count();
        use crate::entity::access_request;
        use sea_orm::QueryOrder;
        access_request::Entity::find()
            .order_by_desc(access_request::Column::CreatedAt)
            .all(&self.read)
            .await?
            .into_iter()
            .map(|r| Ok((r.issuer, r.subject, r.email, r.name, from_ms(r.created_at)?)))
            .collect()
    }
}
