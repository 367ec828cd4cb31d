//! Hearing back: e-mail through a real SMTP server and webhooks to a real
//! HTTP receiver (both `tests/node/inbox.mjs`, started here), the outbox's
//! guarantees under kill -9 and a receiver that is down, and sign-in by
//! e-mail link.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;

use crate::both;
use crate::support::*;
use crate::web::{Visitor, signed_in};

/// The SMTP server and webhook receiver of one test.
pub struct Inbox {
    pub smtp_port: u16,
    pub http_port: u16,
    file: std::path::PathBuf,
    _dir: tempfile::TempDir,
    _child: tokio::process::Child,
}

impl Inbox {
    pub async fn start() -> Inbox {
        Self::start_with(free_port).await
    }

    /// On a given SMTP port (a test that restarts the receiver).
    pub async fn start_on(smtp_port: u16) -> Inbox {
        Self::start_with(|| smtp_port).await
    }

    /// A free port can be taken by another test between our asking and
    /// node's listening on it: then node exits without saying "ready",
    /// and the inbox is started again on other ports.
    async fn start_with(smtp_port: impl Fn() -> u16) -> Inbox {
        for _ in 0..5 {
            if let Some(inbox) = Self::try_start(smtp_port(), free_port()).await {
                return inbox;
            }
        }
        panic!("the inbox did not start in five tries");
    }

