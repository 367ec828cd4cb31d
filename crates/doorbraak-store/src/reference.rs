//! Reference data: focus areas, ministries and the service norms.

use doorbraak_core::{Level, Policy};
use sea_orm::{EntityTrait, QueryOrder};

use crate::convert::parse;
use crate::entity::{focus_area, ministry, service_norm};
use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FocusAreaRow {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinistryRow {
    pub code: String,
    pub name: String,
    pub provides_representative: bool,
}

impl Store {
    pub async fn focus_areas(&self) -> Result<Vec<FocusAreaRow>, StoreError> {
        self.count();
        Ok(focus_area::Entity::find()
            .order_by_asc(focus_area::Column::Code)
            .all(&self.read)
            .await?
            .into_iter()
            .map(|r| FocusAreaRow {
                code: r.code,
                name: r.name,
            })
            .collect())
    }

    pub async fn ministries(&self) -> Result<Vec<MinistryRow>, StoreError> {
        self.count();
        Ok(ministry::Entity::find()
            .order_by_asc(ministry::Column::Code)
            .all(&self.read)
            .await?
            .into_iter()
            .map(|r| MinistryRow {
                code: r.code,
                name: r.name,
                provides_representative: r.provides_representative,
            })
            .collect())
    }

    /// The service norms as a policy (defaults for levels without a row).
    pub async fn policy(&self) -> Result<Policy, StoreError> {
        self.count();
        let mut policy = Policy::default();
        for r in service_norm::Entity::find().all(&self.read).await? {
            let level: Level = parse("level", &r.level)?;
            policy.norm_days[level as usize] = i64::from(r.days);
            policy.auto_escalate[level as usize] = r.auto_escalate;
        }
        Ok(policy)
    }

    /// Changes one level's service norm.
    pub async fn set_service_norm(
        &self,
        level: Level,
        days: i32,
        auto_escalate: bool,
    ) -> Result<(), StoreError> {
        self.count();
        use sea_orm::ActiveValue::Set;
        use sea_orm::sea_query::OnConflict;
        service_norm::Entity::insert(service_norm::ActiveModel {
            level: Set(level.as_str().to_owned()),
            days: Set(days),
            auto_escalate: Set(auto_escalate),
        })
        .on_conflict(
            OnConflict::column(service_norm::Column::Level)
                .update_columns([
                    service_norm::Column::Days,
                    service_norm::Column::AutoEscalate,
                ])
                .to_owned(),
        )
        .exec_without_returning(&self.write)
        .await?;
        Ok(())
    }

    /// Adds a focus area; `false` when the code is taken.
    pub async fn add_focus_area(&self, code: &str, name: &str) -> Result<bool, StoreError> {
        self.count();
        use sea_orm::ActiveValue::Set;
        use sea_orm::sea_query::OnConflict;
        let r = focus_area::Entity::insert(focus_area::ActiveModel {
            code: Set(code.to_owned()),
            name: Set(name.to_owned()),
        })
        .on_conflict(
            OnConflict::column(focus_area::Column::Code)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.write)
        .await?;
        Ok(r == 1)
    }

    /// Adds a ministry; `false` when the code is taken.
    pub async fn add_ministry(
        &self,
        code: &str,
        name: &str,
        provides_representative: bool,
    ) -> Result<bool, StoreError> {
        self.count();
        use sea_orm::ActiveValue::Set;
        use sea_orm::sea_query::OnConflict;
        let r = ministry::Entity::insert(ministry::ActiveModel {
            code: Set(code.to_owned()),
            name: Set(name.to_owned()),
            provides_representative: Set(provides_representative),
        })
        .on_conflict(
            OnConflict::column(ministry::Column::Code)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.write)
        .await?;
        Ok(r == 1)
    }
}
