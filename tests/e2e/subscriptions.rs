//! Subscriptions over graphql-transport-ws.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::both;
use crate::support::{Db, TestApp, cast};

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, token: &str) -> Ws {
    connect_to(&app.base, token).await
}

pub(crate) async fn connect_to(base: &str, token: &str) -> Ws {
    let mut req = format!("{}/graphql/ws", base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    ws.send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    ws
}

/// The next JSON message, or `None` when the socket closes (5 s at most).
pub(crate) async fn next(ws: &mut Ws) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 seconds")?;
        match msg.ok()? {
            Message::Text(t) => return Some(serde_json::from_str(&t).unwrap()),
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

/// Subscribes to `case`'s updates with `fields` on an acknowledged socket;
/// the first answer (the case as it is now).
async fn subscribe(ws: &mut Ws, case: &Value, fields: &str) -> Value {
    let query = format!("subscription($id: ID!) {{ caseUpdated(id: $id) {{ {fields} }} }}");
    let sub = json!({ "id": "1", "type": "subscribe", "payload": {
        "query": query, "variables": { "id": case["id"] } } });
    ws.send(Message::Text(sub.to_string().into()))
        .await
        .unwrap();
    next(ws).await.unwrap()
}

async fn a_subscriber_hears_every_change(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let case = app.submit(&c.prof, "Volgen wat er gebeurt").await;
    let mut ws = connect(&app, &c.prof).await;
    assert_eq!(next(&mut ws).await.unwrap()["type"], "connection_ack");
    let first = subscribe(&mut ws, &case, "state version assignee { name }").await;
    assert_eq!(
        first["payload"]["data"]["caseUpdated"]["version"], 1,
        "{first}"
    );
    let case = app.act(&c.pb, "pickUpCase", &case, "").await;
    let second = next(&mut ws).await.unwrap();
    assert_eq!(
        second["payload"]["data"]["caseUpdated"]["version"], 2,
        "{second}"
    );
    assert!(
        second["payload"]["data"]["caseUpdated"]["assignee"].is_null(),
        "the submitter sees the holder by role, not by name"
    );
    app.act(
        &c.pb,
        "escalateCase",
        &case,
        r#"motivation: "Naar de alliantie.""#,
    )
    .await;
    let third = next(&mut ws).await.unwrap();
    assert_eq!(
        third["payload"]["data"]["caseUpdated"]["state"],
        "AT_ALLIANCE"
    );

    // Someone else's case is not to be watched.
    let other = app.submit(&c.other_prof, "Niet van jou").await;
    let sub = json!({ "id": "2", "type": "subscribe", "payload": {
        "query": "subscription($id: ID!) { caseUpdated(id: $id) { state } }", "variables": { "id": other["id"] } } });
    ws.send(Message::Text(sub.to_string().into()))
        .await
        .unwrap();
    let refused = next(&mut ws).await.unwrap();
    assert_eq!(refused["id"], "2");
    let code = if refused["type"] == "error" {
        refused["payload"][0]["extensions"]["code"].clone()
    } else {
        refused["payload"]["errors"][0]["extensions"]["code"].clone()
    };
    assert_eq!(code, "NOT_FOUND", "{refused}");
}

async fn a_bad_token_cannot_subscribe(db: Db) {
    let app = TestApp::spawn(db).await;
    let mut ws = connect(&app, "dbk_wrong").await;
    let answer = next(&mut ws).await;
    assert!(
        answer
            .as_ref()
            .is_none_or(|a| a["type"] != "connection_ack"),
        "no ack for a bad token: {answer:?}"
    );
}

both!(
    a_subscriber_hears_every_change,
    a_bad_token_cannot_subscribe
);

/// Two instances on one PostgreSQL database: a subscriber on one hears of a
/// change made through the other (LISTEN/NOTIFY plus the events table).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_hears_changes_made_through_another_instance() {
    let app = TestApp::spawn(Db::Postgres).await;
    let c = cast(&app).await;
    let case = app.submit(&c.prof, "Twee servers, een database").await;
    let other = crate::support::open_engine(&app.db_url, app.clock.clone()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server =
        doorbraak_server::Server::start(listener, doorbraak_server::app(other, &app.options))
            .unwrap();
    let mut ws = connect_to(&format!("http://{}", server.addr), &c.prof).await;
    assert_eq!(next(&mut ws).await.unwrap()["type"], "connection_ack");
    let first = subscribe(&mut ws, &case, "state version").await;
    assert_eq!(first["payload"]["data"]["caseUpdated"]["version"], 1);
    // Acted on through the first instance.
    let case = app.act(&c.pb, "pickUpCase", &case, "").await;
    let heard = next(&mut ws).await.unwrap();
    assert_eq!(
        heard["payload"]["data"]["caseUpdated"]["version"], 2,
        "{heard}"
    );
    app.act(
        &c.pb,
        "escalateCase",
        &case,
        r#"motivation: "Naar de alliantie.""#,
    )
    .await;
    let heard = next(&mut ws).await.unwrap();
    assert_eq!(
        heard["payload"]["data"]["caseUpdated"]["state"], "AT_ALLIANCE",
        "{heard}"
    );
    drop(ws);
    server
        .stop(std::time::Duration::from_secs(5))
        .await
        .unwrap();
}

/// A change committed without its notification (an instance that died
/// between its commit and the notification it sends after it) still
/// reaches a subscriber: the change feed also reads on its own every
/// second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_without_its_notification_is_heard_by_the_next_sweep() {
    let app = TestApp::spawn(Db::Postgres).await;
    let c = cast(&app).await;
    let case = app.submit(&c.prof, "Een server die valt").await;
    let mut ws = connect(&app, &c.prof).await;
    assert_eq!(next(&mut ws).await.unwrap()["type"], "connection_ack");
    let first = subscribe(&mut ws, &case, "version").await;
    assert_eq!(first["payload"]["data"]["caseUpdated"]["version"], 1);
    // Written straight into the database: no NOTIFY is sent.
    let id: i64 = case["id"].as_str().unwrap().parse().unwrap();
    let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("UPDATE cases SET version = 2 WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO case_events (case_id, sequence, action, from_state, to_state, actor_id, \
         actor_role, note, at, effect) SELECT case_id, 2, 'PICK_UP', to_state, to_state, \
         actor_id, actor_role, NULL, at, '{}' FROM case_events WHERE case_id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    pool.close().await;
    let heard = next(&mut ws).await.unwrap();
    assert_eq!(
        heard["payload"]["data"]["caseUpdated"]["version"], 2,
        "{heard}"
    );
}
