//! The escalation engine's schema and its reference data.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FocusAreas {
    Table,
    Code,
    Name,
}

#[derive(DeriveIden)]
enum Ministries {
    Table,
    Code,
    Name,
    ProvidesRepresentative,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Name,
    Role,
    MinistryCode,
    TokenHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserAreas {
    Table,
    UserId,
    AreaCode,
}

#[derive(DeriveIden)]
enum ServiceNorms {
    Table,
    Level,
    Days,
    AutoEscalate,
}

#[derive(DeriveIden)]
enum ReferenceCounters {
    Table,
    AreaCode,
    Year,
    Last,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    Reference,
    Title,
    Description,
    FocusArea,
    Domains,
    RuleCitation,
    RuleBwbId,
    RuleScope,
    RuleMinistry,
    DesiredAction,
    HouseholdsAffected,
    EstimatedCostCents,
    Urgency,
    SubmittedBy,
    CreatedAt,
    State,
    Level,
    HighestLevel,
    AssigneeId,
    Deadline,
    PausedAt,
    ResolutionOutcome,
    ResolutionExplanation,
    ResolutionFundsCents,
    ResolutionLevel,
    ResolutionDecidedAt,
    MergedInto,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CaseEvents {
    Table,
    Id,
    CaseId,
    Sequence,
    Action,
    FromState,
    ToState,
    ActorId,
    ActorRole,
    Note,
    At,
    Effect,
}

const AREAS: &[(&str, &str)] = &[
    ("ANW", "Amsterdam Nieuw-West"),
    ("AZO", "Amsterdam Zuidoost"),
    ("ARO", "Arnhem Oost"),
    ("BRN", "Breda Noord"),
    ("DLW", "Delft West"),
    ("DHZ", "Den Haag Zuidwest"),
    ("DDW", "Dordrecht West"),
    ("EWZ", "Eindhoven Woensel-Zuid"),
    ("GRN", "Groningen Noord"),
    ("HLN", "Heerlen Noord"),
    ("LWO", "Leeuwarden Oost"),
    ("LLO", "Lelystad Oost"),
    ("NCA", "Nieuwegein Centrale As"),
    ("RSR", "Roosendaal Ring"),
    ("RTZ", "Rotterdam Zuid"),
    ("SNO", "Schiedam Nieuwland en Oost"),
    ("TNW", "Tilburg Noord West"),
    ("UOV", "Utrecht Overvecht"),
    ("VWW", "Vlaardingen Westwijk"),
    ("ZDO", "Zaandam Oost"),
];

const MINISTRIES: &[(&str, &str, bool)] = &[
    ("BZK", "Binnenlandse Zaken en Koninkrijksrelaties", true),
    ("OCW", "Onderwijs, Cultuur en Wetenschap", true),
    ("JENV", "Justitie en Veiligheid", true),
    ("SZW", "Sociale Zaken en Werkgelegenheid", true),
    ("VWS", "Volksgezondheid, Welzijn en Sport", true),
    ("FIN", "Financiën", false),
    ("EZK", "Economische Zaken en Klimaat", false),
    ("IENW", "Infrastructuur en Waterstaat", false),
    ("LNV", "Landbouw, Natuur en Voedselkwaliteit", false),
];

const NORMS: &[(&str, i32)] = &[
    ("PROGRAMME_BUREAU", 10),
    ("ALLIANCE", 42),
    ("NATIONAL_REPRESENTATIVE", 20),
    ("BREAKTHROUGH_MEETING", 60),
];

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
                .table(FocusAreas::Table)
                .col(string_len(FocusAreas::Code, 8).primary_key())
                .col(string(FocusAreas::Name))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Ministries::Table)
                .col(string_len(Ministries::Code, 8).primary_key())
                .col(string(Ministries::Name))
                .col(boolean(Ministries::ProvidesRepresentative))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(big_pk_auto(Users::Id))
                .col(string(Users::Name))
                .col(string_len(Users::Role, 32))
                .col(string_len_null(Users::MinistryCode, 8))
                .col(string_len_uniq(Users::TokenHash, 64))
                .col(big_integer(Users::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Users::Table, Users::MinistryCode)
                        .to(Ministries::Table, Ministries::Code),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(UserAreas::Table)
                .col(big_integer(UserAreas::UserId))
                .col(string_len(UserAreas::AreaCode, 8))
                .primary_key(
                    Index::create()
                        .col(UserAreas::UserId)
                        .col(UserAreas::AreaCode),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(UserAreas::Table, UserAreas::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(UserAreas::Table, UserAreas::AreaCode)
                        .to(FocusAreas::Table, FocusAreas::Code),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ServiceNorms::Table)
                .col(string_len(ServiceNorms::Level, 32).primary_key())
                .col(integer(ServiceNorms::Days))
                .col(boolean(ServiceNorms::AutoEscalate))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ReferenceCounters::Table)
                .col(string_len(ReferenceCounters::AreaCode, 8))
                .col(integer(ReferenceCounters::Year))
                .col(big_integer(ReferenceCounters::Last))
                .primary_key(
                    Index::create()
                        .col(ReferenceCounters::AreaCode)
                        .col(ReferenceCounters::Year),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Cases::Table)
                .col(big_pk_auto(Cases::Id))
                .col(string_len_uniq(Cases::Reference, 32))
                .col(string(Cases::Title))
                .col(text(Cases::Description))
                .col(string_len(Cases::FocusArea, 8))
                .col(string(Cases::Domains))
                .col(string(Cases::RuleCitation))
                .col(string_len_null(Cases::RuleBwbId, 16))
                .col(string_len(Cases::RuleScope, 16))
                .col(string_len_null(Cases::RuleMinistry, 8))
                .col(text(Cases::DesiredAction))
                .col(integer_null(Cases::HouseholdsAffected))
                .col(big_integer_null(Cases::EstimatedCostCents))
                .col(string_len(Cases::Urgency, 8))
                .col(big_integer(Cases::SubmittedBy))
                .col(big_integer(Cases::CreatedAt))
                .col(string_len(Cases::State, 32))
                .col(string_len(Cases::Level, 32))
                .col(string_len(Cases::HighestLevel, 32))
                .col(big_integer_null(Cases::AssigneeId))
                .col(big_integer_null(Cases::Deadline))
                .col(big_integer_null(Cases::PausedAt))
                .col(string_len_null(Cases::ResolutionOutcome, 32))
                .col(text_null(Cases::ResolutionExplanation))
                .col(big_integer_null(Cases::ResolutionFundsCents))
                .col(string_len_null(Cases::ResolutionLevel, 32))
                .col(big_integer_null(Cases::ResolutionDecidedAt))
                .col(big_integer_null(Cases::MergedInto))
                .col(integer(Cases::Version))
                .col(big_integer(Cases::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Cases::Table, Cases::FocusArea)
                        .to(FocusAreas::Table, FocusAreas::Code),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Cases::Table, Cases::RuleMinistry)
                        .to(Ministries::Table, Ministries::Code),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Cases::Table, Cases::SubmittedBy)
                        .to(Users::Table, Users::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Cases::Table, Cases::AssigneeId)
                        .to(Users::Table, Users::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Cases::Table, Cases::MergedInto)
                        .to(Cases::Table, Cases::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CaseEvents::Table)
                .col(big_pk_auto(CaseEvents::Id))
                .col(big_integer(CaseEvents::CaseId))
                .col(integer(CaseEvents::Sequence))
                .col(string_len(CaseEvents::Action, 32))
                .col(string_len_null(CaseEvents::FromState, 32))
                .col(string_len(CaseEvents::ToState, 32))
                .col(big_integer(CaseEvents::ActorId))
                .col(string_len(CaseEvents::ActorRole, 32))
                .col(text_null(CaseEvents::Note))
                .col(big_integer(CaseEvents::At))
                .col(text(CaseEvents::Effect))
                .foreign_key(
                    ForeignKey::create()
                        .from(CaseEvents::Table, CaseEvents::CaseId)
                        .to(Cases::Table, Cases::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CaseEvents::Table, CaseEvents::ActorId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;

        // One index per list the API offers. Lists are sorted newest first
        // by id, so every index ends in the id.
        let indexes = [
            index(
                "ux_case_events_case_sequence",
                CaseEvents::Table,
                &["case_id", "sequence"],
            ),
            index(
                "ix_cases_area_state",
                Cases::Table,
                &["focus_area", "state", "id"],
            ),
            index("ix_cases_area_id", Cases::Table, &["focus_area", "id"]),
            index(
                "ix_cases_submitted_by",
                Cases::Table,
                &["submitted_by", "id"],
            ),
            index("ix_cases_assignee", Cases::Table, &["assignee_id", "id"]),
            index(
                "ix_cases_state_deadline",
                Cases::Table,
                &["state", "deadline"],
            ),
            index(
                "ix_cases_highest_level",
                Cases::Table,
                &["highest_level", "id"],
            ),
            index("ix_cases_merged_into", Cases::Table, &["merged_into"]),
            index("ix_user_areas_area", UserAreas::Table, &["area_code"]),
        ];
        for (n, mut i) in indexes.into_iter().enumerate() {
            if n == 0 {
                i.unique();
            }
            m.create_index(i).await?;
        }

        let mut areas = Query::insert();
        areas
            .into_table(FocusAreas::Table)
            .columns([FocusAreas::Code, FocusAreas::Name]);
        for (code, name) in AREAS {
            areas.values_panic([(*code).into(), (*name).into()]);
        }
        m.exec_stmt(areas).await?;

        let mut ministries = Query::insert();
        ministries.into_table(Ministries::Table).columns([
            Ministries::Code,
            Ministries::Name,
            Ministries::ProvidesRepresentative,
        ]);
        for (code, name, rep) in MINISTRIES {
            ministries.values_panic([(*code).into(), (*name).into(), (*rep).into()]);
        }
        m.exec_stmt(ministries).await?;

        let mut norms = Query::insert();
        norms.into_table(ServiceNorms::Table).columns([
            ServiceNorms::Level,
            ServiceNorms::Days,
            ServiceNorms::AutoEscalate,
        ]);
        for (level, days) in NORMS {
            norms.values_panic([(*level).into(), (*days).into(), false.into()]);
        }
        m.exec_stmt(norms).await?;
        Ok(())
    }
}
