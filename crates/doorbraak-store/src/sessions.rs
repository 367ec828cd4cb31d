//! Web sessions, stored by the SHA-256 of their cookie value, so a copy of
//! the database holds no usable session.

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
            .one(&self.read)
            .await?
        else {
            return Ok(None);
        };
        let Some(u) = user::Entity::find_by_id(s.user_id)
            .filter(user::Column::Active.eq(true))
            .one(&self.read)
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
}