    async fn try_start(smtp_port: u16, http_port: u16) -> Option<Inbox> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("inbox.jsonl");
        std::fs::write(&file, "").unwrap();
        let mut child = tokio::process::Command::new("node")
            .arg("inbox.mjs")
            .arg(smtp_port.to_string())
            .arg(http_port.to_string())
            .arg(&file)
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node"))
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node is needed for the end-to-end tests");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the inbox starts or exits")
            .unwrap();
        (first.as_deref() == Some("ready")).then_some(Inbox {
            smtp_port,
            http_port,
            file,
            _dir: dir,
            _child: child,
        })
    }

    pub fn smtp_url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.smtp_port)
    }

    pub fn hook_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    pub fn all(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.file)
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub fn mails(&self) -> Vec<Value> {
        self.all()
            .into_iter()
            .filter(|v| v["type"] == "mail")
            .collect()
    }

    pub fn hooks(&self) -> Vec<Value> {
        self.all()
            .into_iter()
            .filter(|v| v["type"] == "hook")
            .collect()
    }

    /// Waits (up to 30 s) until `done` holds for what arrived.
    pub async fn wait(&self, what: &str, done: impl Fn(&Inbox) -> bool) {
        let end = Instant::now() + Duration::from_secs(30);
        while !done(self) {
            assert!(
                Instant::now() < end,
                "waited 30 s for {what}; got {:#?}",
                self.all()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn control(&self, body: Value) {
        reqwest::Client::new()
            .post(self.hook_url("/control"))
            .json(&body)
            .send()
            .await
            .unwrap();
    }
}

/// Starts the outbox worker of `engine`, sending to `inbox`.
fn worker(
    engine: &doorbraak_engine::Engine,
    base: &str,
    inbox: &Inbox,
) -> tokio::task::JoinHandle<()> {
    let sender = doorbraak_server::Sender::new(&doorbraak_server::OutboundConfig {
        smtp_url: Some(inbox.smtp_url()),
        mail_from: "Doorbraak <doorbraak@test.example>".into(),
        allow_private: true,
    })
    .unwrap();
    doorbraak_server::spawn_outbox_worker(
        engine.clone(),
        Arc::new(sender),
        doorbraak_engine::NotifyConfig {
            allow_private: true,
            ..doorbraak_engine::NotifyConfig::new(base)
        },
    )
}

fn with_webhooks() -> doorbraak_server::AppOptions {
    doorbraak_server::AppOptions {
        allow_private_webhooks: true,
        ..TestApp::relaxed()
    }
}

/// A user with an e-mail address; returns the token.
async fn person(
    app: &TestApp,
    name: &str,
    role: &str,
    areas: &[&str],
    ministry: Option<&str>,
    email: &str,
) -> String {
    let d = app
        .ok(
            &app.admin,
            "mutation($i: CreateUserInput!) { createUser(input: $i) { token } }",
            json!({ "i": { "name": name, "role": role, "areas": areas, "ministry": ministry, "email": email } }),
        )
        .await;
    d["createUser"]["token"].as_str().unwrap().to_owned()
}

async fn subscribe(
    app: &TestApp,
    url: &str,
    areas: &[&str],
    ministries: &[&str],
) -> (String, String) {
    let d = app
        .ok(
            &app.admin,
            "mutation($i: WebhookSubscriptionInput!) { createWebhookSubscription(input: $i) { id secret active } }",
            json!({ "i": { "callbackUrl": url, "focusAreas": areas, "ministries": ministries } }),
        )
        .await;
    let s = &d["createWebhookSubscription"];
    (
        s["id"].as_str().unwrap().to_owned(),
        s["secret"].as_str().unwrap().to_owned(),
    )
}

fn to(mails: &[Value], address: &str) -> Vec<String> {
    mails
        .iter()
        .filter(|m| m["to"].as_str().is_some_and(|t| t.contains(address)))
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect()
}

const DESCRIPTION: &str =
    "Ouders mogen niet om beurten op elkaars peuters passen terwijl de anderen taalles volgen.";

/// A case climbs the whole ladder: the submitter hears every step, every
/// handler hears when it enters their queue and when an answer arrives;
/// every link opens the case page; no message holds the description. The
/// subscription for the area gets every event, signed; the one for
/// another area gets none. Two workers on one database send every message
/// once.
async fn a_climb_tells_everyone(db: Db) {
    let app = TestApp::spawn_with(db, with_webhooks()).await;
    let inbox = Inbox::start().await;
    let prof = person(
        &app,
        "Petra",
        "PROFESSIONAL",
        &["ZDO"],
        None,
        "petra@jeugd.example",
    )
    .await;
    let pb = person(
        &app,
        "Bram",
        "PROGRAMME_BUREAU",
        &["ZDO"],
        None,
        "bram@zaanstad.example",
    )
    .await;
    let _pb2 = person(
        &app,
        "Bea",
        "PROGRAMME_BUREAU",
        &["RTZ"],
        None,
        "bea@rotterdam.example",
    )
    .await;
    let secretary = person(
        &app,
        "Sanne",
        "ALLIANCE_SECRETARY",
        &["ZDO"],
        None,
        "sanne@zaanstad.example",
    )
    .await;
    let rep = person(
        &app,
        "Rik",
        "NATIONAL_REPRESENTATIVE",
        &["ZDO"],
        Some("SZW"),
        "rik@szw.example",
    )
    .await;
    let secretariat = person(
        &app,
        "Dewi",
        "BREAKTHROUGH_SECRETARIAT",
        &[],
        None,
        "dewi@bzk.example",
    )
    .await;
    let (_, secret) = subscribe(&app, &inbox.hook_url("/zdo"), &["ZDO"], &[]).await;
    subscribe(&app, &inbox.hook_url("/rtz"), &["RTZ"], &[]).await;
    // Neither other ministries nor the right area with the wrong ministry
    // match.
    subscribe(&app, &inbox.hook_url("/other"), &[], &["BZK", "OCW"]).await;
    subscribe(&app, &inbox.hook_url("/other"), &["ZDO"], &["OCW"]).await;
    inbox.control(json!({ "secret": secret })).await;
    let _w1 = worker(&app.engine, &app.base, &inbox);
    let second = open_engine(&app.db_url, app.clock.clone()).await;
    let _w2 = worker(&second, &app.base, &inbox);

    let case = app
        .submit(&prof, "Bijverdienen telt mee als gezinsinkomen")
        .await;
    let id = case["id"].as_str().unwrap().to_owned();
    let case = app.act(&pb, "pickUpCase", &case, "").await;
    let case = app
        .act(
            &pb,
            "requestInformation",
            &case,
            r#"question: "Hoe oud is de jongere?""#,
        )
        .await;
    let case = app
        .act(
            &prof,
            "provideInformation",
            &case,
            r#"answer: "Zestien jaar.""#,
        )
        .await;
    let case = app
        .act(
            &pb,
            "escalateCase",
            &case,
            r#"motivation: "Naar de alliantie.""#,
        )
        .await;
    let case = app
        .act(
            &secretary,
            "escalateCase",
            &case,
            r#"motivation: "Naar het Rijk.""#,
        )
        .await;
    let case = app.act(&rep, "pickUpCase", &case, "").await;
    let case = app
        .act(
            &rep,
            "escalateCase",
            &case,
            r#"motivation: "Naar het doorbraakoverleg.""#,
        )
        .await;
    app.act(
        &secretariat,
        "resolveCase",
        &case,
        r#"input: { outcome: STRUCTURAL_BREAKTHROUGH, explanation: "De regel verandert voor iedereen.", effectiveFrom: "2026-09-01" }"#,
    )
    .await;

    inbox
        .wait("11 messages and 9 deliveries", |i| {
            i.mails().len() >= 11 && i.hooks().len() >= 9
        })
        .await;
    // Let any duplicate arrive before counting.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mails = inbox.mails();
    let petra = to(&mails, "petra@");
    assert_eq!(petra.len(), 6, "{petra:#?}");
    for s in [
        "is ontvangen",
        "Vraag over uw zaak",
        "nu bij de alliantie",
        "nu bij de rijksvertegenwoordiger",
        "nu bij het doorbraakoverleg",
        "Besluit over uw zaak",
    ] {
        assert_eq!(
            petra.iter().filter(|x| x.contains(s)).count(),
            1,
            "{s} in {petra:#?}"
        );
    }
    let bram = to(&mails, "bram@");
    assert_eq!(bram.len(), 2, "new in the queue, and the answer: {bram:#?}");
    assert!(
        bram.iter()
            .any(|s| s.contains("Nieuwe zaak in uw wachtrij"))
            && bram.iter().any(|s| s.contains("Antwoord ontvangen"))
    );
    assert!(
        to(&mails, "bea@").is_empty(),
        "another area's bureau hears nothing"
    );
    for who in ["sanne@", "rik@", "dewi@"] {
        let got = to(&mails, who);
        assert_eq!(got.len(), 1, "{who}: {got:#?}");
        assert!(
            got[0].contains("Nieuwe zaak in uw wachtrij"),
            "{who}: {got:?}"
        );
    }
    assert_eq!(mails.len(), 11, "each message exactly once: {mails:#?}");
    let link = format!("{}/zaken/{id}", app.base);
    for m in &mails {
        let text = m["text"].as_str().unwrap();
        assert!(text.contains(&link), "{text}");
        assert!(
            !text.contains(DESCRIPTION) && !text.contains("elkaars peuters"),
            "no description: {text}"
        );
    }
    let decision = mails
        .iter()
        .find(|m| m["subject"].as_str().unwrap().contains("Besluit"))
        .unwrap();
    assert!(
        decision["text"]
            .as_str()
            .unwrap()
            .contains("De regel verandert voor iedereen.")
    );
    // The link opens the case page for the submitter.
    let mut v = signed_in(&app, &prof).await;
    let page = v.get(link.trim_start_matches(&app.base)).await;
    assert_eq!(page.status, 200);

    let hooks = inbox.hooks();
    assert!(
        hooks.iter().all(|h| h["path"] == "/zdo"),
        "the RTZ and other ministries' subscriptions get nothing: {hooks:#?}"
    );
    assert!(
        hooks.iter().all(|h| h["verified"] == true),
        "every signature checks out: {hooks:#?}"
    );
    // Two workers send in parallel, so the order of arrival is not the
    // order of the events (receivers order by `aanmaakdatum`).
    let mut actions: Vec<&str> = hooks
        .iter()
        .map(|h| h["body"]["actie"].as_str().unwrap())
        .collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "ESCALATE",
            "ESCALATE",
            "ESCALATE",
            "PICK_UP",
            "PICK_UP",
            "PROVIDE_INFORMATION",
            "REQUEST_INFORMATION",
            "RESOLVE",
            "SUBMIT"
        ],
        "every event, once"
    );
    let last = &hooks
        .iter()
        .find(|h| h["body"]["actie"] == "RESOLVE")
        .unwrap()["body"];
    assert_eq!(last["kanaal"], "zaken");
    assert_eq!(last["resource"], "zaak");
    assert_eq!(last["hoofdObject"], json!(link));
    assert_eq!(last["kenmerken"]["state"], "RESOLVED");
    assert_eq!(last["kenmerken"]["owningMinistry"], "SZW");
    assert_eq!(last["kenmerken"]["focusArea"], "ZDO");
    let log = app
        .ok(&app.admin, "{ webhookSubscriptions { callbackUrl secret active deliveries(first: 50) { caseReference action attempts deliveredAt lastStatus } } }", json!({}))
        .await;
    let zdo = &log["webhookSubscriptions"][0];
    assert_eq!(zdo["secret"], Value::Null, "the secret is shown once only");
    assert_eq!(zdo["deliveries"].as_array().unwrap().len(), 9);
    assert!(
        zdo["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["lastStatus"] == 204 && d["attempts"] == 1 && !d["deliveredAt"].is_null())
    );
}

/// A receiver that is down: deliveries are retried with back-off, with
/// the same `webhook-id`, and arrive once it is back; `410 Gone` turns the
/// subscription off.
async fn deliveries_wait_for_a_receiver_that_is_down(db: Db) {
    let app = TestApp::spawn_with(db, with_webhooks()).await;
    let inbox = Inbox::start().await;
    let c = cast(&app).await;
    let (sub, secret) = subscribe(&app, &inbox.hook_url("/hook"), &[], &["SZW"]).await;
    inbox
        .control(json!({ "secret": secret, "status": 503 }))
        .await;
    let _w = worker(&app.engine, &app.base, &inbox);
    let case = app
        .submit(&c.prof, "Bijverdienen telt mee als gezinsinkomen")
        .await;
    app.act(&c.pb, "pickUpCase", &case, "").await;
    inbox
        .wait("two refused attempts", |i| i.hooks().len() >= 2)
        .await;
    // Down for a while: time passes, attempts keep failing.
    for _ in 0..4 {
        app.clock.advance(chrono::TimeDelta::hours(1));
        tokio::time::sleep(Duration::from_millis(1300)).await;
    }
    let failed = inbox.hooks().len();
    assert!(failed >= 6, "retried while down: {failed}");
    inbox.control(json!({ "status": 204 })).await;
    app.clock.advance(chrono::TimeDelta::hours(3));
    inbox
        .wait("both delivered", |i| {
            i.hooks().iter().filter(|h| h["answered"] == 204).count() >= 2
        })
        .await;
    let hooks = inbox.hooks();
    let ok: Vec<&Value> = hooks.iter().filter(|h| h["answered"] == 204).collect();
    assert_eq!(ok.len(), 2, "{hooks:#?}");
    for h in &ok {
        let id = h["id"].as_str().unwrap();
        assert!(
            hooks.iter().filter(|x| x["id"] == id).count() >= 2,
            "retries carry the same webhook-id"
        );
        assert_eq!(h["verified"], true);
    }
    let log = app
        .ok(
            &app.admin,
            "{ webhookSubscriptions { deliveries { action attempts deliveredAt lastStatus } } }",
            json!({}),
        )
        .await;
    let d = log["webhookSubscriptions"][0]["deliveries"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        d.iter()
            .all(|x| x["attempts"].as_i64().unwrap() >= 3 && x["lastStatus"] == 204),
        "{d:#?}"
    );

    // 410 Gone: the subscription is turned off, and no more is sent.
    inbox.control(json!({ "status": 410 })).await;
    let case2 = app
        .submit(&c.prof, "Een tweede zaak over dezelfde regel")
        .await;
    inbox
        .wait("the 410", |i| {
            i.hooks().iter().any(|h| h["answered"] == 410)
        })
        .await;
    let subs = app
        .ok(&app.admin, "{ webhookSubscriptions { active } }", json!({}))
        .await;
    let end = Instant::now() + Duration::from_secs(10);
    let mut active = subs["webhookSubscriptions"][0]["active"].clone();
    while active == true && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(100)).await;
        active = app
            .ok(&app.admin, "{ webhookSubscriptions { active } }", json!({}))
            .await["webhookSubscriptions"][0]["active"]
            .clone();
    }
    assert_eq!(active, false);
    let before = inbox.hooks().len();
    app.act(&c.pb, "pickUpCase", &case2, "").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        inbox.hooks().len(),
        before,
        "nothing goes to a disabled subscription"
    );
    let again = app
        .ok(
            &app.admin,
            "mutation($id: ID!) { activateWebhookSubscription(id: $id) { active } }",
            json!({ "id": sub }),
        )
        .await;
    assert_eq!(again["activateWebhookSubscription"]["active"], true);
}

