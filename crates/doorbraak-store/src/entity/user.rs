use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub role: String,
    pub ministry_code: Option<String>,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub created_at: i64,
    /// Lower-cased; unique.
    #[sea_orm(unique)]
    pub email: Option<String>,
    pub active: bool,
    /// False when the user wants essential messages only.
    pub notify_optional: bool,
}

impl ActiveModelBehavior for ActiveModel {}
