//! Users and their access tokens (stored only as hashes).

use crate::limited::Limited;
use std::collections::HashMap;

use doorbraak_core::{Principal, Role, Timestamp, UserId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use crate::convert::{ms, parse};
use crate::entity::{user, user_area};
use crate::{Store, StoreError};

/// A user to create. The token hash is computed by the caller.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    pub areas: Vec<String>,
    pub ministry: Option<String>,
    /// Lower-cased by the caller.
    pub email: Option<String>,
    pub token_hash: String,
}

/// New values for a user's editable fields (all of them at once).
#[derive(Debug, Clone)]
pub struct UserChange {
    pub name: String,
    pub role: Role,
    pub areas: Vec<String>,
    pub ministry: Option<String>,
    /// Lower-cased by the caller.
    pub email: Option<String>,
}

/// A user as stored, with their focus areas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    pub areas: Vec<String>,
    pub ministry: Option<String>,
    pub email: Option<String>,
    /// A deactivated user cannot sign in or use a token.
    pub active: bool,
    /// False when the user wants essential messages only.
    pub notify_optional: bool,
}

impl UserRecord {
    pub fn principal(&self) -> Principal {
        Principal {
            id: self.id,
            role: self.role,
            areas: self.areas.clone(),
            ministry: self.ministry.clone(),
        }
    }
}

fn record(u: user::Model, areas: Vec<String>) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: u.id,
        name: u.name,
        role: parse("role", &u.role)?,
        areas,
        ministry: u.ministry_code,
        email: u.email,
        active: u.active,
        notify_optional: u.notify_optional,
    })
}

/// A unique index refused the row: the e-mail address is taken.
fn duplicate_email(e: sea_orm::DbErr) -> StoreError {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            StoreError::Duplicate("email".to_owned())
        }
        _ => StoreError::Db(e),
    }
}

impl Store {
    /// Creates a user with their areas in one transaction.
    pub async fn create_user(
        &self,
        new: &NewUser,
        now: Timestamp,
    ) -> Result<UserRecord, StoreError> {
        self.count();
        let txn = self.begin_write().await?;
        let row = user::ActiveModel {
            name: Set(new.name.clone()),
            role: Set(new.role.as_str().to_owned()),
            ministry_code: Set(new.ministry.clone()),
            token_hash: Set(new.token_hash.clone()),
            created_at: Set(ms(now)),
            email: Set(new.email.clone()),
            active: Set(true),
            notify_optional: Set(true),
            ..Default::default()
        };
        let u = user::Entity::insert(row)
            .exec_with_returning(&txn)
            .await
            .map_err(duplicate_email)?;
        let mut areas = new.areas.clone();
        areas.sort();
        areas.dedup();
        if !areas.is_empty() {
            user_area::Entity::insert_many(areas.iter().map(|a| user_area::ActiveModel {
                user_id: Set(u.id),
                area_code: Set(a.clone()),
            }))
            .exec_without_returning(&txn)
            .await?;
        }
        txn.commit().await?;
        record(u, areas)
    }

    pub async fn user_by_token_hash(&self, hash: &str) -> Result<Option<UserRecord>, StoreError> {
        self.count();
        let Some(u) = user::Entity::find()
            .filter(user::Column::TokenHash.eq(hash))
            .filter(user::Column::Active.eq(true))
            .first(&self.read)
            .await?
        else {
            return Ok(None);
        };
        let mut users = self.with_areas(vec![u]).await?;
        Ok(users.pop())
    }

    /// Several users by id, with their areas (two queries).
    pub async fn users_by_ids(&self, ids: &[UserId]) -> Result<Vec<UserRecord>, StoreError> {
        self.count();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let users = user::Entity::find()
            .filter(user::Column::Id.is_in(ids.iter().copied()))
            .all(&self.read)
            .await?;
        self.with_areas(users).await
    }

