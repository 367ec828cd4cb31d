//! Agenda items say in their own column that they went on undecided
//! (carried over to the next meeting, or moved by hand). Before, an item
//! carried over with no meeting planned was marked `carried_to = 0`; now
//! `carried_to` is only ever a meeting's id, and `moved_on` says the item
//! is no longer open.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AgendaItems {
    Table,
    CarriedTo,
    MovedOn,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(AgendaItems::Table)
                .add_column(boolean(AgendaItems::MovedOn).default(false))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(AgendaItems::Table)
                .value(AgendaItems::MovedOn, true)
                .and_where(Expr::col(AgendaItems::CarriedTo).is_not_null())
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(AgendaItems::Table)
                .value(AgendaItems::CarriedTo, Option::<i64>::None)
                .and_where(Expr::col(AgendaItems::CarriedTo).eq(0))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.exec_stmt(
            Query::update()
                .table(AgendaItems::Table)
                .value(AgendaItems::CarriedTo, 0)
                .and_where(Expr::col(AgendaItems::MovedOn).eq(true))
                .and_where(Expr::col(AgendaItems::CarriedTo).is_null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(AgendaItems::Table)
                .drop_column(AgendaItems::MovedOn)
                .to_owned(),
        )
        .await
    }
}
