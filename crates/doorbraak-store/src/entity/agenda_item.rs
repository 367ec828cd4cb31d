use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agenda_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub meeting_id: i64,
    pub case_id: i64,
    pub added_at: i64,
    /// The meeting this item was carried over (or moved) from.
    pub carried_from: Option<i64>,
    /// The meeting this undecided item was carried over (or moved) to;
    /// null while it waits for a meeting to be planned.
    pub carried_to: Option<i64>,
    /// The item went on undecided: carried over or moved.
    pub moved_on: bool,
    pub decision: Option<String>,
    pub note: Option<String>,
    pub decided_at: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
