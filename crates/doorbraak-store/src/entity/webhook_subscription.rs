use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub callback_url: String,
    pub secret: String,
    /// Area codes separated by spaces; empty for all.
    pub focus_areas: String,
    /// Ministry codes separated by spaces; empty for all.
    pub ministries: String,
    pub active: bool,
    pub created_at: i64,
}

impl ActiveModelBehavior for ActiveModel {}
