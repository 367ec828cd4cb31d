//! SQL written out as text, in sea-query's own words: quoted names, `?`
//! placeholders on SQLite and `$1, $2, …` on PostgreSQL, values in order.
//!
//! The transitions' statements are written with it ([`crate::transition`],
//! and the outbox's rows in [`crate::outbox::Rows`]) rather than built as
//! sea-query trees and rendered each time, which was the largest part of
//! our own code in the server's profile (ARCHITECTURE.md, "Tried"). What
//! is written is sea-query's text to the character: `transition`'s tests
//! hold it to that, and builds with debug assertions compare every
//! transition they write.

use sea_orm::{
    ActiveModelTrait, ActiveValue, DbBackend, EntityName, EntityTrait, IdenStatic, Iterable,
    Statement, Value,
};

use crate::Backend;

type Column<A> = <<A as ActiveModelTrait>::Entity as EntityTrait>::Column;

/// The table of a row's entity.
pub(crate) fn table<A: ActiveModelTrait>() -> &'static str {
    <A::Entity as Default>::default().table_name()
}

/// A statement being written.
pub(crate) struct Sql {
    text: String,
    values: Vec<Value>,
    backend: Backend,
}

impl Sql {
    pub(crate) fn new(backend: Backend) -> Sql {
        Sql {
            text: String::with_capacity(512),
            values: Vec::with_capacity(16),
            backend,
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// Appends text as it is.
    pub(crate) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a quoted name.
    pub(crate) fn name(&mut self, name: &str) -> &mut Sql {
        self.text.push('"');
        self.text.push_str(name);
        self.text.push('"');
        self
    }

    /// Appends `"table"."column"`.
    pub(crate) fn column(&mut self, table: &str, column: &str) -> &mut Sql {
        self.name(table).push(".").name(column)
    }

    /// Appends a placeholder for `value`.
    pub(crate) fn param(&mut self, value: impl Into<Value>) -> &mut Sql {
        self.values.push(value.into());
        match self.backend {
            Backend::Sqlite => self.text.push('?'),
            Backend::Postgres => {
                use std::fmt::Write;
                // Writing to a String cannot fail.
                let _ = write!(self.text, "${}", self.values.len());
            }
        }
        self
    }

    /// Appends placeholders for `values`, separated by commas.
    pub(crate) fn params(&mut self, values: impl IntoIterator<Item = Value>) -> &mut Sql {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.param(v);
        }
        self
    }

    /// Appends `"a" = ?, "b" = ?`: the set columns of `row`.
    pub(crate) fn assignments<A: ActiveModelTrait>(&mut self, row: &A) -> &mut Sql {
        let mut first = true;
        for c in Column::<A>::iter() {
            if let ActiveValue::Set(v) = row.get(c) {
                if !first {
                    self.push(", ");
                }
                first = false;
                self.name(c.as_str()).push(" = ").param(v);
            }
        }
        self
    }

    /// Appends `"a", "b"`, the set columns of `row`, and returns their
    /// values for the placeholders that follow.
    pub(crate) fn columns<A: ActiveModelTrait>(&mut self, row: &A) -> Vec<Value> {
        let mut values = Vec::new();
        for c in Column::<A>::iter() {
            if let ActiveValue::Set(v) = row.get(c) {
                if !values.is_empty() {
                    self.push(", ");
                }
                self.name(c.as_str());
                values.push(v);
            }
        }
        values
    }

    /// Appends ` WHERE "t"."k" = ? AND …` for the key columns of a row.
    pub(crate) fn keys<A: ActiveModelTrait, const N: usize>(
        &mut self,
        keys: [(Column<A>, Value); N],
    ) -> &mut Sql {
        for (i, (c, v)) in keys.into_iter().enumerate() {
            self.push(if i == 0 { " WHERE " } else { " AND " })
                .column(table::<A>(), c.as_str())
                .push(" = ")
                .param(v);
        }
        self
    }

    /// Appends `UPDATE "t" SET "a" = ?, … WHERE "t"."k" = ? AND …`: the
    /// set columns of `set`, in the row whose key columns hold `keys`.
    pub(crate) fn update<A: ActiveModelTrait, const N: usize>(
        &mut self,
        set: &A,
        keys: [(Column<A>, Value); N],
    ) -> &mut Sql {
        self.push("UPDATE ")
            .name(table::<A>())
            .push(" SET ")
            .assignments(set)
            .keys::<A, N>(keys)
    }

    pub(crate) fn statement(self) -> Statement {
        let backend = match self.backend {
            Backend::Sqlite => DbBackend::Sqlite,
            Backend::Postgres => DbBackend::Postgres,
        };
        Statement::from_sql_and_values(backend, self.text, self.values)
    }
}

/// SQLite: `UPDATE "t" SET "a" = ?, … WHERE "t"."k" = ? AND …`.
pub(crate) fn update<A: ActiveModelTrait, const N: usize>(
    set: &A,
    keys: [(Column<A>, Value); N],
) -> Statement {
    let mut sql = Sql::new(Backend::Sqlite);
    sql.update(set, keys);
    sql.statement()
}

/// SQLite: `INSERT INTO "t" ("a", …) VALUES (?, …)`.
pub(crate) fn insert<A: ActiveModelTrait>(row: &A) -> Statement {
    let mut sql = Sql::new(Backend::Sqlite);
    sql.push("INSERT INTO ").name(table::<A>()).push(" (");
    let values = sql.columns(row);
    sql.push(") VALUES (").params(values).push(")");
    sql.statement()
}

/// Appends ` AND EXISTS(SELECT 1 FROM "moved")`: a write in PostgreSQL's
/// one statement that takes place only if the case's update did.
pub(crate) fn guard(sql: &mut Sql) {
    sql.push(" AND EXISTS(SELECT ")
        .param(1i32)
        .push(" FROM \"moved\")");
}
