//! Cases moving up and down the ladder.

use serde_json::{Value, json};

use crate::both;
use crate::support::{Db, TestApp, cast, t0};

fn actions(case: &Value) -> Vec<&str> {
    case["availableActions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

async fn full_run_to_the_breakthrough_meeting(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let case = app.submit(&c.prof, "Oppasrooster tijdens taalles").await;
    assert_eq!(case["reference"], "ZDO-2026-0001");
    assert_eq!(case["state"], "AT_PROGRAMME_BUREAU");
    assert_eq!(case["version"], 1);
    assert_eq!(actions(&case), vec!["WITHDRAW"]);

    let case = app.case(&c.pb, &case["id"]).await;
    assert_eq!(
        actions(&case),
        vec![
            "PICK_UP",
            "REQUEST_INFORMATION",
            "ESCALATE",
            "RESOLVE",
            "CLOSE_NO_BREAKTHROUGH",
            "REJECT",
            "MERGE"
        ]
    );
    let case = app.act(&c.pb, "pickUpCase", &case, "").await;
    assert_eq!(case["assignee"]["name"], "Bram Bureau");
    let case = app
        .act(
            &c.pb,
            "escalateCase",
            &case,
            r#"motivation: "Landelijke regel, lokaal niet op te lossen.""#,
        )
        .await;
    assert_eq!(
        (case["state"].as_str(), case["level"].as_str()),
        (Some("AT_ALLIANCE"), Some("ALLIANCE"))
    );
    assert!(case["assignee"].is_null());

    let case = app
        .act(
            &c.secretary,
            "escalateCase",
            &case,
            r#"motivation: "De alliantie vraagt de rijksvertegenwoordiger.""#,
        )
        .await;
    assert_eq!(case["state"], "AT_NATIONAL_REPRESENTATIVE");
    // The representative must pick it up before acting.
    let (code, _) = app
        .try_act(
            &c.rep,
            "escalateCase",
            &case,
            r#"motivation: "Naar Den Haag.""#,
        )
        .await;
    assert_eq!(code.as_deref(), Some("FORBIDDEN"));
    let case = app.act(&c.rep, "pickUpCase", &case, "").await;
    // A structural change of a national rule is not for the programme bureau, but here it could be.
    let case = app
        .act(
            &c.rep,
            "escalateCase",
            &case,
            r#"motivation: "Raakt SZW en OCW: interdepartementaal.""#,
        )
        .await;
    assert_eq!(case["state"], "AT_BREAKTHROUGH_MEETING");
    let secretariat_view = app.case(&c.secretariat, &case["id"]).await;
    assert_eq!(
        actions(&secretariat_view),
        vec![
            "REQUEST_INFORMATION",
            "REFER_BACK",
            "RESOLVE",
            "CLOSE_NO_BREAKTHROUGH"
        ]
    );

    let case = app
        .act(
            &c.secretariat,
            "resolveCase",
            &case,
            r#"input: { outcome: STRUCTURAL_BREAKTHROUGH, explanation: "De regeling wordt aangepast: ouders mogen een oppasrooster maken.", effectiveFrom: "2027-01-01" }"#,
        )
        .await;
    assert_eq!(case["state"], "RESOLVED");
    // The answer's events come from memory (no read after the commit):
    // they are what a read gives.
    assert_eq!(case, app.case(&c.secretariat, &case["id"]).await);
    assert_eq!(case["resolution"]["outcome"], "STRUCTURAL_BREAKTHROUGH");
    assert_eq!(case["resolution"]["level"], "BREAKTHROUGH_MEETING");
    let (code, e) = app
        .try_act(&c.prof, "contestResolution", &case, r#"reason: "x""#)
        .await;
    assert_eq!(code.as_deref(), Some("VALIDATION"), "{e}");
    assert!(case["deadline"].is_null());

    // The professional hears back and sees every step.
    let mine = app.case(&c.prof, &case["id"]).await;
    assert_eq!(
        mine["resolution"]["explanation"],
        "De regeling wordt aangepast: ouders mogen een oppasrooster maken."
    );
    let steps: Vec<(String, String)> = mine["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actorRole"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = [
        ("SUBMIT", "PROFESSIONAL"),
        ("PICK_UP", "PROGRAMME_BUREAU"),
        ("ESCALATE", "PROGRAMME_BUREAU"),
        ("ESCALATE", "ALLIANCE_SECRETARY"),
        ("PICK_UP", "NATIONAL_REPRESENTATIVE"),
        ("ESCALATE", "NATIONAL_REPRESENTATIVE"),
        ("RESOLVE", "BREAKTHROUGH_SECRETARIAT"),
    ];
    assert_eq!(steps.len(), expect.len());
    for (got, want) in steps.iter().zip(expect) {
        assert_eq!((got.0.as_str(), got.1.as_str()), want);
    }
    assert_eq!(mine["version"], 7);
    assert_eq!(
        crate::support::sequences(&mine),
        (1..=7).collect::<Vec<_>>()
    );
    assert_eq!(actions(&mine), vec!["CONTEST"]);
}

async fn information_asked_and_answered(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let case = app.submit(&c.prof, "Toeslag vervalt bij meer uren").await;
    assert_eq!(case, app.case(&c.prof, &case["id"]).await);
    let deadline0 =
        chrono::DateTime::parse_from_rfc3339(case["deadline"].as_str().unwrap()).unwrap();
    assert_eq!(deadline0, t0() + chrono::TimeDelta::days(10));
    let case = app.act(&c.pb, "pickUpCase", &case, "").await;
    app.advance_days(2);
    let case = app
        .act(
            &c.pb,
            "requestInformation",
            &case,
            r#"question: "Om hoeveel uur per week gaat het?""#,
        )
        .await;
    assert_eq!(case["state"], "AWAITING_INFORMATION");
    assert_eq!(case["level"], "PROGRAMME_BUREAU");
    // The clock is paused: waiting long is not overdue.
    app.advance_days(30);
    let waiting = app.case(&c.pb, &case["id"]).await;
    assert_eq!(waiting["overdue"], false);
    let overdue = app
        .ok(
            &c.pb,
            "{ cases(filter: { overdue: true }) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(overdue["cases"]["edges"].as_array().unwrap().len(), 0);
    // Only the submitter answers.
    let (code, _) = app
        .try_act(
            &c.pb,
            "provideInformation",
            &case,
            r#"answer: "Twaalf uur.""#,
        )
        .await;
    assert_eq!(code.as_deref(), Some("FORBIDDEN"));
    assert_eq!(
        actions(&app.case(&c.prof, &case["id"]).await),
        vec!["PROVIDE_INFORMATION", "WITHDRAW"]
    );
    let case = app
        .act(
            &c.prof,
            "provideInformation",
            &case,
            r#"answer: "Van 24 naar 32 uur per week.""#,
        )
        .await;
    assert_eq!(case["state"], "AT_PROGRAMME_BUREAU");
    assert_eq!(case, app.case(&c.prof, &case["id"]).await);
    assert!(
        case["assignee"].is_null(),
        "the submitter sees the holder by role only"
    );
    assert_eq!(case["holderRole"], "PROGRAMME_BUREAU");
    let seen_by_bureau = app.case(&c.pb, &case["id"]).await;
    assert_eq!(
        seen_by_bureau["assignee"]["name"], "Bram Bureau",
        "back to the same assignee"
    );
    let deadline1 =
        chrono::DateTime::parse_from_rfc3339(case["deadline"].as_str().unwrap()).unwrap();
    assert_eq!(
        deadline1 - deadline0,
        chrono::TimeDelta::days(30),
        "moved on by the paused time"
    );
    let events = case["events"].as_array().unwrap();
    assert_eq!(events[2]["note"], "Om hoeveel uur per week gaat het?");
    assert_eq!(events[3]["note"], "Van 24 naar 32 uur per week.");
    // Now the clock runs again.
    app.advance_days(9);
    assert_eq!(app.case(&c.pb, &case["id"]).await["overdue"], true);
}

async fn contest_returns_to_the_level_that_decided(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let case = app.submit(&c.prof, "Schoolvraag aan de GGD").await;
    let case = app
        .act(
            &c.pb,
            "resolveCase",
            &case,
            r#"input: { outcome: ALREADY_POSSIBLE, explanation: "Met toestemming van de ouders mag het al; zo vraagt u die." }"#,
        )
        .await;
    assert_eq!(case["state"], "RESOLVED");
    app.advance_days(29);
    let case = app
        .act(
            &c.prof,
            "contestResolution",
            &case,
            r#"reason: "De ouders zijn onbereikbaar.""#,
        )
        .await;
    assert_eq!(case["state"], "AT_PROGRAMME_BUREAU");
    assert!(case["resolution"].is_null());
    let case = app
        .act(
            &c.pb,
            "closeCaseWithoutBreakthrough",
            &case,
            r#"explanation: "Zonder toestemming kan het niet; de wet is hier duidelijk.""#,
        )
        .await;
    assert_eq!(case["state"], "CLOSED_NO_BREAKTHROUGH");
    assert!(case["resolution"]["outcome"].is_null());
    app.advance_days(31);
    let (code, _) = app
        .try_act(
            &c.prof,
            "contestResolution",
            &case,
            r#"reason: "Te laat maar toch.""#,
        )
        .await;
    assert_eq!(code.as_deref(), Some("INVALID_TRANSITION"));
}

async fn merge_points_to_the_case_it_went_into(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let first = app.submit(&c.prof, "Sociale huur alleen op inkomen").await;
    let dup = app
        .submit(&c.other_prof, "Toewijzing sociale huur op inkomen")
        .await;
    let q = "mutation($id: ID!, $v: Int!, $into: ID!) { mergeCase(id: $id, expectedVersion: $v, intoId: $into) { state mergedInto { id reference } availableActions } }";
    let merged = app
        .ok(
            &c.pb,
            q,
            json!({ "id": dup["id"], "v": dup["version"], "into": first["id"] }),
        )
        .await;
    assert_eq!(merged["mergeCase"]["state"], "MERGED");
    assert_eq!(
        merged["mergeCase"]["mergedInto"]["reference"],
        first["reference"]
    );
    assert_eq!(merged["mergeCase"]["availableActions"], json!([]));
    // A merged case accepts nothing else.
    let dup = app.case(&c.other_prof, &dup["id"]).await;
    let (code, _) = app
        .try_act(
            &c.other_prof,
            "withdrawCase",
            &dup,
            r#"reason: "Toch niet nodig.""#,
        )
        .await;
    assert_eq!(code.as_deref(), Some("INVALID_TRANSITION"));
    // Nothing merges into a withdrawn case, nor into itself.
    let gone = app.submit(&c.prof, "Een derde zaak").await;
    let gone = app
        .act(
            &c.prof,
            "withdrawCase",
            &gone,
            r#"reason: "Opgelost buiten het programma.""#,
        )
        .await;
    let third = app.submit(&c.prof, "Een vierde zaak").await;
    let (_, body) = app
        .post(
            Some(&c.pb),
            q,
            json!({ "id": third["id"], "v": third["version"], "into": gone["id"] }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "INVALID_TRANSITION"
    );
    let (_, body) = app
        .post(
            Some(&c.pb),
            q,
            json!({ "id": third["id"], "v": third["version"], "into": third["id"] }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "VALIDATION");
    assert_eq!(
        app.case(&c.prof, &third["id"]).await["version"],
        1,
        "refusals change nothing"
    );
}

async fn withdrawal_from_any_open_state(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let case = app.submit(&c.prof, "Extra afvalbak in de wijk").await;
    let case = app
        .act(
            &c.pb,
            "escalateCase",
            &case,
            r#"motivation: "De alliantie beslist hierover.""#,
        )
        .await;
    let case = app
        .act(
            &c.secretary,
            "requestInformation",
            &case,
            r#"question: "Welke straat precies?""#,
        )
        .await;
    assert_eq!(case["state"], "AWAITING_INFORMATION");
    let case = app
        .act(
            &c.prof,
            "withdrawCase",
            &case,
            r#"reason: "De gemeente heeft de bak al geplaatst.""#,
        )
        .await;
    assert_eq!(case["state"], "WITHDRAWN");
    assert!(case["deadline"].is_null());
    for (token, m, args) in [
        (&c.secretary, "escalateCase", r#"motivation: "Verder.""#),
        (&c.prof, "contestResolution", r#"reason: "Toch niet.""#),
    ] {
        let (code, _) = app.try_act(token, m, &case, args).await;
        assert_eq!(code.as_deref(), Some("INVALID_TRANSITION"), "{m}");
    }
}

async fn concurrent_pick_ups_have_one_winner(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    for round in 0..5 {
        let case = app
            .submit(&c.prof, &format!("Gelijktijdig oppakken {round}"))
            .await;
        let case = app
            .act(
                &c.pb,
                "escalateCase",
                &case,
                r#"motivation: "Naar de alliantie.""#,
            )
            .await;
        let case = app
            .act(
                &c.secretary,
                "escalateCase",
                &case,
                r#"motivation: "Naar het Rijk.""#,
            )
            .await;
        let (a, b) = tokio::join!(
            app.try_act(&c.rep, "pickUpCase", &case, ""),
            app.try_act(&c.rep2, "pickUpCase", &case, ""),
        );
        let codes = [a.0.clone(), b.0.clone()];
        let wins = codes.iter().filter(|c| c.is_none()).count();
        assert_eq!(wins, 1, "exactly one wins: {a:?} {b:?}");
        assert!(
            codes.contains(&Some("VERSION_CONFLICT".to_owned())),
            "{codes:?}"
        );
        let now = app.case(&c.pb, &case["id"]).await;
        assert_eq!(now["version"], case["version"].as_i64().unwrap() + 1);
        assert_eq!(
            now["events"].as_array().unwrap().len() as i64,
            now["version"].as_i64().unwrap()
        );
        let winner = if a.0.is_none() {
            "Rik Rijksvertegenwoordiger"
        } else {
            "Roos Rijksvertegenwoordiger"
        };
        assert_eq!(now["assignee"]["name"], winner);
    }
}

/// An instance starts an action from the case as it last wrote it (no
/// read); when another instance has moved the case on meanwhile, that
/// copy must not mislead: an action on the old version is refused and
/// changes nothing, and one on the new version is taken from the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_moved_through_another_instance_is_never_acted_on_stale() {
    let app = TestApp::spawn(Db::Postgres).await;
    let other = app.beside().await;
    let c = cast(&app).await;
    let case = app.submit(&c.prof, "Twee instanties, een zaak").await;
    // The first instance writes version 2 (and keeps it).
    let picked = app.act(&c.pb, "pickUpCase", &case, "").await;
    let released = other.act(&c.pb, "releaseCase", &picked, "").await;
    assert_eq!(released["version"], 3);
    // On the version it kept, which is no longer the database's: refused.
    let (code, body) = app.try_act(&c.pb, "pickUpCase", &picked, "").await;
    assert_eq!(code.as_deref(), Some("VERSION_CONFLICT"), "{body}");
    assert_eq!(app.case(&c.pb, &case["id"]).await, released);
    // On the version the other instance wrote: read, and taken.
    let again = app.act(&c.pb, "pickUpCase", &released, "").await;
    assert_eq!(again["version"], 4);
    assert_eq!(again["assignee"]["name"], picked["assignee"]["name"]);
    assert_eq!(other.case(&c.pb, &case["id"]).await, again);
    // The other instance kept version 3; it reads version 4 to act on it.
    let last = other.act(&c.pb, "releaseCase", &again, "").await;
    assert_eq!(last["version"], 5);
    assert_eq!(app.case(&c.pb, &case["id"]).await, last);
    // Acting again on what this instance just wrote needs no read of the
    // case: the pick-up's only repository call is its write (the answer's
    // events come with it).
    let kept = other.act(&c.pb, "pickUpCase", &last, "").await;
    let before = other.engine.repository_calls();
    let q =
        "mutation($id: ID!, $v: Int!) { releaseCase(id: $id, expectedVersion: $v) { version } }";
    let answer = other
        .ok(&c.pb, q, json!({ "id": kept["id"], "v": kept["version"] }))
        .await;
    assert_eq!(answer["releaseCase"]["version"], 7);
    assert_eq!(other.engine.repository_calls() - before, 1);
    assert_eq!(app.case(&c.pb, &case["id"]).await["version"], 7);
}

async fn funding_is_exact_and_checked(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let case = app
        .submit(&c.prof, "Schuldhulp en school ontschotten")
        .await;
    for bad in [r#""0.00""#, r#""-10""#, r#""10.001""#] {
        let args = format!(
            r#"input: {{ outcome: FUNDING_UNLOCKED, explanation: "Budgetten worden gecombineerd.", fundsUnlocked: {bad} }}"#
        );
        let (code, body) = app.try_act(&c.pb, "resolveCase", &case, &args).await;
        assert_eq!(code.as_deref(), Some("VALIDATION"), "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"],
            "input.fundsUnlocked"
        );
    }
    let case = app
        .act(&c.pb, "resolveCase", &case, r#"input: { outcome: FUNDING_UNLOCKED, explanation: "SZW- en OCW-geld mogen samen worden ingezet.", fundsUnlocked: "250000.10" }"#)
        .await;
    assert_eq!(case["resolution"]["fundsUnlocked"], "250000.10");
}

async fn levels_can_escalate_by_themselves(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let norm = "mutation($l: Level!, $d: Int!, $a: Boolean!) { setServiceNorm(level: $l, days: $d, autoEscalate: $a) { level days autoEscalate } }";
    let (code, _) = app
        .err(
            Some(&c.pb),
            norm,
            json!({ "l": "PROGRAMME_BUREAU", "d": 5, "a": true }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    let set = app
        .ok(
            &app.admin,
            norm,
            json!({ "l": "PROGRAMME_BUREAU", "d": 5, "a": true }),
        )
        .await;
    assert_eq!(set["setServiceNorm"]["autoEscalate"], true);
    let late = app.submit(&c.prof, "Blijft liggen").await;
    app.advance_days(3);
    let fresh = app.submit(&c.prof, "Net binnen").await;
    let waiting = app.submit(&c.prof, "Wacht op de indiener").await;
    let waiting = app
        .act(
            &c.pb,
            "requestInformation",
            &waiting,
            r#"question: "Welke regeling precies?""#,
        )
        .await;
    assert_eq!(
        app.engine.escalate_overdue().await.unwrap(),
        0,
        "nothing is overdue yet"
    );
    app.advance_days(3);
    assert_eq!(app.engine.escalate_overdue().await.unwrap(), 1);
    let late = app.case(&c.pb, &late["id"]).await;
    assert_eq!(late["state"], "AT_ALLIANCE");
    let last = late["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "ESCALATE");
    assert!(
        last["note"]
            .as_str()
            .unwrap()
            .starts_with("escalated automatically"),
        "{last}"
    );
    assert_eq!(
        app.case(&c.pb, &fresh["id"]).await["state"],
        "AT_PROGRAMME_BUREAU"
    );
    assert_eq!(
        app.case(&c.pb, &waiting["id"]).await["state"],
        "AWAITING_INFORMATION",
        "a paused clock never escalates"
    );
    // The alliance does not escalate by itself: nothing moves further.
    app.advance_days(100);
    assert_eq!(
        app.engine.escalate_overdue().await.unwrap(),
        1,
        "only the fresh case, still at the bureau"
    );
    assert_eq!(app.case(&c.pb, &late["id"]).await["state"], "AT_ALLIANCE");
}

both!(
    levels_can_escalate_by_themselves,
    full_run_to_the_breakthrough_meeting,
    information_asked_and_answered,
    contest_returns_to_the_level_that_decided,
    merge_points_to_the_case_it_went_into,
    withdrawal_from_any_open_state,
    concurrent_pick_ups_have_one_winner,
    funding_is_exact_and_checked,
);
