use sea_orm::entity::prelude::*;

/// One of the statistics' sums.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stat_nodes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ministry: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub series: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub grain: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub start: i64,
    /// `doorbraak_core::stats::Tally`, as JSON.
    pub tally: String,
}

impl ActiveModelBehavior for ActiveModel {}
