//! PostgreSQL only: who holds a case, a row per held case (migration 10
//! says why the holder has a table of its own there).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_holders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: i64,
    pub assignee_id: i64,
}

impl ActiveModelBehavior for ActiveModel {}
