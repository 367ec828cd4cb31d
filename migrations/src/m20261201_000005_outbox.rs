//! Hearing back: the outbox (messages and webhook deliveries written in the
//! same transaction as their event), webhook subscriptions, one-time
//! sign-in links, and a user's choice to receive only essential messages.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    NotifyOptional,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Channel,
    UserId,
    SubscriptionId,
    CaseId,
    Kind,
    Payload,
    DedupeKey,
    CreatedAt,
    NextAttemptAt,
    LeaseUntil,
    Attempts,
    DeliveredAt,
    FailedAt,
    LastStatus,
    LastError,
}

#[derive(DeriveIden)]
enum WebhookSubscriptions {
    Table,
    Id,
    CallbackUrl,
    Secret,
    FocusAreas,
    Ministries,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SignInLinks {
    Table,
    TokenHash,
    UserId,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(boolean(Users::NotifyOptional).default(true))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WebhookSubscriptions::Table)
                .col(big_pk_auto(WebhookSubscriptions::Id))
                .col(string_len(WebhookSubscriptions::CallbackUrl, 2000))
                .col(string_len(WebhookSubscriptions::Secret, 100))
                .col(string(WebhookSubscriptions::FocusAreas))
                .col(string(WebhookSubscriptions::Ministries))
                .col(boolean(WebhookSubscriptions::Active).default(true))
                .col(big_integer(WebhookSubscriptions::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .col(big_pk_auto(Outbox::Id))
                .col(string_len(Outbox::Channel, 16))
                .col(big_integer_null(Outbox::UserId))
                .col(big_integer_null(Outbox::SubscriptionId))
                .col(big_integer_null(Outbox::CaseId))
                .col(string_len(Outbox::Kind, 32))
                .col(text(Outbox::Payload))
                .col(string_len_null(Outbox::DedupeKey, 200))
                .col(big_integer(Outbox::CreatedAt))
                .col(big_integer(Outbox::NextAttemptAt))
                .col(big_integer_null(Outbox::LeaseUntil))
                .col(integer(Outbox::Attempts).default(0))
                .col(big_integer_null(Outbox::DeliveredAt))
                .col(big_integer_null(Outbox::FailedAt))
                .col(integer_null(Outbox::LastStatus))
                .col(string_len_null(Outbox::LastError, 500))
                .foreign_key(
                    ForeignKey::create()
                        .from(Outbox::Table, Outbox::SubscriptionId)
                        .to(WebhookSubscriptions::Table, WebhookSubscriptions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outbox_due")
                .table(Outbox::Table)
                .col(Outbox::DeliveredAt)
                .col(Outbox::FailedAt)
                .col(Outbox::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outbox_dedupe")
                .table(Outbox::Table)
                .col(Outbox::DedupeKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outbox_by_subscription")
                .table(Outbox::Table)
                .col(Outbox::SubscriptionId)
                .col(Outbox::Id)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SignInLinks::Table)
                .col(string_len(SignInLinks::TokenHash, 64).primary_key())
                .col(big_integer(SignInLinks::UserId))
                .col(big_integer(SignInLinks::CreatedAt))
                .col(big_integer(SignInLinks::ExpiresAt))
                .col(big_integer_null(SignInLinks::UsedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(SignInLinks::Table, SignInLinks::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SignInLinks::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Outbox::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(WebhookSubscriptions::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .drop_column(Users::NotifyOptional)
                .to_owned(),
        )
        .await
    }
}
