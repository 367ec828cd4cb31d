//! The table "Who reads what" (DOMAIN.md), walked as a matrix: every role ×
//! every way to a case (by id, by reference, lists, three levels deep
//! through barriers and meetings, agenda documents, the CSV export, a
//! subscription, a mutation) × cases in and out of scope, in many states.
//!
//! The expected answers come from an oracle written here, from the table,
//! independently of the code under test. The test fails on anything read
//! or changed that the table does not allow, on anything it allows that is
//! missing, and on any difference between "out of scope" and "missing".

use std::collections::{BTreeMap, BTreeSet};

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::both;
use crate::support::{Db, TestApp, submit_vars};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Professional,
    Bureau,
    Secretary,
    Representative,
    Secretariat,
    Analyst,
    Admin,
}

struct Reader {
    label: &'static str,
    role: Role,
    token: String,
    id: String,
    areas: Vec<&'static str>,
    ministry: Option<&'static str>,
}

struct Probe {
    label: &'static str,
    id: String,
    reference: String,
    submitter: String,
    area: &'static str,
    reached_meeting: bool,
    /// The owning ministry of its barrier, if linked.
    barrier: Option<&'static str>,
}

struct World {
    readers: Vec<Reader>,
    cases: Vec<Probe>,
    /// barrier id → owning ministry
    barriers: BTreeMap<String, &'static str>,
    /// meeting id → (level, area)
    meetings: BTreeMap<String, (&'static str, Option<&'static str>)>,
}

// ------------------------------------------------------------ the oracle

fn full(r: &Reader, c: &Probe) -> bool {
    match r.role {
        Role::Admin => true,
        Role::Professional => c.submitter == r.id,
        Role::Bureau | Role::Secretary | Role::Representative => r.areas.contains(&c.area),
        Role::Secretariat => c.reached_meeting,
        Role::Analyst => false,
    }
}

fn summary(r: &Reader, c: &Probe) -> bool {
    let Some(ministry) = c.barrier else {
        return false;
    };
    full(r, c)
        || match r.role {
            Role::Admin
            | Role::Bureau
            | Role::Secretary
            | Role::Representative
            | Role::Secretariat => true,
            Role::Analyst => r.ministry == Some(ministry),
            Role::Professional => false,
        }
}

fn barrier(r: &Reader, w: &World, id: &str) -> bool {
    let ministry = w.barriers[id];
    match r.role {
        Role::Admin | Role::Bureau | Role::Secretary | Role::Representative | Role::Secretariat => {
            true
        }
        Role::Analyst => r.ministry == Some(ministry),
        Role::Professional => w.cases.iter().any(|c| {
            c.submitter == r.id && c.barrier == Some(ministry) && barrier_of(w, c) == Some(id)
        }),
    }
}

fn barrier_of<'a>(w: &'a World, c: &Probe) -> Option<&'a str> {
    // Each ministry has one barrier in this world.
    let m = c.barrier?;
    w.barriers
        .iter()
        .find(|(_, bm)| **bm == m)
        .map(|(id, _)| id.as_str())
}

fn meeting(r: &Reader, level: &str, area: Option<&str>) -> bool {
    match (r.role, level) {
        (Role::Admin, _) => true,
        (Role::Bureau | Role::Secretary | Role::Representative, "ALLIANCE") => {
            area.is_some_and(|a| r.areas.contains(&a))
        }
        (Role::Secretariat, "BREAKTHROUGH_MEETING") => true,
        _ => false,
    }
}

// ------------------------------------------------------------ the world

