use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub channel: String,
    pub user_id: Option<i64>,
    pub subscription_id: Option<i64>,
    pub case_id: Option<i64>,
    pub kind: String,
    pub payload: String,
    #[sea_orm(unique)]
    pub dedupe_key: Option<String>,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub lease_until: Option<i64>,
    pub attempts: i32,
    pub delivered_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
