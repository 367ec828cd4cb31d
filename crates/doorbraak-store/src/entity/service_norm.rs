use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_norms")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub level: String,
    pub days: i32,
    pub auto_escalate: bool,
}

impl ActiveModelBehavior for ActiveModel {}
