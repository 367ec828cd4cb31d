use sea_orm::entity::prelude::*;

/// What a case was folded into the statistics' sums as.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stat_cases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: i64,
    pub ministry: String,
    /// `doorbraak_core::stats::Contribution`, as JSON.
    pub contribution: String,
}

impl ActiveModelBehavior for ActiveModel {}