async fn me(app: &TestApp, token: &str) -> String {
    app.ok(token, "{ me { id } }", json!({})).await["me"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn reader(
    app: &TestApp,
    label: &'static str,
    role: Role,
    areas: &[&'static str],
    ministry: Option<&'static str>,
) -> Reader {
    let api_role = match role {
        Role::Professional => "PROFESSIONAL",
        Role::Bureau => "PROGRAMME_BUREAU",
        Role::Secretary => "ALLIANCE_SECRETARY",
        Role::Representative => "NATIONAL_REPRESENTATIVE",
        Role::Secretariat => "BREAKTHROUGH_SECRETARIAT",
        Role::Analyst => "MINISTRY_ANALYST",
        Role::Admin => "ADMINISTRATOR",
    };
    let token = if role == Role::Admin {
        app.admin.clone()
    } else {
        app.user(label, api_role, areas, ministry).await
    };
    Reader {
        label,
        role,
        id: me(app, &token).await,
        token,
        areas: areas.to_vec(),
        ministry,
    }
}

async fn submit(app: &TestApp, r: &Reader, area: &'static str, title: &str) -> Value {
    let mut vars = submit_vars(title);
    vars["i"]["focusArea"] = json!(area);
    app.ok(
        &r.token,
        "mutation($i: SubmitCaseInput!) { submitCase(input: $i) { id reference version } }",
        vars,
    )
    .await["submitCase"]
        .clone()
}

async fn link_new(app: &TestApp, by: &Reader, case: &Value, ministry: &str) -> (Value, String) {
    let d = app
        .ok(
            &by.token,
            "mutation($id: ID!, $v: Int!, $n: NewBarrierInput) { linkBarrier(id: $id, expectedVersion: $v, newBarrier: $n) { id version barrier { id } } }",
            json!({ "id": case["id"], "v": case["version"], "n": { "citation": format!("Regeling van {ministry} art. 3"), "scope": "NATIONAL", "owningMinistry": ministry } }),
        )
        .await["linkBarrier"]
        .clone();
    let b = d["barrier"]["id"].as_str().unwrap().to_owned();
    (d, b)
}

async fn link_to(app: &TestApp, by: &Reader, case: &Value, barrier: &str) -> Value {
    app.ok(
        &by.token,
        "mutation($id: ID!, $v: Int!, $b: ID) { linkBarrier(id: $id, expectedVersion: $v, barrierId: $b) { id version } }",
        json!({ "id": case["id"], "v": case["version"], "b": barrier }),
    )
    .await["linkBarrier"]
        .clone()
}

async fn schedule(app: &TestApp, by: &Reader, level: &str, area: Option<&str>) -> String {
    app.ok(
        &by.token,
        "mutation($l: Level!, $a: String, $t: DateTime!) { scheduleMeeting(level: $l, focusArea: $a, scheduledAt: $t) { id } }",
        json!({ "l": level, "a": area, "t": "2026-04-01T10:00:00Z" }),
    )
    .await["scheduleMeeting"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn probe(
    label: &'static str,
    c: &Value,
    by: &Reader,
    area: &'static str,
    reached: bool,
    barrier: Option<&'static str>,
) -> Probe {
    Probe {
        label,
        id: c["id"].as_str().unwrap().to_owned(),
        reference: c["reference"].as_str().unwrap().to_owned(),
        submitter: by.id.clone(),
        area,
        reached_meeting: reached,
        barrier,
    }
}

async fn world(app: &TestApp) -> World {
    let prof = reader(app, "Petra (ZDO)", Role::Professional, &["ZDO"], None).await;
    let other_prof = reader(app, "Otto (ZDO)", Role::Professional, &["ZDO"], None).await;
    let prof_rtz = reader(app, "Rosa (RTZ)", Role::Professional, &["RTZ"], None).await;
    let pb = reader(app, "Bureau ZDO", Role::Bureau, &["ZDO"], None).await;
    let pb_rtz = reader(app, "Bureau RTZ", Role::Bureau, &["RTZ"], None).await;
    let secretary = reader(app, "Secretaris ZDO", Role::Secretary, &["ZDO"], None).await;
    let secretary_rtz = reader(app, "Secretaris RTZ", Role::Secretary, &["RTZ"], None).await;
    let rep = reader(
        app,
        "Rijksvertegenwoordiger RTZ",
        Role::Representative,
        &["RTZ"],
        Some("SZW"),
    )
    .await;
    let rep_tnw = reader(
        app,
        "Rijksvertegenwoordiger TNW",
        Role::Representative,
        &["TNW"],
        Some("OCW"),
    )
    .await;
    let secretariat = reader(app, "Secretariaat", Role::Secretariat, &[], None).await;
    let analyst = reader(app, "Analist SZW", Role::Analyst, &[], Some("SZW")).await;
    let analyst_ocw = reader(app, "Analist OCW", Role::Analyst, &[], Some("OCW")).await;
    let admin = reader(app, "Beheerder", Role::Admin, &[], None).await;

    let m_zdo = schedule(app, &secretary, "ALLIANCE", Some("ZDO")).await;
    let m_rtz = schedule(app, &secretary_rtz, "ALLIANCE", Some("RTZ")).await;
    let m_nat = schedule(app, &secretariat, "BREAKTHROUGH_MEETING", None).await;

    // A: at the programme bureau, not linked.
    let a = submit(app, &prof, "ZDO", "Zaak A bij het programmabureau").await;
    // B: linked to barrier X (SZW), at the alliance, on its agenda.
    let b = submit(app, &prof, "ZDO", "Zaak B bij de alliantie").await;
    let (b1, x) = link_new(app, &pb, &b, "SZW").await;
    app.act(
        &pb.token,
        "escalateCase",
        &b1,
        r#"motivation: "Naar de alliantie.""#,
    )
    .await;
    // C: someone else's, linked to X, waiting for information.
    let c = submit(app, &other_prof, "ZDO", "Zaak C wacht op informatie").await;
    let c1 = link_to(app, &pb, &c, &x).await;
    app.act(
        &pb.token,
        "requestInformation",
        &c1,
        r#"question: "Welke school?""#,
    )
    .await;
    // D: Rotterdam, linked to X, up to the breakthrough meeting.
    let d = submit(app, &prof_rtz, "RTZ", "Zaak D in Den Haag").await;
    let d1 = link_to(app, &pb_rtz, &d, &x).await;
    let d2 = app
        .act(
            &pb_rtz.token,
            "escalateCase",
            &d1,
            r#"motivation: "Naar de alliantie.""#,
        )
        .await;
    let d3 = app
        .act(
            &secretary_rtz.token,
            "escalateCase",
            &d2,
            r#"motivation: "Naar het Rijk.""#,
        )
        .await;
    let d4 = app.act(&rep.token, "pickUpCase", &d3, "").await;
    app.act(
        &rep.token,
        "escalateCase",
        &d4,
        r#"motivation: "Interdepartementaal.""#,
    )
    .await;
    // E: resolved at the programme bureau, not linked.
    let e = submit(app, &prof, "ZDO", "Zaak E is opgelost").await;
    app.act(
        &pb.token,
        "resolveCase",
        &e,
        r#"input: { outcome: ALREADY_POSSIBLE, explanation: "Het mag al: lees artikel 4." }"#,
    )
    .await;
    // F: Rotterdam, linked to barrier Y (OCW), withdrawn.
    let f = submit(app, &prof_rtz, "RTZ", "Zaak F is ingetrokken").await;
    let (f1, y) = link_new(app, &pb_rtz, &f, "OCW").await;
    app.act(
        &prof_rtz.token,
        "withdrawCase",
        &f1,
        r#"reason: "Al opgelost.""#,
    )
    .await;

    let cases = vec![
        probe("A", &a, &prof, "ZDO", false, None),
        probe("B", &b, &prof, "ZDO", false, Some("SZW")),
        probe("C", &c, &other_prof, "ZDO", false, Some("SZW")),
        probe("D", &d, &prof_rtz, "RTZ", true, Some("SZW")),
        probe("E", &e, &prof, "ZDO", false, None),
        probe("F", &f, &prof_rtz, "RTZ", false, Some("OCW")),
    ];
    World {
        readers: vec![
            prof,
            other_prof,
            prof_rtz,
            pb,
            pb_rtz,
            secretary,
            secretary_rtz,
            rep,
            rep_tnw,
            secretariat,
            analyst,
            analyst_ocw,
            admin,
        ],
        cases,
        barriers: [(x, "SZW"), (y, "OCW")].into_iter().collect(),
        meetings: [
            (m_zdo, ("ALLIANCE", Some("ZDO"))),
            (m_rtz, ("ALLIANCE", Some("RTZ"))),
            (m_nat, ("BREAKTHROUGH_MEETING", None)),
        ]
        .into_iter()
        .collect(),
    }
}

// ------------------------------------------------------------ the walk

/// A case three levels deep through everything that leads on from it.
const DEEP: &str = "id reference description \
    assignee { name } events { actor { id name } } \
    mergedInto { id description } \
    barrier { id citation cases { id reference } areas { code } } \
    nextMeeting { id agenda { case { id description barrier { cases { id } } } } decisions { case { id description } } } \
    meetings { meeting { id agenda { case { id description } } } }";

/// Every id found at `"case": {"id": …}` / `"mergedInto"` (full cases) and
/// under `"cases": [...]` of a barrier (summaries).
fn collect(
    v: &Value,
    key: Option<&str>,
    full_ids: &mut BTreeSet<String>,
    summaries: &mut BTreeSet<String>,
) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(id)) = m.get("id") {
                match key {
                    Some("case" | "mergedInto") => {
                        full_ids.insert(id.clone());
                    }
                    Some("cases") => {
                        summaries.insert(id.clone());
                    }
                    _ => {}
                }
            }
            for (k, x) in m {
                collect(x, Some(k), full_ids, summaries);
            }
        }
        Value::Array(items) => {
            for x in items {
                collect(x, key, full_ids, summaries);
            }
        }
        _ => {}
    }
}

fn ids(w: &World, f: impl Fn(&Probe) -> bool) -> BTreeSet<String> {
    w.cases
        .iter()
        .filter(|c| f(c))
        .map(|c| c.id.clone())
        .collect()
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn first_subscription_message(app: &TestApp, token: &str, id: &str) -> Value {
    let mut ws = crate::subscriptions::connect_to(&app.base, token).await;
    assert_eq!(
        crate::subscriptions::next(&mut ws).await.unwrap()["type"],
        "connection_ack"
    );
    let sub = json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($id: ID!) { caseUpdated(id: $id) { id description } }",
        "variables": { "id": id } } });
    ws.send(Message::Text(sub.to_string().into()))
        .await
        .unwrap();
    let m = crate::subscriptions::next(&mut ws).await.unwrap();
    let _ = ws.close(None).await;
    m
}

