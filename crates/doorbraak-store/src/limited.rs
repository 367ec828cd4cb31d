//! Reads with a `LIMIT`, written so that SQLite keeps their compiled
//! statements.
//!
//! sea-query binds a `LIMIT` as a parameter (`.one()` adds `LIMIT 1`).
//! SQLite lets a bound `LIMIT`'s value shape the plan, so it marks the
//! statement to be compiled again whenever that parameter is bound, and
//! sqlx binds every parameter on every run: each such read parsed and
//! planned its SQL again. In the in-process transition benchmark that
//! was a fifth of all CPU (the read of the case by id). Here the limit is
//! part of the SQL text on SQLite, so the statement cache holds; on
//! PostgreSQL, whose prepared statements do not depend on it, it stays a
//! parameter.
//!
//! The store reads through [`Limited::first`] and [`Limited::at_most`]
//! instead of sea-orm's `.one()` and `.limit(n).all()`; `clippy.toml`
//! disallows those two, so a new read cannot bring the cost back.

use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, Select, SelectModel, Selector, SelectorTrait,
    Statement, Value, Values,
};

/// `stmt` (a whole `SELECT`, built without a limit) returning at most
/// `limit` rows.
pub(crate) fn with_limit(mut stmt: Statement, limit: u64) -> Statement {
    match stmt.db_backend {
        DbBackend::Postgres => {
            let values = stmt.values.get_or_insert_with(|| Values(Vec::new()));
            values.0.push(Value::BigUnsigned(Some(limit)));
            stmt.sql.push_str(&format!(" LIMIT ${}", values.0.len()));
        }
        _ => stmt.sql.push_str(&format!(" LIMIT {limit}")),
    }
    stmt
}

/// A sea-orm query that can be run with a limit (see the module).
#[allow(async_fn_in_trait)]
pub(crate) trait Limited: Sized {
    type Item;

    /// The query's SQL for `backend`, without a limit.
    fn statement(self, backend: DbBackend) -> Statement;

    /// Decodes one row.
    fn decode(row: sea_orm::QueryResult) -> Result<Self::Item, DbErr>;

    /// The first row, if any (what `.one()` does).
    async fn first<C: ConnectionTrait>(self, db: &C) -> Result<Option<Self::Item>, DbErr> {
        let stmt = with_limit(self.statement(db.get_database_backend()), 1);
        db.query_one_raw(stmt).await?.map(Self::decode).transpose()
    }

    /// At most `limit` rows.
    async fn at_most<C: ConnectionTrait>(
        self,
        limit: u64,
        db: &C,
    ) -> Result<Vec<Self::Item>, DbErr> {
        let stmt = with_limit(self.statement(db.get_database_backend()), limit);
        db.query_all_raw(stmt)
            .await?
            .into_iter()
            .map(Self::decode)
            .collect()
    }
}

impl<S: SelectorTrait> Limited for Selector<S> {
    type Item = S::Item;

    fn statement(self, backend: DbBackend) -> Statement {
        self.into_statement(backend)
    }

    fn decode(row: sea_orm::QueryResult) -> Result<S::Item, DbErr> {
        S::from_raw_query_result(row)
    }
}

impl<E: EntityTrait> Limited for Select<E> {
    type Item = E::Model;

    fn statement(self, backend: DbBackend) -> Statement {
        self.into_model::<E::Model>().into_statement(backend)
    }

    fn decode(row: sea_orm::QueryResult) -> Result<E::Model, DbErr> {
        <SelectModel<E::Model> as SelectorTrait>::from_raw_query_result(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::case;
    use sea_orm::{ColumnTrait, QueryFilter};

    fn sql(backend: DbBackend, limit: u64) -> Statement {
        with_limit(
            case::Entity::find()
                .filter(case::Column::Id.eq(7))
                .statement(backend),
            limit,
        )
    }

    #[test]
    fn sqlite_gets_the_limit_in_its_text_and_postgres_as_the_next_parameter() {
        let s = sql(DbBackend::Sqlite, 25);
        assert!(
            s.sql.ends_with("WHERE \"cases\".\"id\" = ? LIMIT 25"),
            "{}",
            s.sql
        );
        assert_eq!(s.values.map(|v| v.0.len()), Some(1));

        let p = sql(DbBackend::Postgres, 25);
        assert!(
            p.sql.ends_with("WHERE \"cases\".\"id\" = $1 LIMIT $2"),
            "{}",
            p.sql
        );
        assert_eq!(
            p.values.map(|v| v.0),
            Some(vec![Value::Int(Some(7)), Value::BigUnsigned(Some(25))])
        );
    }
}
