//! The barrier register, precedents, what ministries see, and meetings.

use serde_json::{Value, json};

use crate::both;
use crate::support::{Db, TestApp, cast};

const SUBMIT: &str =
    "mutation($i: SubmitCaseInput!) { submitCase(input: $i) { id version reference } }";

fn case_input(area: &str, title: &str, citation: &str, bwb: Option<&str>, ministry: &str) -> Value {
    json!({ "i": {
        "title": title,
        "description": format!("Geheime beschrijving van de situatie rond {title}, alleen voor de behandelaars."),
        "focusArea": area, "domains": ["WORK_INCOME"],
        "rule": { "citation": citation, "bwbId": bwb, "scope": "NATIONAL", "owningMinistry": ministry },
        "desiredAction": "Ruimte om af te wijken voor deze huishoudens.", "estimatedCost": "1000.00"
    }})
}

const LINK: &str = "mutation($id: ID!, $v: Int!, $b: ID, $n: NewBarrierInput) { linkBarrier(id: $id, expectedVersion: $v, barrierId: $b, newBarrier: $n) { id version barrier { id status } events { sequence action fromState toState actorRole note at actor { name } } } }";

async fn the_register_follows_its_cases(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let prof_rtz = app
        .user("Rosa Rotterdam", "PROFESSIONAL", &["RTZ"], None)
        .await;
    let pb_rtz = app
        .user("Piet Rotterdam", "PROGRAMME_BUREAU", &["RTZ"], None)
        .await;
    let analyst_ocw = app
        .user("Olga OCW", "MINISTRY_ANALYST", &[], Some("OCW"))
        .await;

    // A case in ZDO starts a barrier.
    let a = app
        .ok(
            &c.prof,
            SUBMIT,
            case_input(
                "ZDO",
                "Bijverdienen in de bijstand",
                "Participatiewet art. 31",
                Some("BWBR0015703"),
                "SZW",
            ),
        )
        .await["submitCase"]
        .clone();
    let new = json!({ "citation": "Participatiewet art. 31", "bwbId": "BWBR0015703", "scope": "NATIONAL", "owningMinistry": "SZW" });
    let (code, _) = app
        .err(
            Some(&c.prof),
            LINK,
            json!({ "id": a["id"], "v": 1, "n": new }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    let linked = app
        .ok(&c.pb, LINK, json!({ "id": a["id"], "v": 1, "n": new }))
        .await["linkBarrier"]
        .clone();
    assert_eq!(linked["version"], 2);
    assert_eq!(linked["barrier"]["status"], "OPEN");
    // The answer's events come from memory, not a read after the commit:
    // they are what a read gives.
    assert_eq!(linked["events"].as_array().map(Vec::len), Some(2));
    assert_eq!(linked["events"], app.case(&c.pb, &a["id"]).await["events"]);
    let barrier_id = linked["barrier"]["id"].clone();

    // The same rule in Rotterdam: the engine suggests the barrier, across areas.
    let b = app
        .ok(
            &prof_rtz,
            SUBMIT,
            case_input(
                "RTZ",
                "Vrijlating van inkomsten",
                "Participatiewet artikel 31",
                Some("BWBR0015703"),
                "SZW",
            ),
        )
        .await["submitCase"]
        .clone();
    let s = app
        .ok(
            &pb_rtz,
            "query($c: ID!) { barrierSuggestions(caseId: $c) { score barrier { id citation } } }",
            json!({ "c": b["id"] }),
        )
        .await;
    let first = &s["barrierSuggestions"][0];
    assert_eq!(first["barrier"]["id"], barrier_id);
    assert!(first["score"].as_f64().unwrap() > 0.9, "{s}");
    // A case cited differently but about the same thing (the same title as
    // case A) is still pointed to the barrier, with a lower score.
    let c2 = app
        .ok(
            &prof_rtz,
            SUBMIT,
            case_input(
                "RTZ",
                "Bijverdienen in de bijstand",
                "Gemeentelijke bijstandsregels",
                None,
                "SZW",
            ),
        )
        .await["submitCase"]
        .clone();
    let s2 = app
        .ok(
            &pb_rtz,
            "query($c: ID!) { barrierSuggestions(caseId: $c) { score barrier { id } } }",
            json!({ "c": c2["id"] }),
        )
        .await;
    let hit = &s2["barrierSuggestions"][0];
    assert_eq!(hit["barrier"]["id"], barrier_id, "{s2}");
    let score = hit["score"].as_f64().unwrap();
    assert!((0.25..0.9).contains(&score), "{s2}");
    let (code, _) = app
        .err(
            Some(&c.prof),
            "query($c: ID!) { barrierSuggestions(caseId: $c) { score } }",
            json!({ "c": a["id"] }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN", "suggestions are for those who link");
    app.ok(
        &pb_rtz,
        LINK,
        json!({ "id": b["id"], "v": 1, "b": barrier_id }),
    )
    .await;

    // A national representative decides a structural breakthrough on case A.
    let a = app.case(&c.pb, &a["id"]).await;
    let a = app.to_representative(&c, &a).await;
    let (code, e) = app
        .try_act(&c.rep, "resolveCase", &a, r#"input: { outcome: STRUCTURAL_BREAKTHROUGH, explanation: "Vrijlating wordt verruimd." }"#)
        .await;
    assert_eq!(
        code.as_deref(),
        Some("VALIDATION"),
        "a structural breakthrough needs its date: {e}"
    );
    app.act(&c.rep, "resolveCase", &a, r#"input: { outcome: STRUCTURAL_BREAKTHROUGH, explanation: "De vrijlating wordt landelijk verruimd.", effectiveFrom: "2027-01-01" }"#).await;
    let q = "query($id: ID!) { barrier(id: $id) { status effectiveFrom decision cases { reference state focusArea { code } outcome } areas { code } } }";
    let reg = app.ok(&c.analyst, q, json!({ "id": barrier_id })).await["barrier"].clone();
    assert_eq!(reg["status"], "BREAKTHROUGH_DECIDED");
    assert_eq!(reg["effectiveFrom"], "2027-01-01");
    assert_eq!(reg["areas"], json!([{ "code": "RTZ" }, { "code": "ZDO" }]));
    assert_eq!(reg["cases"].as_array().unwrap().len(), 2);
    assert!(
        !reg.to_string().contains("Geheime"),
        "no description text in the register"
    );
    assert!(
        app.ok(&analyst_ocw, q, json!({ "id": barrier_id })).await["barrier"].is_null(),
        "other ministries do not see it"
    );

    // Case B is flagged, listed for its handler, and resolved by reference
    // at the programme bureau.
    let flagged = app
        .ok(
            &pb_rtz,
            "{ cases(filter: { precedentAvailable: true }) { edges { node { reference } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        flagged["cases"]["edges"][0]["node"]["reference"],
        b["reference"]
    );
    assert_eq!(flagged["cases"]["edges"].as_array().unwrap().len(), 1);
    let b = app
        .ok(
            &pb_rtz,
            "query($id: ID) { case(id: $id) { id version precedentAvailable } }",
            json!({ "id": b["id"] }),
        )
        .await["case"]
        .clone();
    assert_eq!(b["precedentAvailable"], true);
    let b = app
        .act(&pb_rtz, "resolveCase", &b, r#"input: { outcome: STRUCTURAL_BREAKTHROUGH, explanation: "Zie het landelijke besluit over artikel 31.", effectiveFrom: "2027-01-01" }"#)
        .await;
    assert_eq!(b["state"], "RESOLVED");

    // The owner records that the change is in force.
    let imp = "mutation($b: ID!) { recordImplementation(barrierId: $b, inForceOn: \"2027-01-01\", note: \"Staatsblad 2026, 512.\") { status inForceOn } }";
    let (code, _) = app
        .err(Some(&analyst_ocw), imp, json!({ "b": barrier_id }))
        .await;
    assert_eq!(code, "NOT_FOUND");
    let done = app.ok(&c.analyst, imp, json!({ "b": barrier_id })).await;
    assert_eq!(done["recordImplementation"]["status"], "IMPLEMENTED");
    let (code, _) = app
        .err(Some(&c.analyst), imp, json!({ "b": barrier_id }))
        .await;
    assert_eq!(code, "INVALID_TRANSITION");

    // An experiment near its end needs evaluation.
    let x = app
        .ok(
            &c.prof,
            SUBMIT,
            case_input(
                "ZDO",
                "Proef met samenwonen",
                "Wet bijzondere maatregelen grootstedelijke problematiek art. 5",
                None,
                "BZK",
            ),
        )
        .await["submitCase"]
        .clone();
    let nb = json!({ "citation": "Wbmgp art. 5", "scope": "NATIONAL", "owningMinistry": "BZK" });
    app.ok(&c.pb, LINK, json!({ "id": x["id"], "v": 1, "n": nb }))
        .await;
    let x = app.case(&c.pb, &x["id"]).await;
    let x = app.to_representative(&c, &x).await;
    app.act(&c.rep, "resolveCase", &x, r#"input: { outcome: EXPERIMENT, explanation: "Twee jaar proef met afwijken.", experimentEnds: "2026-03-20", evaluationDate: "2026-03-15" }"#).await;
    let due = app.ok(&app.admin, "{ barriers(filter: { needsEvaluation: true }) { edges { node { citation needsEvaluation } } } }", json!({})).await;
    let due = due["barriers"]["edges"].as_array().unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0]["node"]["citation"], "Wbmgp art. 5");

    // The CSV export, under the same access rules.
    let csv = |token: String| {
        let url = format!("{}/export/barriers.csv", app.base);
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let r = csv(c.analyst.clone()).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = r.text().await.unwrap();
    assert!(
        body.starts_with('\u{feff}'),
        "a byte-order mark for spreadsheets"
    );
    let lines: Vec<&str> = body.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 2, "{body}");
    assert!(
        lines[1].contains("Participatiewet art. 31;BWBR0015703;NATIONAL;SZW;IMPLEMENTED"),
        "{body}"
    );
    assert!(lines[1].ends_with(";2;RTZ ZDO"), "{body}");
    let other = csv(analyst_ocw).await.text().await.unwrap();
    assert_eq!(
        other.trim_end().split("\r\n").count(),
        1,
        "only the header for another ministry"
    );
    let r = reqwest::Client::new()
        .get(format!("{}/export/barriers.csv", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // A national "no" refuses an open barrier.
    let z = app
        .ok(
            &c.prof,
            SUBMIT,
            case_input(
                "ZDO",
                "Zorgbudget combineren",
                "Wet langdurige zorg art. 3.1.1",
                None,
                "VWS",
            ),
        )
        .await["submitCase"]
        .clone();
    let nz = json!({ "citation": "Wet langdurige zorg art. 3.1.1", "scope": "NATIONAL", "owningMinistry": "VWS" });
    app.ok(&c.pb, LINK, json!({ "id": z["id"], "v": 1, "n": nz }))
        .await;
    let z = app.case(&c.pb, &z["id"]).await;
    let z = app.to_representative(&c, &z).await;
    app.act(
        &c.rep,
        "closeCaseWithoutBreakthrough",
        &z,
        r#"explanation: "De wet laat dit bewust niet toe; VWS verandert dit niet.""#,
    )
    .await;
    let vws = app
        .ok(&app.admin, "{ ministryStatistics(ministry: \"VWS\") { barriersReported barriersRefused barriers { barrier { status decision } } } }", json!({}))
        .await["ministryStatistics"]
        .clone();
    assert_eq!(vws["barriersRefused"], 1);
    assert_eq!(vws["barriers"][0]["barrier"]["status"], "NO_BREAKTHROUGH");
    assert_eq!(
        vws["barriers"][0]["barrier"]["decision"],
        "De wet laat dit bewust niet toe; VWS verandert dit niet."
    );

    // The report of the period, with the lessons from the explanations.
    let report = app
        .ok(&c.analyst, "{ barrierReport(from: \"2026-01-01T00:00:00Z\", to: \"2027-01-01T00:00:00Z\") { ministry { code } barriersReported barriersDecided barriersImplemented barriersRefused lessons { caseReference explanation } } }", json!({}))
        .await["barrierReport"]
        .clone();
    assert_eq!(
        report.as_array().unwrap().len(),
        1,
        "an analyst reads their own ministry only"
    );
    assert_eq!(report[0]["ministry"]["code"], "SZW");
    assert_eq!(
        (
            report[0]["barriersReported"].as_i64(),
            report[0]["barriersDecided"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(report[0]["barriersImplemented"], 1);
    let lessons: Vec<&str> = report[0]["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["explanation"].as_str().unwrap())
        .collect();
    assert!(
        lessons.contains(&"De vrijlating wordt landelijk verruimd."),
        "{lessons:?}"
    );
    let (code, _) = app.err(Some(&c.prof), "{ barrierReport(from: \"2026-01-01T00:00:00Z\", to: \"2027-01-01T00:00:00Z\") { lessons { explanation } } }", json!({})).await;
    assert_eq!(code, "FORBIDDEN");
}

async fn precedents_are_found_across_areas(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let case = app
        .submit(&c.prof, "Vraag aan de jeugdgezondheidszorg")
        .await;
    app.act(&c.pb, "resolveCase", &case, r#"input: { outcome: ALREADY_POSSIBLE, explanation: "Het mag al: met schriftelijke toestemming van de ouders deelt de GGD de gegevens." }"#).await;
    let other = app.submit(&c.prof, "Nog niet beslist").await;
    let _ = other;
    let q = "query($q: String!) { precedents(query: $q) { caseReference citation outcome explanation focusArea { code } } }";
    let prof_rtz = app
        .user("Rosa Rotterdam", "PROFESSIONAL", &["RTZ"], None)
        .await;
    let hits = app
        .ok(&prof_rtz, q, json!({ "q": "toestemming ouders" }))
        .await["precedents"]
        .clone();
    assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
    assert_eq!(hits[0]["outcome"], "ALREADY_POSSIBLE");
    assert_eq!(hits[0]["focusArea"]["code"], "ZDO");
    assert!(
        !hits.to_string().contains("taalles"),
        "never the description"
    );
    let by_rule = app.ok(&prof_rtz, q, json!({ "q": "kinderopvang" })).await["precedents"].clone();
    assert_eq!(
        by_rule.as_array().unwrap().len(),
        1,
        "the citation is searched too"
    );
    let none = app.ok(&prof_rtz, q, json!({ "q": "taalles" })).await["precedents"].clone();
    assert_eq!(none, json!([]), "descriptions are not searched");
    let (code, _) = app.err(Some(&prof_rtz), q, json!({ "q": "!" })).await;
    assert_eq!(code, "VALIDATION");
}

/// Long words, word starts, diacritics and the ranking. On SQLite a word
/// matches the start of a word (through prefix indexes of up to 16
/// letters, a longer one checked in our own code); PostgreSQL matches
/// whole Dutch word stems. What both must do is asserted on both.
async fn precedents_match_word_starts_and_rank_by_weight(db: Db) {
    let sqlite = matches!(db, Db::Sqlite);
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let mut refs = Vec::new();
    for explanation in [
        "De arbeidsongeschiktheidsverzekering betaalt door tijdens de scholing.",
        "De arbeidsongeschiktheidsuitkering loopt door; de gemeente vult aan.",
        "Een lange uitleg waarin de toeslag maar een keer voorkomt, tussen veel andere woorden over de regeling, de gemeente, het gesprek en de afspraken die daarover zijn gemaakt.",
        "Toeslag blijft: de toeslag telt, de toeslag loopt door.",
        "Het café van het buurthuis mag de maaltijden al verstrekken.",
    ] {
        let case = app.submit(&c.prof, "Een vraag").await;
        refs.push(case["reference"].as_str().unwrap().to_owned());
        let args =
            format!(r#"input: {{ outcome: ALREADY_POSSIBLE, explanation: "{explanation}" }}"#);
        app.act(&c.pb, "resolveCase", &case, &args).await;
    }
    let q = "query($q: String!) { precedents(query: $q) { caseReference } }";
    let found = |q_: &'static str| {
        let app = &app;
        let token = c.analyst.clone();
        async move {
            let hits = app.ok(&token, q, json!({ "q": q_ })).await["precedents"].clone();
            hits.as_array()
                .unwrap()
                .iter()
                .map(|h| h["caseReference"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    // Longer than the longest prefix index, and sharing its first 16
    // letters with another word: only the word itself.
    assert_eq!(
        found("arbeidsongeschiktheidsverzekering").await,
        vec![refs[0].clone()]
    );
    assert_eq!(
        found("Arbeidsongeschiktheidsverzekering betaalt").await,
        vec![refs[0].clone()]
    );
    assert_eq!(
        found("arbeidsongeschiktheidsverzekering gemeente").await,
        Vec::<String>::new()
    );
    // More of the word in a shorter text comes first.
    assert_eq!(
        found("toeslag").await,
        vec![refs[3].clone(), refs[2].clone()]
    );
    if sqlite {
        // The start of a word, at any length, never its middle.
        let mut both = found("arbeidsongeschikt").await;
        both.sort();
        assert_eq!(both, vec![refs[0].clone(), refs[1].clone()]);
        assert_eq!(
            found("arbeidsongeschiktheidsuit").await,
            vec![refs[1].clone()]
        );
        assert_eq!(found("geschiktheid").await, Vec::<String>::new());
        assert_eq!(found("toesl blijf").await, vec![refs[3].clone()]);
        // Without diacritics, and with them.
        assert_eq!(found("cafe").await, vec![refs[4].clone()]);
        assert_eq!(found("CAFÉ buurt").await, vec![refs[4].clone()]);
    } else {
        assert_eq!(found("café").await, vec![refs[4].clone()]);
    }
}

async fn meetings_decide_and_carry_over(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let schedule = "mutation($l: Level!, $a: String, $t: DateTime!) { scheduleMeeting(level: $l, focusArea: $a, scheduledAt: $t) { id status agenda { case { reference } } } }";
    let (code, _) = app
        .err(
            Some(&c.pb),
            schedule,
            json!({ "l": "ALLIANCE", "a": "ZDO", "t": "2026-03-09T19:00:00Z" }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    let m1 = app
        .ok(
            &c.secretary,
            schedule,
            json!({ "l": "ALLIANCE", "a": "ZDO", "t": "2026-03-09T19:00:00Z" }),
        )
        .await["scheduleMeeting"]
        .clone();
    let m2 = app
        .ok(
            &c.secretary,
            schedule,
            json!({ "l": "ALLIANCE", "a": "ZDO", "t": "2026-04-13T19:00:00Z" }),
        )
        .await["scheduleMeeting"]
        .clone();
    let x = app.submit(&c.prof, "Eerste agendapunt").await;
    let y = app.submit(&c.prof, "Tweede agendapunt").await;
    let x = app
        .act(
            &c.pb,
            "escalateCase",
            &x,
            r#"motivation: "Voor de alliantie.""#,
        )
        .await;
    let y = app
        .act(
            &c.pb,
            "escalateCase",
            &y,
            r#"motivation: "Ook voor de alliantie.""#,
        )
        .await;
    let meeting = "query($id: ID!) { meeting(id: $id) { status agenda { case { reference } decision carriedOver } decisions { case { reference } decision note } } }";
    let agenda = app
        .ok(&c.secretary, meeting, json!({ "id": m1["id"] }))
        .await["meeting"]
        .clone();
    let refs: Vec<&str> = agenda["agenda"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["case"]["reference"].as_str().unwrap())
        .collect();
    assert_eq!(
        refs,
        vec![
            x["reference"].as_str().unwrap(),
            y["reference"].as_str().unwrap()
        ],
        "put on the next meeting automatically"
    );
    // The agenda as a document for the participants.
    let doc = reqwest::Client::new()
        .get(format!(
            "{}/meetings/{}/agenda.md",
            app.base,
            m1["id"].as_str().unwrap()
        ))
        .bearer_auth(&c.secretary)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        doc.contains("# Agenda: Alliance Zaandam Oost")
            && doc.contains(x["reference"].as_str().unwrap()),
        "{doc}"
    );

    // The secretary can move a case to another meeting, and back.
    let mv = "mutation($c: ID!, $m: ID!) { moveToMeeting(caseId: $c, meetingId: $m) { id agenda { case { reference } carriedOver } } }";
    let moved = app
        .ok(&c.secretary, mv, json!({ "c": y["id"], "m": m2["id"] }))
        .await;
    assert_eq!(
        moved["moveToMeeting"]["agenda"][0]["case"]["reference"],
        y["reference"]
    );
    app.ok(&c.secretary, mv, json!({ "c": y["id"], "m": m1["id"] }))
        .await;
    let (code, _) = app
        .err(Some(&c.pb), mv, json!({ "c": y["id"], "m": m2["id"] }))
        .await;
    assert_eq!(code, "FORBIDDEN");

    // The alliance decides on X in the meeting; Y is not decided.
    let x = app
        .act(
            &c.secretary,
            "escalateCase",
            &x,
            r#"motivation: "Besloten: naar de rijksvertegenwoordiger.""#,
        )
        .await;
    let ev = x["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(ev["action"], "ESCALATE");
    let with_meeting = app.ok(&c.secretary, "query($id: ID) { case(id: $id) { events { meetingId } meetings { decision meeting { id } } } }", json!({ "id": x["id"] })).await;
    assert_eq!(
        with_meeting["case"]["events"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["meetingId"],
        m1["id"]
    );
    let closed = app.ok(&c.secretary, "mutation($id: ID!) { closeMeeting(id: $id) { status decisions { case { reference } decision } } }", json!({ "id": m1["id"] })).await["closeMeeting"].clone();
    assert_eq!(closed["status"], "CLOSED");
    assert_eq!(
        closed["decisions"],
        json!([{ "case": { "reference": x["reference"] }, "decision": "ESCALATE" }])
    );
    let next = app
        .ok(&c.secretary, meeting, json!({ "id": m2["id"] }))
        .await["meeting"]
        .clone();
    assert_eq!(
        next["agenda"][0]["case"]["reference"], y["reference"],
        "carried over"
    );
    let history = app
        .ok(
            &c.prof,
            "query($id: ID) { case(id: $id) { meetings { carriedOver meeting { id } } } }",
            json!({ "id": y["id"] }),
        )
        .await;
    assert_eq!(
        history["case"]["meetings"].as_array().unwrap().len(),
        2,
        "the case keeps its history: {history}"
    );
    let (code, _) = app
        .err(
            Some(&c.secretary),
            "mutation($id: ID!) { closeMeeting(id: $id) { id } }",
            json!({ "id": m1["id"] }),
        )
        .await;
    assert_eq!(code, "INVALID_TRANSITION");

    // No breakthrough meeting scheduled: the case waits visibly, then joins the first one.
    let x = app.act(&c.rep, "pickUpCase", &x, "").await;
    let x = app
        .act(
            &c.rep,
            "escalateCase",
            &x,
            r#"motivation: "Naar het doorbraakoverleg.""#,
        )
        .await;
    assert_eq!(x["state"], "AT_BREAKTHROUGH_MEETING");
    let waiting = app.ok(&c.secretariat, "{ cases(filter: { states: [AT_BREAKTHROUGH_MEETING] }) { edges { node { reference meetings { id: decision } } } } }", json!({})).await;
    assert_eq!(waiting["cases"]["edges"].as_array().unwrap().len(), 1);
    let status = app
        .ok(
            &c.prof,
            "query($id: ID) { case(id: $id) { awaitingMeeting nextMeeting { id } } }",
            json!({ "id": x["id"] }),
        )
        .await;
    assert_eq!(status["case"]["awaitingMeeting"], true);
    assert!(status["case"]["nextMeeting"].is_null());
    let bm = app
        .ok(
            &c.secretariat,
            schedule,
            json!({ "l": "BREAKTHROUGH_MEETING", "t": "2026-05-01T10:00:00Z" }),
        )
        .await["scheduleMeeting"]
        .clone();
    assert_eq!(bm["agenda"][0]["case"]["reference"], x["reference"]);
    let status = app
        .ok(
            &c.prof,
            "query($id: ID) { case(id: $id) { awaitingMeeting nextMeeting { id } } }",
            json!({ "id": x["id"] }),
        )
        .await;
    assert_eq!(status["case"]["awaitingMeeting"], false);
    assert_eq!(status["case"]["nextMeeting"]["id"], bm["id"]);
}

both!(
    precedents_match_word_starts_and_rank_by_weight,
    the_register_follows_its_cases,
    precedents_are_found_across_areas,
    meetings_decide_and_carry_over
);