/// Callbacks to loopback and private addresses are refused unless allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_callbacks_are_refused() {
    let app = TestApp::spawn(Db::Sqlite).await;
    for url in [
        "http://127.0.0.1:9/x",
        "http://localhost/",
        "http://10.0.0.7/",
        "http://[::1]:8080/",
        "http://169.254.169.254/latest/meta-data",
    ] {
        let (code, e) = app
            .err(Some(&app.admin), "mutation($i: WebhookSubscriptionInput!) { createWebhookSubscription(input: $i) { id } }", json!({ "i": { "callbackUrl": url } }))
            .await;
        assert_eq!(code, "VALIDATION", "{url}: {e}");
        assert_eq!(e["extensions"]["field"], "input.callbackUrl");
    }
    let c = cast(&app).await;
    let (code, _) = app
        .err(Some(&c.pb), "mutation { createWebhookSubscription(input: { callbackUrl: \"https://zaken.example.nl/hook\" }) { id } }", json!({}))
        .await;
    assert_eq!(code, "FORBIDDEN");
}

/// A redirect is not followed: the delivery counts as failed (and is
/// retried), and nothing reaches where it points.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_not_followed() {
    let app = TestApp::spawn_with(Db::Sqlite, with_webhooks()).await;
    let inbox = Inbox::start().await;
    let c = cast(&app).await;
    let (_, secret) = subscribe(&app, &inbox.hook_url("/hook"), &[], &[]).await;
    inbox
        .control(json!({ "secret": secret, "status": 307 }))
        .await;
    let _w = worker(&app.engine, &app.base, &inbox);
    app.submit(&c.prof, "Bijverdienen telt mee als gezinsinkomen")
        .await;
    inbox
        .wait("the redirecting answer", |i| !i.hooks().is_empty())
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        inbox.hooks().iter().all(|h| h["path"] == "/hook"),
        "{:#?}",
        inbox.hooks()
    );
    let log = app
        .ok(
            &app.admin,
            "{ webhookSubscriptions { deliveries { deliveredAt lastStatus lastError } } }",
            json!({}),
        )
        .await;
    let d = &log["webhookSubscriptions"][0]["deliveries"][0];
    assert_eq!(d["lastStatus"], 307, "{d}");
    assert_eq!(d["deliveredAt"], Value::Null);
}

