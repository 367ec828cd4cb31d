use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meetings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub level: String,
    pub focus_area: Option<String>,
    pub scheduled_at: i64,
    pub status: String,
    pub created_by: i64,
    pub closed_at: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
