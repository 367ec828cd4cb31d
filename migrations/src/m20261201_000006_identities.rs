//! Signing in through an OpenID provider: identities linked to users by
//! (issuer, subject), the pending logins (state, nonce, PKCE verifier), the
//! requests of people who have no access yet, and the ID token a session
//! keeps for signing out at the provider.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    IdToken,
}

#[derive(DeriveIden)]
enum UserIdentities {
    Table,
    Issuer,
    Subject,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OidcLogins {
    Table,
    StateHash,
    Nonce,
    Verifier,
    ReturnTo,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum AccessRequests {
    Table,
    Issuer,
    Subject,
    Email,
    Name,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Sessions::Table)
                .add_column(text_null(Sessions::IdToken))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(UserIdentities::Table)
                .col(string_len(UserIdentities::Issuer, 500))
                .col(string_len(UserIdentities::Subject, 255))
                .col(big_integer(UserIdentities::UserId))
                .col(big_integer(UserIdentities::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(UserIdentities::Issuer)
                        .col(UserIdentities::Subject),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(UserIdentities::Table, UserIdentities::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OidcLogins::Table)
                .col(string_len(OidcLogins::StateHash, 64).primary_key())
                .col(string_len(OidcLogins::Nonce, 100))
                .col(string_len(OidcLogins::Verifier, 100))
                .col(string_len(OidcLogins::ReturnTo, 500))
                .col(big_integer(OidcLogins::ExpiresAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AccessRequests::Table)
                .col(string_len(AccessRequests::Issuer, 500))
                .col(string_len(AccessRequests::Subject, 255))
                .col(string_len_null(AccessRequests::Email, 254))
                .col(string_len_null(AccessRequests::Name, 200))
                .col(big_integer(AccessRequests::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(AccessRequests::Issuer)
                        .col(AccessRequests::Subject),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            AccessRequests::Table.into_iden(),
            OidcLogins::Table.into_iden(),
            UserIdentities::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(Sessions::Table)
                .drop_column(Sessions::IdToken)
                .to_owned(),
        )
        .await
    }
}
