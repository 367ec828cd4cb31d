//! Tests of migrations that rebuild a table on SQLite: the rows survive,
//! both ways.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::Store;

async fn one(store: &Store, sql: &str) -> Option<String> {
    store
        .write
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await
        .unwrap()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
}

async fn exec(store: &Store, sql: &str) {
    store.write.execute_unprepared(sql).await.unwrap();
}

/// Every event as `id:case:sequence:action:meeting`, by id.
async fn events(store: &Store) -> String {
    one(
        store,
        "SELECT COALESCE(group_concat(id || ':' || case_id || ':' || sequence || ':' || action \
         || ':' || COALESCE(meeting_id, '-'), ' '), '') \
         FROM (SELECT * FROM case_events ORDER BY id)",
    )
    .await
    .unwrap()
}

/// Inserts an event of case `case` (`id` none: the table picks it).
async fn insert_event(
    store: &Store,
    id: Option<i64>,
    case: i64,
    sequence: i64,
) -> Result<(), sea_orm::DbErr> {
    let id = id.map_or_else(|| "NULL".to_owned(), |i| i.to_string());
    store
        .write
        .execute_unprepared(&format!(
            "INSERT INTO case_events (id, case_id, sequence, action, to_state, actor_id, \
             actor_role, at, effect) VALUES ({id}, {case}, {sequence}, 'PICK_UP', \
             'AT_PROGRAMME_BUREAU', 1, 'PROGRAMME_BUREAU', 0, '{{}}')"
        ))
        .await
        .map(|_| ())
}

async fn event(store: &Store, id: Option<i64>, sequence: i64) {
    insert_event(store, id, 1, sequence).await.unwrap();
}

#[tokio::test]
async fn the_events_lose_autoincrement_and_keep_their_ids_both_ways() {
    use migration::{Migrator, MigratorTrait};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("e.db").display());
    let store = Store::connect(&url).await.unwrap();
    Migrator::up(&store.write, Some(10)).await.unwrap();
    let sql = "SELECT sql FROM sqlite_master WHERE name = 'case_events'";
    let before = one(&store, sql).await.unwrap();
    assert!(before.contains("AUTOINCREMENT"));
    exec(
        &store,
        "INSERT INTO users (id, name, role, token_hash, created_at) \
         VALUES (1, 'Bureau', 'PROGRAMME_BUREAU', 'x', 0)",
    )
    .await;
    exec(
        &store,
        "INSERT INTO cases (id, reference, title, description, focus_area, domains, \
         rule_citation, rule_scope, desired_action, urgency, submitted_by, created_at, state, \
         level, highest_level, version, updated_at) VALUES (1, 'ZDO-2026-0001', 't', 'd', \
         'ZDO', '[]', 'r', 'MUNICIPAL', 'a', 'NORMAL', 1, 0, 'AT_PROGRAMME_BUREAU', \
         'PROGRAMME_BUREAU', 'PROGRAMME_BUREAU', 1, 0)",
    )
    .await;
    // Ids with a gap; the highest one deleted again, as AUTOINCREMENT
    // remembers it.
    for (id, seq) in [(3, 1), (8, 2), (12, 3)] {
        event(&store, Some(id), seq).await;
    }
    exec(&store, "DELETE FROM case_events WHERE id = 12").await;
    exec(&store, "UPDATE case_events SET meeting_id = 4 WHERE id = 8").await;

    Migrator::up(&store.write, None).await.unwrap();
    // The same table to the character, but for the one word.
    let table = one(&store, sql).await.unwrap();
    assert_eq!(table, before.replace(" AUTOINCREMENT", ""));
    assert_eq!(events(&store).await, "3:1:1:PICK_UP:- 8:1:2:PICK_UP:4");
    let seq = "SELECT CAST(seq AS TEXT) FROM sqlite_sequence WHERE name = 'case_events'";
    assert_eq!(one(&store, seq).await, None);
    // The next id is one above the highest there is; the index still
    // refuses a sequence number twice, and the foreign keys still hold.
    event(&store, None, 3).await;
    assert_eq!(
        events(&store).await,
        "3:1:1:PICK_UP:- 8:1:2:PICK_UP:4 9:1:3:PICK_UP:-"
    );
    assert!(
        insert_event(&store, None, 1, 3).await.is_err(),
        "the (case, sequence) index is gone"
    );
    assert!(
        insert_event(&store, None, 77, 1).await.is_err(),
        "the foreign key to the cases is gone"
    );

    // And back to where migration 10 left it: AUTOINCREMENT again,
    // counting on from the highest id.
    let after_10 = (Migrator::migrations().len() - 10) as u32;
    Migrator::down(&store.write, Some(after_10)).await.unwrap();
    assert_eq!(one(&store, sql).await.unwrap(), before);
    assert_eq!(
        events(&store).await,
        "3:1:1:PICK_UP:- 8:1:2:PICK_UP:4 9:1:3:PICK_UP:-"
    );
    assert_eq!(one(&store, seq).await.as_deref(), Some("9"));
}
