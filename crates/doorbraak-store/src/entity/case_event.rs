use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub sequence: i32,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_id: i64,
    pub actor_role: String,
    pub note: Option<String>,
    pub at: i64,
    /// The event's effect on the case's status, as JSON.
    pub effect: String,
    pub meeting_id: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
