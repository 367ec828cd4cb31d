//! The transition's statements as sea-query builds and renders them: the
//! reference the written-out ones ([`crate::render`]) are held to, text
//! and values, by the tests and by every transition of a build with debug
//! assertions.

use doorbraak_core::{Case, CaseId, Event, FollowUp, Status, UserId};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, InsertStatement, OnConflict, PostgresQueryBuilder, Query,
    SelectStatement, SubQueryStatement, UpdateStatement, WithClause,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, DbBackend, EntityTrait, Iterable, QueryFilter,
    QueryTrait, Statement,
};

use super::{item_decision, precedent, stat_dirty};
use crate::entity::{agenda_item, barrier, case, case_event, case_holder};
use crate::{Backend, StoreError};

/// The case columns whose value `after` changes, found the long way: the
/// whole status turned into column values twice and compared column by
/// column (what [`super::changed_columns`] does field by field).
pub(crate) fn changed_columns(before: &Status, after: &Status) -> case::ActiveModel {
    let mut old = <case::ActiveModel as Default>::default();
    crate::convert::set_status(&mut old, before);
    let mut new = <case::ActiveModel as Default>::default();
    crate::convert::set_status(&mut new, after);
    for c in case::Column::iter() {
        if old.get(c) == new.get(c) {
            new.not_set(c);
        }
    }
    stat_dirty(new)
}

/// The writes of a transition as sea-query statements, the guarded case
/// update first; with a `guard`, every other one writes only when it holds.
struct Writes {
    update: UpdateStatement,
    rest: Vec<SubQueryStatement>,
}

fn writes(
    backend: Backend,
    before: &Case,
    after: &Status,
    event: &Event,
    follow: &FollowUp,
    guard: Option<&Expr>,
    webhooks: bool,
) -> Result<Writes, StoreError> {
    let update = case::Entity::update_many()
        .set(changed_columns(&before.status, after))
        .filter(case::Column::Id.eq(before.id))
        .filter(case::Column::Version.eq(before.status.version))
        .into_query();
    let guarded = |mut u: UpdateStatement| {
        if let Some(g) = guard {
            u.and_where(g.clone());
        }
        SubQueryStatement::from(u)
    };
    let event_row = crate::cases::event_row(before.id, after.version, event);
    let mut rest = vec![SubQueryStatement::from(match guard {
        Some(_) => insert_if_moved(&event_row)?,
        None => case_event::Entity::insert(event_row).into_query(),
    })];
    if backend == Backend::Postgres && before.status.assignee != after.assignee {
        rest.push(holder_write(before.id, after.assignee)?);
    }
    for insert in crate::outbox::outbox_inserts(
        backend,
        before.id,
        &before.facts,
        after,
        event,
        guard,
        webhooks,
    )? {
        rest.push(insert.into());
    }
    if let Some(b) = &follow.barrier {
        rest.push(guarded(
            barrier::Entity::update_many()
                .set(crate::barriers::barrier_change(b))
                .filter(barrier::Column::Id.eq(b.id))
                .into_query(),
        ));
    }
    if let Some(d) = &follow.decide_item {
        rest.push(guarded(
            agenda_item::Entity::update_many()
                .set(item_decision(d, event))
                .filter(agenda_item::Column::Id.eq(d.item))
                .into_query(),
        ));
    }
    Ok(Writes { update, rest })
}

/// PostgreSQL: the case's row in `case_holders` follows its new holder
/// (the migration that made the table says why it is not an index on the
/// cases): written, or replaced, or deleted when nobody holds it now.
fn holder_write(case: CaseId, holder: Option<UserId>) -> Result<SubQueryStatement, StoreError> {
    Ok(match holder {
        Some(h) => {
            let mut insert = insert_if_moved(&case_holder::ActiveModel {
                case_id: ActiveValue::Set(case),
                assignee_id: ActiveValue::Set(h),
            })?;
            insert.on_conflict(
                OnConflict::column(case_holder::Column::CaseId)
                    .update_column(case_holder::Column::AssigneeId)
                    .to_owned(),
            );
            insert.into()
        }
        None => {
            let mut delete = case_holder::Entity::delete_many()
                .filter(case_holder::Column::CaseId.eq(case))
                .into_query();
            delete.and_where(moved());
            delete.into()
        }
    })
}

/// The name of the CTE that updates the case.
const MOVED: &str = "moved";

/// `EXISTS (SELECT 1 FROM moved)`: the case was updated.
fn moved() -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(Alias::new(MOVED))
            .to_owned(),
    )
}

/// `INSERT INTO t (the set columns) SELECT (their values) FROM moved`.
fn insert_if_moved<A: ActiveModelTrait>(row: &A) -> Result<InsertStatement, StoreError> {
    let (mut columns, mut values) = (Vec::new(), Vec::new());
    for c in <A::Entity as EntityTrait>::Column::iter() {
        if let ActiveValue::Set(v) = row.get(c) {
            columns.push(c);
            values.push(Expr::val(v));
        }
    }
    let mut select = Query::select();
    select.exprs(values).from(Alias::new(MOVED));
    let mut insert = Query::insert();
    insert
        .into_table(<A::Entity as Default>::default())
        .columns(columns);
    insert
        .select_from(select)
        .map_err(|e| StoreError::Corrupt(format!("insert after a move: {e}")))?;
    Ok(insert)
}

fn cte(name: String, query: SubQueryStatement) -> CommonTableExpression {
    CommonTableExpression::new()
        .query(query)
        .table_name(Alias::new(name))
        .to_owned()
}

/// [`super::pg_statement`] as sea-query builds and renders it.
pub(super) fn pg(
    before: &Case,
    after: &Status,
    event: &Event,
    follow: &FollowUp,
) -> Result<Statement, StoreError> {
    let mut w = writes(
        Backend::Postgres,
        before,
        after,
        event,
        follow,
        Some(&moved()),
        true,
    )?;
    w.update.returning_col(case::Column::Id);
    let mut with = WithClause::new();
    with.cte(cte(MOVED.to_owned(), w.update.into()));
    for (i, q) in w.rest.into_iter().enumerate() {
        with.cte(cte(format!("write_{i}"), q));
    }
    let mut result: SelectStatement = Query::select();
    result
        .column((Alias::new(MOVED), case::Column::Id))
        .from(Alias::new(MOVED));
    let (sql, values) = with.query(result).build(PostgresQueryBuilder);
    Ok(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
}

/// [`super::sqlite_statements`] as sea-query builds and renders them, the
/// reference the written-out ones are held to.
pub(super) fn sqlite(
    before: &Case,
    after: &Status,
    event: &Event,
    follow: &FollowUp,
    webhooks: bool,
) -> Result<Vec<Statement>, StoreError> {
    let w = writes(
        Backend::Sqlite,
        before,
        after,
        event,
        follow,
        None,
        webhooks,
    )?;
    let build = |(sql, values): (String, sea_orm::sea_query::Values)| {
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
    };
    use sea_orm::sea_query::SqliteQueryBuilder;
    let mut out = vec![build(w.update.build(SqliteQueryBuilder))];
    for q in &w.rest {
        out.push(build(match q {
            SubQueryStatement::InsertStatement(i) => i.build(SqliteQueryBuilder),
            SubQueryStatement::UpdateStatement(u) => u.build(SqliteQueryBuilder),
            other => {
                return Err(StoreError::Corrupt(format!(
                    "unexpected statement in a transition: {other:?}"
                )));
            }
        }));
    }
    out.extend(precedent(before, after, follow));
    Ok(out)
}