    /// All users, oldest first (for administrators).
    pub async fn all_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.count();
        let users = user::Entity::find()
            .order_by_asc(user::Column::Id)
            .all(&self.read)
            .await?;
        self.with_areas(users).await
    }

    pub async fn count_users(&self) -> Result<u64, StoreError> {
        self.count();
        Ok(user::Entity::find().count(&self.read).await?)
    }

    pub(crate) async fn with_areas(
        &self,
        users: Vec<user::Model>,
    ) -> Result<Vec<UserRecord>, StoreError> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let rows = user_area::Entity::find()
            .filter(user_area::Column::UserId.is_in(users.iter().map(|u| u.id)))
            .order_by_asc(user_area::Column::AreaCode)
            .all(&self.read)
            .await?;
        let mut by_user: HashMap<UserId, Vec<String>> = HashMap::new();
        for r in rows {
            by_user.entry(r.user_id).or_default().push(r.area_code);
        }
        users
            .into_iter()
            .map(|u| {
                let areas = by_user.remove(&u.id).unwrap_or_default();
                record(u, areas)
            })
            .collect()
    }

    /// Gives a user a new token hash (the old token stops working).
    pub async fn replace_token_hash(&self, id: UserId, hash: &str) -> Result<bool, StoreError> {
        self.count();
        use sea_orm::sea_query::Expr;
        let r = user::Entity::update_many()
            .col_expr(user::Column::TokenHash, Expr::value(hash))
            .filter(user::Column::Id.eq(id))
            .exec(&self.write)
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// The active user with this (lower-cased) e-mail address.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        self.count();
        let Some(u) = user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .filter(user::Column::Active.eq(true))
            .first(&self.read)
            .await?
        else {
            return Ok(None);
        };
        Ok(self.with_areas(vec![u]).await?.pop())
    }

    /// Replaces a user's editable fields and areas in one transaction.
    /// `Ok(None)` when there is no such user.
    pub async fn update_user(
        &self,
        id: UserId,
        change: &UserChange,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.count();
        use sea_orm::sea_query::Expr;
        let txn = self.begin_write().await?;
        let r = user::Entity::update_many()
            .col_expr(user::Column::Name, Expr::value(change.name.clone()))
            .col_expr(user::Column::Role, Expr::value(change.role.as_str()))
            .col_expr(
                user::Column::MinistryCode,
                Expr::value(change.ministry.clone()),
            )
            .col_expr(user::Column::Email, Expr::value(change.email.clone()))
            .filter(user::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(duplicate_email)?;
        if r.rows_affected != 1 {
            return Ok(None);
        }
        user_area::Entity::delete_many()
            .filter(user_area::Column::UserId.eq(id))
            .exec(&txn)
            .await?;
        let mut areas = change.areas.clone();
        areas.sort();
        areas.dedup();
        if !areas.is_empty() {
            user_area::Entity::insert_many(areas.iter().map(|a| user_area::ActiveModel {
                user_id: Set(id),
                area_code: Set(a.clone()),
            }))
            .exec_without_returning(&txn)
            .await?;
        }
        let u = user::Entity::find_by_id(id).first(&txn).await?;
        txn.commit().await?;
        match u {
            Some(u) => Ok(Some(record(u, areas)?)),
            None => Ok(None),
        }
    }

    /// Turns a user on or off; turning off also ends their sessions, in the
    /// same transaction. `false` when there is no such user.
    pub async fn set_user_active(&self, id: UserId, active: bool) -> Result<bool, StoreError> {
        self.count();
        use sea_orm::sea_query::Expr;
        let txn = self.begin_write().await?;
        let r = user::Entity::update_many()
            .col_expr(user::Column::Active, Expr::value(active))
            .filter(user::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        if !active {
            crate::entity::session::Entity::delete_many()
                .filter(crate::entity::session::Column::UserId.eq(id))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(r.rows_affected == 1)
    }

    /// Whether a user receives messages that are not essential.
    pub async fn set_notify_optional(&self, id: UserId, on: bool) -> Result<bool, StoreError> {
        self.count();
        use sea_orm::sea_query::Expr;
        let r = user::Entity::update_many()
            .col_expr(user::Column::NotifyOptional, Expr::value(on))
            .filter(user::Column::Id.eq(id))
            .exec(&self.write)
            .await?;
        Ok(r.rows_affected == 1)
    }
}
