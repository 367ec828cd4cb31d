//! Meetings and their agendas, the barrier register, decision dates on
//! resolutions, and full-text search over resolved cases.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Barriers {
    Table,
    Id,
    Citation,
    BwbId,
    Scope,
    OwningMinistry,
    Status,
    DecisionOutcome,
    DecisionNote,
    DecidedAt,
    EffectiveFrom,
    ExperimentEnds,
    EvaluationDate,
    RefusedAt,
    InForceOn,
    ImplementationNote,
    ImplementedAt,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum Meetings {
    Table,
    Id,
    Level,
    FocusArea,
    ScheduledAt,
    Status,
    CreatedBy,
    ClosedAt,
}

#[derive(DeriveIden)]
enum AgendaItems {
    Table,
    Id,
    MeetingId,
    CaseId,
    AddedAt,
    CarriedFrom,
    CarriedTo,
    Decision,
    Note,
    DecidedAt,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    BarrierId,
    ResolutionEffectiveFrom,
    ResolutionExperimentEnds,
    ResolutionEvaluationDate,
}

#[derive(DeriveIden)]
enum CaseEvents {
    Table,
    MeetingId,
}

#[derive(DeriveIden)]
enum Ministries {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum FocusAreas {
    Table,
    Code,
}

fn index(name: &str, table: impl IntoIden, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(Alias::new(*c));
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Barriers::Table)
                .col(big_pk_auto(Barriers::Id))
                .col(string(Barriers::Citation))
                .col(string_len_null(Barriers::BwbId, 16))
                .col(string_len(Barriers::Scope, 16))
                .col(string_len(Barriers::OwningMinistry, 8))
                .col(string_len(Barriers::Status, 32))
                .col(string_len_null(Barriers::DecisionOutcome, 32))
                .col(text_null(Barriers::DecisionNote))
                .col(big_integer_null(Barriers::DecidedAt))
                .col(string_len_null(Barriers::EffectiveFrom, 10))
                .col(string_len_null(Barriers::ExperimentEnds, 10))
                .col(string_len_null(Barriers::EvaluationDate, 10))
                .col(big_integer_null(Barriers::RefusedAt))
                .col(string_len_null(Barriers::InForceOn, 10))
                .col(text_null(Barriers::ImplementationNote))
                .col(big_integer_null(Barriers::ImplementedAt))
                .col(big_integer(Barriers::CreatedAt))
                .col(big_integer(Barriers::CreatedBy))
                .foreign_key(
                    ForeignKey::create()
                        .from(Barriers::Table, Barriers::OwningMinistry)
                        .to(Ministries::Table, Ministries::Code),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Barriers::Table, Barriers::CreatedBy)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Meetings::Table)
                .col(big_pk_auto(Meetings::Id))
                .col(string_len(Meetings::Level, 32))
                .col(string_len_null(Meetings::FocusArea, 8))
                .col(big_integer(Meetings::ScheduledAt))
                .col(string_len(Meetings::Status, 16))
                .col(big_integer(Meetings::CreatedBy))
                .col(big_integer_null(Meetings::ClosedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Meetings::Table, Meetings::FocusArea)
                        .to(FocusAreas::Table, FocusAreas::Code),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Meetings::Table, Meetings::CreatedBy)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AgendaItems::Table)
                .col(big_pk_auto(AgendaItems::Id))
                .col(big_integer(AgendaItems::MeetingId))
                .col(big_integer(AgendaItems::CaseId))
                .col(big_integer(AgendaItems::AddedAt))
                .col(big_integer_null(AgendaItems::CarriedFrom))
                .col(big_integer_null(AgendaItems::CarriedTo))
                .col(string_len_null(AgendaItems::Decision, 32))
                .col(text_null(AgendaItems::Note))
                .col(big_integer_null(AgendaItems::DecidedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(AgendaItems::Table, AgendaItems::MeetingId)
                        .to(Meetings::Table, Meetings::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(AgendaItems::Table, AgendaItems::CaseId)
                        .to(Cases::Table, Cases::Id),
                )
                .to_owned(),
        )
        .await?;
        // SQLite: one column per ALTER statement.
        for col in [
            ColumnDef::new(Cases::BarrierId)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Cases::ResolutionEffectiveFrom)
                .string_len(10)
                .null()
                .to_owned(),
            ColumnDef::new(Cases::ResolutionExperimentEnds)
                .string_len(10)
                .null()
                .to_owned(),
            ColumnDef::new(Cases::ResolutionEvaluationDate)
                .string_len(10)
                .null()
                .to_owned(),
        ] {
            let mut col = col;
            m.alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(CaseEvents::Table)
                .add_column(ColumnDef::new(CaseEvents::MeetingId).big_integer().null())
                .to_owned(),
        )
        .await?;

        let indexes = [
            // Not unique: a case decided in a meeting and sent back to the
            // same level may come on that (still open) meeting again.
            index(
                "ix_agenda_meeting_case",
                AgendaItems::Table,
                &["meeting_id", "case_id"],
            ),
            index("ix_agenda_case", AgendaItems::Table, &["case_id", "id"]),
            index(
                "ix_meetings_level_area",
                Meetings::Table,
                &["level", "focus_area", "status", "scheduled_at"],
            ),
            index(
                "ix_barriers_ministry",
                Barriers::Table,
                &["owning_ministry", "status", "id"],
            ),
            index("ix_barriers_bwb", Barriers::Table, &["bwb_id"]),
            index("ix_cases_barrier", Cases::Table, &["barrier_id"]),
            index(
                "ix_cases_state_decided",
                Cases::Table,
                &["state", "resolution_decided_at"],
            ),
            index(
                "ix_cases_ministry_created",
                Cases::Table,
                &["rule_ministry", "created_at"],
            ),
        ];
        for i in indexes {
            m.create_index(i).await?;
        }

        // Full-text search over resolved cases: citation and explanation,
        // never the description.
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE precedents_fts USING fts5(citation, explanation, \
                     tokenize = 'unicode61 remove_diacritics 2')",
                )
                .await?;
            }
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE INDEX ix_cases_precedent_fts ON cases USING GIN \
                     (to_tsvector('dutch', rule_citation || ' ' || coalesce(resolution_explanation, ''))) \
                     WHERE state = 'RESOLVED'",
                )
                .await?;
            }
            _ => {}
        }
        Ok(())
    }
}
