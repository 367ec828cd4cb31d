use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub reference: String,
    pub title: String,
    pub description: String,
    pub focus_area: String,
    /// Policy domains, comma-separated names.
    pub domains: String,
    pub rule_citation: String,
    pub rule_bwb_id: Option<String>,
    pub rule_scope: String,
    pub rule_ministry: Option<String>,
    pub desired_action: String,
    pub households_affected: Option<i32>,
    pub estimated_cost_cents: Option<i64>,
    pub urgency: String,
    pub submitted_by: i64,
    pub created_at: i64,
    pub state: String,
    pub level: String,
    pub highest_level: String,
    pub assignee_id: Option<i64>,
    pub deadline: Option<i64>,
    pub paused_at: Option<i64>,
    pub resolution_outcome: Option<String>,
    pub resolution_explanation: Option<String>,
    pub resolution_funds_cents: Option<i64>,
    pub resolution_level: Option<String>,
    pub resolution_decided_at: Option<i64>,
    pub merged_into: Option<i64>,
    pub version: i32,
    pub updated_at: i64,
    pub barrier_id: Option<i64>,
    pub resolution_effective_from: Option<String>,
    pub resolution_experiment_ends: Option<String>,
    pub resolution_evaluation_date: Option<String>,
    /// 1 while what the case adds to the statistics' sums may have changed
    /// since it was folded in (migration 8).
    pub stat_dirty: i32,
}

impl ActiveModelBehavior for ActiveModel {}
