use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "barriers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub citation: String,
    pub bwb_id: Option<String>,
    pub scope: String,
    pub owning_ministry: String,
    pub status: String,
    pub decision_outcome: Option<String>,
    pub decision_note: Option<String>,
    pub decided_at: Option<i64>,
    /// Dates as `YYYY-MM-DD`.
    pub effective_from: Option<String>,
    pub experiment_ends: Option<String>,
    pub evaluation_date: Option<String>,
    pub refused_at: Option<i64>,
    pub in_force_on: Option<String>,
    pub implementation_note: Option<String>,
    pub implemented_at: Option<i64>,
    pub created_at: i64,
    pub created_by: i64,
}

impl ActiveModelBehavior for ActiveModel {}
