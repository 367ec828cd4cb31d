//! Nobody sees cases outside their scope.

use serde_json::json;

use crate::both;
use crate::support::{Db, TestApp, cast};

const LIST: &str = "{ cases(first: 100) { edges { node { reference } } } }";

async fn refs(app: &TestApp, token: &str) -> Vec<String> {
    let d = app.ok(token, LIST, json!({})).await;
    d["cases"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["reference"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_professional_sees_only_their_own_cases(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let mine = app.submit(&c.prof, "Mijn eigen zaak").await;
    let theirs = app.submit(&c.other_prof, "Andermans zaak").await;
    assert!(app.case(&c.prof, &theirs["id"]).await.is_null());
    let by_ref = app
        .ok(
            &c.prof,
            "query($r: String) { case(reference: $r) { id } }",
            json!({ "r": theirs["reference"] }),
        )
        .await;
    assert!(by_ref["case"].is_null(), "by reference too");
    let missing = app
        .ok(&c.prof, "{ case(id: \"999999\") { id } }", json!({}))
        .await;
    assert!(
        missing["case"].is_null(),
        "absent and out of scope look the same"
    );
    assert_eq!(
        refs(&app, &c.prof).await,
        vec![mine["reference"].as_str().unwrap().to_owned()]
    );
    let (code, _) = app
        .try_act(
            &c.prof,
            "withdrawCase",
            &theirs,
            r#"reason: "Niet van mij.""#,
        )
        .await;
    assert_eq!(code.as_deref(), Some("NOT_FOUND"));
    assert_eq!(
        app.case(&c.other_prof, &theirs["id"]).await["state"],
        "AT_PROGRAMME_BUREAU"
    );
}

async fn a_representative_of_another_area_cannot_pick_up(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let case = app.submit(&c.prof, "Doorstromen uit sociale huur").await;
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
    let (code, _) = app.try_act(&c.rep_elsewhere, "pickUpCase", &case, "").await;
    assert_eq!(
        code.as_deref(),
        Some("NOT_FOUND"),
        "the case is not in their areas, so they cannot see it"
    );
    assert!(app.case(&c.rep_elsewhere, &case["id"]).await.is_null());
    assert!(refs(&app, &c.rep_elsewhere).await.is_empty());
    let held = app.act(&c.rep, "pickUpCase", &case, "").await;
    assert_eq!(held["assignee"]["name"], "Rik Rijksvertegenwoordiger");
    // A colleague of the same area sees it but cannot act on it.
    let seen = app.case(&c.rep2, &case["id"]).await;
    assert_eq!(seen["availableActions"], json!([]));
    let (code, _) = app
        .try_act(
            &c.rep2,
            "resolveCase",
            &seen,
            r#"input: { outcome: INCIDENTAL_BREAKTHROUGH, explanation: "Maatwerk." }"#,
        )
        .await;
    assert_eq!(code.as_deref(), Some("FORBIDDEN"));
}

async fn national_roles_see_what_reached_them(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let local = app.submit(&c.prof, "Blijft lokaal").await;
    let national = app.submit(&c.prof, "Gaat naar Den Haag").await;
    let n = app.to_representative(&c, &national).await;
    app.act(
        &c.rep,
        "escalateCase",
        &n,
        r#"motivation: "Doorbraakoverleg.""#,
    )
    .await;
    assert_eq!(
        refs(&app, &c.secretariat).await,
        vec![national["reference"].as_str().unwrap().to_owned()]
    );
    assert!(app.case(&c.secretariat, &local["id"]).await.is_null());
    assert!(
        refs(&app, &c.analyst).await.is_empty(),
        "analysts read the register, not cases"
    );
    assert_eq!(refs(&app, &app.admin).await.len(), 2);
    assert_eq!(refs(&app, &c.pb).await.len(), 2);
}

both!(
    a_professional_sees_only_their_own_cases,
    a_representative_of_another_area_cannot_pick_up,
    national_roles_see_what_reached_them,
);

async fn administrators_manage_reference_data_and_tokens(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let add_area =
        "mutation($c: String!, $n: String!) { addFocusArea(code: $c, name: $n) { code name } }";
    let (code, _) = app
        .err(
            Some(&c.pb),
            add_area,
            json!({ "c": "HMS", "n": "Helmond Suytkade" }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    let added = app
        .ok(
            &app.admin,
            add_area,
            json!({ "c": "hms", "n": "Helmond Suytkade" }),
        )
        .await;
    assert_eq!(
        added["addFocusArea"],
        json!({ "code": "HMS", "name": "Helmond Suytkade" })
    );
    let (code, e) = app
        .err(
            Some(&app.admin),
            add_area,
            json!({ "c": "HMS", "n": "Nog eens" }),
        )
        .await;
    assert_eq!(
        (code.as_str(), e["extensions"]["field"].as_str()),
        ("VALIDATION", Some("code"))
    );
    let areas = app.ok(&c.prof, "{ focusAreas { code } }", json!({})).await;
    assert_eq!(areas["focusAreas"].as_array().unwrap().len(), 21);
    let add_ministry = "mutation { addMinistry(code: \"DEF\", name: \"Defensie\") { code providesRepresentative } }";
    let m = app.ok(&app.admin, add_ministry, json!({})).await;
    assert_eq!(
        m["addMinistry"],
        json!({ "code": "DEF", "providesRepresentative": false })
    );
    // A professional of the new area can submit there.
    let helmond = app
        .user("Hanna Helmond", "PROFESSIONAL", &["HMS"], None)
        .await;
    let mut v = crate::support::submit_vars("Zaak in het nieuwe gebied");
    v["i"]["focusArea"] = json!("HMS");
    v["i"]["rule"]["owningMinistry"] = json!("DEF");
    let case = app
        .ok(
            &helmond,
            "mutation($i: SubmitCaseInput!) { submitCase(input: $i) { reference } }",
            v,
        )
        .await;
    assert!(
        case["submitCase"]["reference"]
            .as_str()
            .unwrap()
            .starts_with("HMS-")
    );
    // A new token replaces the old one.
    let me = app.ok(&helmond, "{ me { id } }", json!({})).await;
    let issued = app
        .ok(
            &app.admin,
            "mutation($u: ID!) { issueToken(userId: $u) { token user { name } } }",
            json!({ "u": me["me"]["id"] }),
        )
        .await;
    let fresh = issued["issueToken"]["token"].as_str().unwrap();
    assert_ne!(fresh, helmond);
    let (status, _) = app.post(Some(&helmond), "{ me { id } }", json!({})).await;
    assert_eq!(status, 401, "the old token stops working");
    assert_eq!(
        app.ok(fresh, "{ me { name } }", json!({})).await["me"]["name"],
        "Hanna Helmond"
    );
}

both!(administrators_manage_reference_data_and_tokens);