/// On SQLite the transitions' writer leaves the webhooks' statement out
/// while it finds no subscription active. A subscription made after it
/// last looked still hears the very next move, and only what came after
/// it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_subscription_hears_the_next_move() {
    let app = TestApp::spawn_with(Db::Sqlite, with_webhooks()).await;
    let inbox = Inbox::start().await;
    let c = cast(&app).await;
    let case = app
        .submit(&c.prof, "Bijverdienen telt mee als gezinsinkomen")
        .await;
    // Moves with no subscription anywhere: the writer looks and finds none.
    let case = app.act(&c.pb, "pickUpCase", &case, "").await;
    let case = app.act(&c.pb, "releaseCase", &case, "").await;
    let (_, secret) = subscribe(&app, &inbox.hook_url("/hook"), &["ZDO"], &[]).await;
    inbox.control(json!({ "secret": secret })).await;
    app.act(&c.pb, "pickUpCase", &case, "").await;
    let _w = worker(&app.engine, &app.base, &inbox);
    inbox
        .wait("the pick-up after the subscription", |i| {
            !i.hooks().is_empty()
        })
        .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let hooks = inbox.hooks();
    let actions: Vec<&str> = hooks
        .iter()
        .map(|h| h["body"]["actie"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["PICK_UP"], "{hooks:#?}");
}