async fn walk(app: &TestApp, w: &World, r: &Reader) {
    let who = r.label;
    let missing_case = app
        .ok(
            &r.token,
            &format!("{{ case(id: \"999999\") {{ {DEEP} }} }}"),
            json!({}),
        )
        .await;
    let mut seen_full = BTreeSet::new();
    let mut seen_summary = BTreeSet::new();
    for c in &w.cases {
        let allowed = full(r, c);
        for arg in [
            format!("id: \"{}\"", c.id),
            format!("reference: \"{}\"", c.reference),
        ] {
            let d = app
                .ok(
                    &r.token,
                    &format!("{{ case({arg}) {{ {DEEP} }} }}"),
                    json!({}),
                )
                .await;
            if allowed {
                assert_eq!(
                    d["case"]["id"],
                    c.id.as_str(),
                    "{who} reads case {} in full",
                    c.label
                );
                assert!(d["case"]["description"].as_str().unwrap().len() > 10);
                collect(&d, None, &mut seen_full, &mut seen_summary);
                if r.role == Role::Professional {
                    assert!(d["case"]["assignee"].is_null(), "{who}: no handler names");
                    for e in d["case"]["events"].as_array().unwrap() {
                        assert!(
                            e["actor"].is_null() || e["actor"]["id"] == r.id.as_str(),
                            "{who}: {e}"
                        );
                    }
                }
            } else {
                assert_eq!(
                    d, missing_case,
                    "{who}: case {} out of scope must read as missing",
                    c.label
                );
            }
        }
    }
    // Whatever the deep paths showed is allowed, and a full case seen on
    // the way is one the reader may read in full.
    let may_full = ids(w, |c| full(r, c));
    let may_summary = ids(w, |c| summary(r, c));
    assert!(
        seen_full.is_subset(&may_full),
        "{who} saw cases in full: {seen_full:?}, may: {may_full:?}"
    );
    assert!(
        seen_summary.is_subset(&may_summary),
        "{who} saw summaries {seen_summary:?}, may: {may_summary:?}"
    );

    // The list.
    let d = app
        .ok(
            &r.token,
            "{ cases(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let listed: BTreeSet<String> = d["cases"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, may_full, "{who}: the list");

    // The register: which barriers, and which of their cases.
    let d = app
        .ok(
            &r.token,
            "{ barriers(first: 100) { edges { node { id cases { id } areas { code } } } } }",
            json!({}),
        )
        .await;
    let mut listed_b = BTreeSet::new();
    for e in d["barriers"]["edges"].as_array().unwrap() {
        let id = e["node"]["id"].as_str().unwrap().to_owned();
        let shown: BTreeSet<String> = e["node"]["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        let want = ids(w, |c| {
            summary(r, c) && barrier_of(w, c) == Some(id.as_str())
        });
        assert_eq!(shown, want, "{who}: cases of barrier {id}");
        let areas: BTreeSet<String> = e["node"]["areas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["code"].as_str().unwrap().to_owned())
            .collect();
        let want_areas: BTreeSet<String> = w
            .cases
            .iter()
            .filter(|c| want.contains(&c.id))
            .map(|c| c.area.to_owned())
            .collect();
        assert_eq!(areas, want_areas, "{who}: areas of barrier {id}");
        listed_b.insert(id);
    }
    let want_b: BTreeSet<String> = w
        .barriers
        .keys()
        .filter(|b| barrier(r, w, b))
        .cloned()
        .collect();
    assert_eq!(listed_b, want_b, "{who}: the register");
    let missing_b = app
        .ok(
            &r.token,
            "{ barrier(id: \"999999\") { id cases { id } } }",
            json!({}),
        )
        .await;
    for b in w.barriers.keys() {
        let d = app
            .ok(
                &r.token,
                &format!("{{ barrier(id: \"{b}\") {{ id cases {{ id }} }} }}"),
                json!({}),
            )
            .await;
        if barrier(r, w, b) {
            assert_eq!(d["barrier"]["id"], b.as_str(), "{who}: barrier {b}");
        } else {
            assert_eq!(d, missing_b, "{who}: barrier {b} reads as missing");
        }
    }

    // Meetings: lists, one by one, and their agenda documents.
    let missing_m = app
        .ok(
            &r.token,
            "{ meeting(id: \"999999\") { id agenda { case { id } } } }",
            json!({}),
        )
        .await;
    let (missing_doc_status, missing_doc) = get(app, &r.token, "/meetings/999999/agenda.md").await;
    for (level, area) in [
        ("ALLIANCE", Some("ZDO")),
        ("ALLIANCE", Some("RTZ")),
        ("BREAKTHROUGH_MEETING", None),
    ] {
        let d = app
            .ok(&r.token, "query($l: Level!, $a: String) { meetings(level: $l, focusArea: $a) { edges { node { id agenda { case { id } } } } } }", json!({ "l": level, "a": area }))
            .await;
        let listed: Vec<&Value> = d["meetings"]["edges"].as_array().unwrap().iter().collect();
        assert_eq!(
            !listed.is_empty(),
            meeting(r, level, area),
            "{who}: meetings {level} {area:?}"
        );
        let mut f = BTreeSet::new();
        collect(&d, None, &mut f, &mut BTreeSet::new());
        assert!(
            f.is_subset(&may_full),
            "{who}: agenda of {level} {area:?} showed {f:?}"
        );
    }
    for (m, (level, area)) in &w.meetings {
        let d = app
            .ok(
                &r.token,
                &format!("{{ meeting(id: \"{m}\") {{ id agenda {{ case {{ id }} }} }} }}"),
                json!({}),
            )
            .await;
        let (status, doc) = get(app, &r.token, &format!("/meetings/{m}/agenda.md")).await;
        if meeting(r, level, *area) {
            assert_eq!(d["meeting"]["id"], m.as_str(), "{who}: meeting {m}");
            assert_eq!(status, 200, "{who}: agenda document {m}");
            for c in &w.cases {
                if doc.contains(&c.reference) {
                    assert!(
                        full(r, c),
                        "{who}: agenda document {m} shows case {}",
                        c.label
                    );
                }
            }
        } else {
            assert_eq!(d, missing_m, "{who}: meeting {m} reads as missing");
            assert_eq!(
                (status, &doc),
                (missing_doc_status, &missing_doc),
                "{who}: agenda document {m}"
            );
        }
    }

    // The CSV export: the same register, the same counts.
    let (status, csv) = get(app, &r.token, "/export/barriers.csv").await;
    assert_eq!(status, 200);
    let rows: BTreeMap<String, usize> = csv
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split(';').collect();
            (cells[0].to_owned(), cells[12].parse().unwrap())
        })
        .collect();
    let want: BTreeMap<String, usize> = want_b
        .iter()
        .map(|b| {
            (
                b.clone(),
                w.cases
                    .iter()
                    .filter(|c| summary(r, c) && barrier_of(w, c) == Some(b.as_str()))
                    .count(),
            )
        })
        .collect();
    assert_eq!(rows, want, "{who}: the CSV export");

    // A subscription starts with the case, or refuses it as missing.
    let missing_sub = first_subscription_message(app, &r.token, "999999").await;
    for c in &w.cases {
        let m = first_subscription_message(app, &r.token, &c.id).await;
        if full(r, c) {
            assert_eq!(
                m["payload"]["data"]["caseUpdated"]["id"],
                c.id.as_str(),
                "{who}: subscribe {}: {m}",
                c.label
            );
        } else {
            assert!(
                m["payload"]["data"].is_null() || m["payload"]["data"]["caseUpdated"].is_null(),
                "{who}: subscribe {}: {m}",
                c.label
            );
            assert_eq!(
                m["payload"], missing_sub["payload"],
                "{who}: subscribe {} reads as missing",
                c.label
            );
        }
    }

    // Acting on a case out of scope is refused exactly like acting on a
    // missing one (and changes nothing: checked once all walks are done).
    let act = |id: &str| {
        format!(
            "mutation {{ withdrawCase(id: \"{id}\", expectedVersion: 1, reason: \"Weg ermee.\") {{ id }} }}"
        )
    };
    let (_, missing_act) = app.post(Some(&r.token), &act("999999"), json!({})).await;
    assert_eq!(missing_act["errors"][0]["extensions"]["code"], "NOT_FOUND");
    for c in w.cases.iter().filter(|c| !full(r, c)) {
        let (_, body) = app.post(Some(&r.token), &act(&c.id), json!({})).await;
        assert_eq!(
            body["errors"][0]["extensions"], missing_act["errors"][0]["extensions"],
            "{who}: withdraw {}",
            c.label
        );
        assert_eq!(
            body["errors"][0]["message"], missing_act["errors"][0]["message"],
            "{who}: withdraw {}",
            c.label
        );
    }

    // The list of users is for administrators; everyone sees themselves.
    let (_, body) = app
        .post(Some(&r.token), "{ users { id } }", json!({}))
        .await;
    if r.role == Role::Admin {
        assert!(body["data"]["users"].as_array().unwrap().len() > 10);
    } else {
        assert!(
            body["data"].is_null() || body["data"]["users"].is_null(),
            "{who}: {body}"
        );
    }
}

async fn who_reads_what(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = world(&app).await;
    let versions = |d: Value| -> BTreeMap<String, i64> {
        d["cases"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["node"]["id"].as_str().unwrap().to_owned(),
                    e["node"]["version"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let before = versions(
        app.ok(
            &app.admin,
            "{ cases(first: 100) { edges { node { id version } } } }",
            json!({}),
        )
        .await,
    );
    // The states the matrix covers.
    let states: BTreeSet<String> = app
        .ok(
            &app.admin,
            "{ cases(first: 100) { edges { node { state } } } }",
            json!({}),
        )
        .await["cases"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states.len(), 6, "{states:?}");
    for r in &w.readers {
        walk(&app, &w, r).await;
    }
    let after = versions(
        app.ok(
            &app.admin,
            "{ cases(first: 100) { edges { node { id version } } } }",
            json!({}),
        )
        .await,
    );
    assert_eq!(before, after, "no refused action changed a case");
}

both!(who_reads_what);