/// The sign-in link: sent only to a known address (and the answer is the
/// same for an unknown one); opening it signs nobody in and uses nothing;
/// its button signs in once; after 15 minutes it no longer works.
async fn the_sign_in_link_works_once(db: Db) {
    let app = TestApp::spawn(db).await;
    let inbox = Inbox::start().await;
    person(
        &app,
        "Petra",
        "PROFESSIONAL",
        &["ZDO"],
        None,
        "petra@jeugd.example",
    )
    .await;
    let _w = worker(&app.engine, &app.base, &inbox);
    let mut v = Visitor::new(&app);
    let csrf = v.get("/inloggen").await.csrf();
    let unknown = v
        .post(
            "/inloggen",
            &[("csrf", &csrf), ("email", "niemand@nergens.example")],
        )
        .await;
    let known = v
        .post(
            "/inloggen",
            &[("csrf", &csrf), ("email", "Petra@Jeugd.example")],
        )
        .await;
    assert_eq!(unknown.status, known.status);
    assert_eq!(
        unknown.text_of("main"),
        known.text_of("main"),
        "no answer reveals whether an address is known"
    );
    inbox.wait("the link", |i| !i.mails().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails = inbox.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let text = mails[0]["text"].as_str().unwrap();
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/inloggen/link?code="))
        .unwrap();
    let path = link.trim_start_matches(&app.base).to_owned();
    // A mail scanner opens it twice: nobody is signed in, nothing is used.
    for _ in 0..2 {
        let mut scanner = Visitor::new(&app);
        let p = scanner.get(&path).await;
        assert_eq!(p.status, 200);
        assert!(!scanner.cookies.contains_key("doorbraak_sessie"));
        assert!(p.has("form[action='/inloggen/link'] button"));
    }
    let mut person_v = Visitor::new(&app);
    let page = person_v.get(&path).await;
    let csrf = page.csrf();
    let code = page
        .one("input[name=code]")
        .value()
        .attr("value")
        .unwrap()
        .to_owned();
    let ok = person_v
        .post("/inloggen/link", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    assert!(person_v.cookies.contains_key("doorbraak_sessie"));
    assert_eq!(person_v.get("/").await.status, 200);
    let mut other = Visitor::new(&app);
    let csrf = other.get("/inloggen").await.csrf();
    let twice = other
        .post("/inloggen/link", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(twice.status, 410, "a link works once");
    assert_eq!(other.get(&path).await.status, 410);

    // A second link, 16 minutes later, no longer works.
    let csrf = v.get("/inloggen").await.csrf();
    v.post(
        "/inloggen",
        &[("csrf", &csrf), ("email", "petra@jeugd.example")],
    )
    .await;
    inbox
        .wait("the second link", |i| i.mails().len() >= 2)
        .await;
    let text = inbox.mails()[1]["text"].as_str().unwrap().to_owned();
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/inloggen/link?code="))
        .unwrap();
    let path = link.trim_start_matches(&app.base).to_owned();
    app.clock.advance(chrono::TimeDelta::minutes(16));
    let mut late = Visitor::new(&app);
    let p = late.get(&path).await;
    assert_eq!(p.status, 410);
    let csrf = late.get("/inloggen").await.csrf();
    let code = path.split("code=").nth(1).unwrap();
    let r = late
        .post("/inloggen/link", &[("csrf", &csrf), ("code", code)])
        .await;
    assert_eq!(r.status, 410);
    // The link's secret is not kept once sent.
    let stored: Vec<String> = match db {
        Db::Sqlite => {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&app.db_url).await.unwrap();
            sqlx::query_scalar("SELECT payload FROM outbox")
                .fetch_all(&mut c)
                .await
                .unwrap()
        }
        Db::Postgres => {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&app.db_url).await.unwrap();
            sqlx::query_scalar("SELECT payload FROM outbox")
                .fetch_all(&mut c)
                .await
                .unwrap()
        }
    };
    assert!(stored.iter().all(|p| !p.contains(code)), "{stored:?}");
}

/// Only essential messages reach someone who turned the rest off.
async fn essential_messages_always_arrive(db: Db) {
    let app = TestApp::spawn(db).await;
    let inbox = Inbox::start().await;
    let prof = person(
        &app,
        "Petra",
        "PROFESSIONAL",
        &["ZDO"],
        None,
        "petra@jeugd.example",
    )
    .await;
    let pb = person(
        &app,
        "Bram",
        "PROGRAMME_BUREAU",
        &["ZDO"],
        None,
        "bram@zaanstad.example",
    )
    .await;
    let mut v = signed_in(&app, &prof).await;
    let csrf = v.csrf().await;
    let r = v
        .post("/mijn-gegevens", &[("csrf", &csrf), ("berichten", "nodig")])
        .await;
    assert_eq!(r.status, 303);
    assert!(
        v.get("/mijn-gegevens")
            .await
            .has("#berichten-nodig[checked]")
    );
    let _w = worker(&app.engine, &app.base, &inbox);
    let case = app
        .submit(&prof, "Bijverdienen telt mee als gezinsinkomen")
        .await;
    let case = app.act(&pb, "pickUpCase", &case, "").await;
    let case = app
        .act(&pb, "requestInformation", &case, r#"question: "Hoe oud?""#)
        .await;
    let case = app
        .act(&prof, "provideInformation", &case, r#"answer: "Zestien.""#)
        .await;
    let case = app
        .act(
            &pb,
            "escalateCase",
            &case,
            r#"motivation: "Naar de alliantie.""#,
        )
        .await;
    let _ = case;
    inbox
        .wait("the question and bram's two", |i| i.mails().len() >= 3)
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let petra = to(&inbox.mails(), "petra@");
    assert_eq!(
        petra.len(),
        1,
        "no receipt and no move, only the question: {petra:#?}"
    );
    assert!(petra[0].contains("Vraag over uw zaak"));
}

/// Reminders two days before a deadline and the weekly digest, each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_and_digests_are_sent_once() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let inbox = Inbox::start().await;
    let prof = person(
        &app,
        "Petra",
        "PROFESSIONAL",
        &["ZDO"],
        None,
        "petra@jeugd.example",
    )
    .await;
    person(
        &app,
        "Bram",
        "PROGRAMME_BUREAU",
        &["ZDO"],
        None,
        "bram@zaanstad.example",
    )
    .await;
    person(
        &app,
        "Dewi",
        "BREAKTHROUGH_SECRETARIAT",
        &[],
        None,
        "dewi@bzk.example",
    )
    .await;
    app.submit(&prof, "Bijverdienen telt mee als gezinsinkomen")
        .await;
    let norm = app.engine.policy().norm_days[0];
    app.advance_days(norm - 1);
    app.engine.schedule_messages().await.unwrap();
    app.engine.schedule_messages().await.unwrap();
    app.advance_days(3);
    app.engine.schedule_messages().await.unwrap();
    app.engine.schedule_messages().await.unwrap();
    let _w = worker(&app.engine, &app.base, &inbox);
    inbox
        .wait("receipt, queue, reminder, two digests", |i| {
            i.mails().len() >= 5
        })
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mails = inbox.mails();
    let bram = to(&mails, "bram@");
    assert_eq!(
        bram.iter()
            .filter(|s| s.contains("Over twee dagen"))
            .count(),
        1,
        "{bram:#?}"
    );
    assert_eq!(
        bram.iter().filter(|s| s.contains("Vastlopers")).count(),
        1,
        "{bram:#?}"
    );
    let dewi = to(&mails, "dewi@");
    assert_eq!(
        dewi.iter()
            .filter(|s| s.contains("Vastlopers") && s.contains("landelijk"))
            .count(),
        1,
        "{dewi:#?}"
    );
}

both!(
    a_climb_tells_everyone,
    deliveries_wait_for_a_receiver_that_is_down,
    the_sign_in_link_works_once,
    essential_messages_always_arrive,
);

/// kill -9 while messages wait (the mail server is down): after the
/// restart every message arrives. No e-mail address appears in the log;
/// without an SMTP server the start-up log says once that e-mail is off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let smtp_port = free_port();
    let smtp = format!("smtp://127.0.0.1:{smtp_port}");
    let env = [
        ("DOORBRAAK_SMTP_URL", smtp.as_str()),
        ("DOORBRAAK_OUTBOX_BACKOFF_SECONDS", "1"),
    ];
    let mut run = crate::cli::serve_env(dir.path(), "sqlite://doorbraak.db", &env);
    let admin = crate::cli::first_token(&mut run);
    let create = |name: &str, role: &str, areas: Vec<&str>, email: &str| {
        json!({ "query": "mutation($i: CreateUserInput!) { createUser(input: $i) { token } }",
                "variables": { "i": { "name": name, "role": role, "areas": areas, "email": email } } })
    };
    let post = |token: &str, body: Value| {
        let addr = run.addr.clone();
        let token = token.to_owned();
        async move {
            reqwest::Client::new()
                .post(format!("http://{addr}/graphql"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let prof = post(
        &admin,
        create("Petra", "PROFESSIONAL", vec!["ZDO"], "petra@jeugd.example"),
    )
    .await["data"]["createUser"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    post(
        &admin,
        create(
            "Bram",
            "PROGRAMME_BUREAU",
            vec!["ZDO"],
            "bram@zaanstad.example",
        ),
    )
    .await;
    for i in 0..3 {
        let mut vars = submit_vars(&format!("Zaak nummer {i} over bijverdienen"));
        vars["i"]["focusArea"] = json!("ZDO");
        let r = post(&prof, json!({ "query": "mutation($i: SubmitCaseInput!) { submitCase(input: $i) { id } }", "variables": vars })).await;
        assert!(r["errors"].is_null(), "{r}");
    }
    // Six messages wait: the mail server is down. Kill the server hard.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    run.child.kill().unwrap();
    run.child.wait().unwrap();
    let log1 = run.stderr.lock().unwrap().clone();
    let inbox = Inbox::start_on(smtp_port).await;
    let run2 = crate::cli::serve_env(dir.path(), "sqlite://doorbraak.db", &env);
    inbox.wait("six messages", |i| i.mails().len() >= 6).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mails = inbox.mails();
    assert_eq!(to(&mails, "petra@").len(), 3, "{mails:#?}");
    assert_eq!(to(&mails, "bram@").len(), 3, "{mails:#?}");
    let (_, _, log2) = crate::cli::stop(run2);
    for log in [&log1, &log2] {
        assert!(
            !log.contains("petra@") && !log.contains("bram@"),
            "an address in the log:\n{log}"
        );
    }
    assert!(
        log1.contains("sending a message failed"),
        "the first server tried and failed"
    );

    // Without an SMTP server: said once at start-up.
    let dir2 = tempfile::tempdir().unwrap();
    let run3 = crate::cli::serve(dir2.path(), "sqlite://doorbraak.db");
    let (_, _, log3) = crate::cli::stop(run3);
    assert_eq!(log3.matches("e-mail is off").count(), 1, "{log3}");
}
