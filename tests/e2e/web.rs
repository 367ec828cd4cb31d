//! The web application: handler tests over HTTP that parse the HTML, and a
//! browser suite in Debian's Chromium that walks a case up the ladder
//! through the pages alone.

use serde_json::{Value, json};

use crate::both;
use crate::support::*;

/// Where the browser suite writes its screenshots (README names it).
pub const SCREENSHOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots");

/// Seeds an earlier answer about the rule the browser suite uses, so that
/// "misschien kan het al" has something to show.
async fn seed_precedent(app: &TestApp, c: &Cast, rule: &str) {
    let mut vars = submit_vars("Kostendelersnorm bij inwonende student");
    vars["i"]["rule"]["citation"] = json!(rule);
    let d = app
        .ok(
            &c.prof,
            &format!(
                "mutation($i: SubmitCaseInput!) {{ submitCase(input: $i) {{ {CASE_FIELDS} }} }}"
            ),
            vars,
        )
        .await;
    let case = d["submitCase"].clone();
    let case = app.act(&c.pb, "pickUpCase", &case, "").await;
    app.act(
        &c.pb,
        "resolveCase",
        &case,
        r#"input: { outcome: ALREADY_POSSIBLE, explanation: "Een studerend kind telt niet mee als kostendeler zolang het studiefinanciering krijgt." }"#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_carry_a_case_up_the_ladder_in_a_browser() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let c = cast(&app).await;
    let rule = "Participatiewet, artikel 22a (kostendelersnorm)";
    seed_precedent(&app, &c, rule).await;
    let now = app.engine.now();
    let fmt = |days: i64| {
        (now + chrono::TimeDelta::days(days))
            .format("%Y-%m-%dT14:00")
            .to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        json!({
            "base": app.base,
            "screenshots": SCREENSHOTS,
            "rule": rule,
            "allianceAt": fmt(7),
            "breakthroughAt": fmt(21),
            "effectiveFrom": (now + chrono::TimeDelta::days(90)).format("%Y-%m-%d").to_string(),
            "tokens": {
                "professional": c.prof,
                "programmeBureau": c.pb,
                "allianceSecretary": c.secretary,
                "nationalRepresentative": c.rep,
                "secretariat": c.secretariat,
                "analyst": c.analyst,
                "administrator": app.admin,
            },
        })
        .to_string(),
    )
    .unwrap();
    let out = tokio::process::Command::new("node")
        .arg("web.mjs")
        .arg(&config)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node"))
        .output()
        .await
        .expect("node is needed for the end-to-end tests");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let v: Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|_| panic!("{text}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["errors"], json!([]), "{v:#}");
    let probe = v["axeSelfCheck"].to_string();
    assert!(
        probe.contains("image-alt") && probe.contains("label"),
        "axe did not catch the planted violations: {probe}"
    );
    assert_eq!(v["violations"], json!([]), "axe found violations: {v:#}");
    assert_eq!(v["foreign"], json!([]), "requests left the machine: {v:#}");
    assert_eq!(
        v["overflow"],
        json!([]),
        "pages wider than the phone: {v:#}"
    );
    assert!(v["screenshots"].as_u64().unwrap() >= 30, "{v:#}");

    // What the pages did is what the engine holds.
    let id = v["caseId"].as_str().unwrap();
    let case = app.case(&c.prof, &json!(id)).await;
    assert_eq!(case["state"], "RESOLVED", "{case}");
    assert_eq!(
        case["resolution"]["outcome"], "STRUCTURAL_BREAKTHROUGH",
        "{case}"
    );
    assert_eq!(
        case["resolution"]["level"], "BREAKTHROUGH_MEETING",
        "{case}"
    );
    let roles: Vec<&str> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actorRole"].as_str().unwrap())
        .collect();
    for r in [
        "PROFESSIONAL",
        "PROGRAMME_BUREAU",
        "ALLIANCE_SECRETARY",
        "NATIONAL_REPRESENTATIVE",
        "BREAKTHROUGH_SECRETARIAT",
    ] {
        assert!(roles.contains(&r), "{r} in {roles:?}");
    }
    let js_off = app
        .case(&c.prof, &json!(v["jsOffCaseId"].as_str().unwrap()))
        .await;
    assert_eq!(js_off["state"], "AT_PROGRAMME_BUREAU", "{js_off}");
}

// ---------------------------------------------------------------- over HTTP

use std::collections::BTreeMap;

use scraper::{Html, Selector};

/// A browser without a browser: keeps cookies, follows no redirects, and
/// hands back parsed HTML.
pub struct Visitor {
    pub base: String,
    client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub html: Html,
    pub text: String,
}

impl Page {
    pub fn select(&self, css: &str) -> Vec<scraper::ElementRef<'_>> {
        let s = Selector::parse(css).unwrap_or_else(|e| panic!("{css}: {e:?}"));
        self.html.select(&s).collect()
    }
    pub fn one(&self, css: &str) -> scraper::ElementRef<'_> {
        self.select(css)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no {css} in {}", self.text))
    }
    pub fn has(&self, css: &str) -> bool {
        !self.select(css).is_empty()
    }
    pub fn text_of(&self, css: &str) -> String {
        self.one(css).text().collect::<String>()
    }
    pub fn location(&self) -> String {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
    /// The CSRF token of the page's first form.
    pub fn csrf(&self) -> String {
        self.one("input[name=csrf]")
            .value()
            .attr("value")
            .unwrap_or("")
            .to_owned()
    }
    /// The values of every `input[name=action]` on the page.
    pub fn offered_actions(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .select("input[name=action]")
            .iter()
            .filter_map(|e| e.value().attr("value").map(str::to_owned))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

impl Visitor {
    pub fn new(app: &TestApp) -> Visitor {
        Visitor {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, resp: reqwest::Response) -> Page {
        for v in resp.headers().get_all("set-cookie") {
            let s = v.to_str().unwrap();
            let (kv, attrs) = s.split_once(';').unwrap_or((s, ""));
            let (k, val) = kv.split_once('=').unwrap();
            let gone = attrs.contains("Max-Age=0")
                || attrs
                    .to_ascii_lowercase()
                    .contains("expires=thu, 01 jan 1970");
            if gone || val.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        Page {
            status,
            headers,
            html: Html::parse_document(&text),
            text,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let resp = self
            .client
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(resp).await
    }

    /// Posts a form as a browser on our own pages does (with `Origin`).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let origin = self.base.clone();
        self.post_from(path, fields, Some(&origin)).await
    }

    pub async fn post_from(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Page {
        let body: String = form_urlencoded_pairs(fields);
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let mut req = self
            .client
            .post(url)
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let resp = req.send().await.unwrap();
        self.read(resp).await
    }

    /// Signs in with an access code through the form; returns the answer.
    pub async fn sign_in(&mut self, token: &str) -> Page {
        let form = self.get("/inloggen").await;
        assert_eq!(form.status, 200, "{}", form.text);
        let csrf = form.csrf();
        self.post(
            "/inloggen",
            &[("csrf", &csrf), ("terug", "/"), ("token", token)],
        )
        .await
    }

    /// The CSRF token of a signed-in page.
    pub async fn csrf(&mut self) -> String {
        self.get("/toegankelijkheid").await.csrf()
    }
}

fn form_urlencoded_pairs(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub async fn signed_in(app: &TestApp, token: &str) -> Visitor {
    let mut v = Visitor::new(app);
    let r = v.sign_in(token).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.location(), "/");
    v
}

/// Every page of every role, by status: a page the role has (200), one it
/// may not use (403), or one it cannot see (404). Each answer is a whole
/// Dutch page with the application's header, one h1, a skip link, and the
/// strict policy.
async fn every_page_answers_every_role(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let case = app
        .submit(&c.prof, "Bijverdienen telt mee als gezinsinkomen")
        .await;
    let case = app.to_representative(&c, &case).await;
    let id = case["id"].as_str().unwrap().to_owned();
    let barrier = app
        .ok(&c.rep, "mutation($id: ID!, $v: Int!) { linkBarrier(id: $id, expectedVersion: $v, newBarrier: { citation: \"Participatiewet, artikel 31\", scope: NATIONAL, owningMinistry: \"SZW\" }) { version barrier { id } } }",
            json!({ "id": id, "v": case["version"] }))
        .await["linkBarrier"]["barrier"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let meeting = app
        .ok(&c.secretary, "mutation($at: DateTime!) { scheduleMeeting(level: ALLIANCE, focusArea: \"ZDO\", scheduledAt: $at) { id } }",
            json!({ "at": (app.engine.now() + chrono::TimeDelta::days(3)).to_rfc3339() }))
        .await["scheduleMeeting"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pages: Vec<String> = vec![
        "/".into(),
        "/zaken".into(),
        "/zaken?filter=te-laat&sorteer=deadline".into(),
        "/zaken/nieuw".into(),
        format!("/zaken/{id}"),
        "/vergaderingen".into(),
        format!("/vergaderingen/{meeting}"),
        format!("/vergaderingen/{meeting}/agenda"),
        "/knelpunten".into(),
        format!("/knelpunten/{barrier}"),
        "/eerdere-antwoorden?q=participatiewet".into(),
        "/statistiek".into(),
        "/statistiek/rapport".into(),
        "/vastlopers".into(),
        "/beheer".into(),
        "/toegankelijkheid".into(),
    ];
    // What each role gets, page by page in the order above: o = 200,
    // f = 403, n = 404 (missing or out of scope, which read the same).
    let roles: [(&str, &str); 8] = [
        ("professional", &c.prof),
        ("programme bureau", &c.pb),
        ("alliance secretary", &c.secretary),
        ("national representative", &c.rep),
        ("secretariat", &c.secretariat),
        ("analyst", &c.analyst),
        ("other area's representative", &c.rep_elsewhere),
        ("administrator", &app.admin),
    ];
    let mut seen = String::new();
    for (name, token) in roles {
        let mut v = signed_in(&app, token).await;
        let mut line = format!("{name:28}");
        for path in &pages {
            let p = v.get(path).await;
            line.push(match p.status {
                200 => 'o',
                403 => 'f',
                404 => 'n',
                s => panic!("{name} {path}: {s}\n{}", p.text),
            });
            assert_eq!(p.one("html").value().attr("lang"), Some("nl"), "{path}");
            assert_eq!(p.select("h1").len(), 1, "{name} {path}: one h1\n{}", p.text);
            assert!(
                p.has("a.skip[href='#inhoud']") && p.has("main#inhoud") && p.has("header.site"),
                "{path}"
            );
            assert!(
                p.has("header .who form[action='/uitloggen'] input[name=csrf]"),
                "{name} {path}: sign-out form"
            );
            let csp = p
                .headers
                .get("content-security-policy")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("");
            assert!(
                csp.contains("default-src 'none'") && csp.contains("form-action 'self'"),
                "{path}: {csp}"
            );
            assert_eq!(
                p.headers.get("cache-control").and_then(|h| h.to_str().ok()),
                Some("no-store"),
                "{path}"
            );
            for word in [
                "panicked",
                "Error:",
                "stack backtrace",
                "must be",
                "not found",
            ] {
                assert!(!p.text.contains(word), "{name} {path} shows {word:?}");
            }
        }
        seen.push_str(&line);
        seen.push('\n');
    }
    assert_eq!(seen, EXPECTED, "\n{seen}");
}

const EXPECTED: &str = "\
professional                oooooonnoooffofo
programme bureau            ooofoooooooffofo
alliance secretary          ooofoooooooffofo
national representative     ooofoooooooooofo
secretariat                 ooofnonnoooooofo
analyst                     ooofnonnoooooofo
other area's representative ooofnonnoooooofo
administrator               ooofoooooooooooo
";

both!(every_page_answers_every_role);

/// Sign-in with the access code, the session cookie's attributes, a
/// session that survives a restart, expiry after two idle hours, sign-out,
/// and a deactivated user losing their session at once.
async fn sessions_live_in_the_database(db: Db) {
    let mut app = TestApp::spawn(db).await;
    let c = cast(&app).await;

    // A wrong code: the error is next to the field, and no session is made.
    let mut v = Visitor::new(&app);
    let form = v.get("/inloggen").await;
    let csrf = form.csrf();
    let wrong = v
        .post("/inloggen", &[("csrf", &csrf), ("token", "dbk_wrong")])
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(
        wrong.one("#veld-token").value().attr("aria-invalid"),
        Some("true")
    );
    assert!(wrong.text_of("#veld-token-fout").contains("klopt niet"));
    assert!(!v.cookies.contains_key("doorbraak_sessie"));

    // Going to a page first comes back to it after signing in.
    let mut v = Visitor::new(&app);
    let go = v.get("/zaken?filter=mijn").await;
    assert_eq!(go.status, 303);
    assert_eq!(go.location(), "/inloggen?terug=%2Fzaken%3Ffilter%3Dmijn");
    let form = v.get(&go.location()).await;
    assert_eq!(
        form.one("input[name=terug]").value().attr("value"),
        Some("/zaken?filter=mijn")
    );
    let csrf = form.csrf();
    let ok = v
        .post(
            "/inloggen",
            &[
                ("csrf", &csrf),
                ("terug", "/zaken?filter=mijn"),
                ("token", &c.pb),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location(), "/zaken?filter=mijn");
    let set: Vec<&str> = ok
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|h| h.to_str().unwrap())
        .collect();
    let session = set
        .iter()
        .find(|s| s.starts_with("doorbraak_sessie="))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(attr), "{session}");
    }
    assert!(!session.contains("Secure"), "plain http: {session}");
    // A return address on another site is not followed.
    let mut other = Visitor::new(&app);
    let csrf = other.get("/inloggen").await.csrf();
    let r = other
        .post(
            "/inloggen",
            &[
                ("csrf", &csrf),
                ("terug", "//evil.example/"),
                ("token", &c.pb),
            ],
        )
        .await;
    assert_eq!(r.location(), "/");

    // The session works on a second instance over the same database.
    let second = {
        let engine = open_engine(&app.db_url, app.clock.clone()).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        doorbraak_server::Server::start(
            listener,
            doorbraak_server::app(engine, &TestApp::relaxed()),
        )
        .unwrap()
    };
    v.base = format!("http://{}", second.addr);
    let there = v.get("/zaken?filter=mijn").await;
    assert_eq!(there.status, 200, "{}", there.text);
    assert!(there.text_of("header .who").contains("Bram Bureau"));
    second
        .stop(std::time::Duration::from_secs(5))
        .await
        .unwrap();

    // The session survives a restart of the server.
    app.restart().await;
    v.base = app.base.clone();
    assert_eq!(v.get("/").await.status, 200);

    // Two idle hours end it.
    app.clock.advance(chrono::TimeDelta::minutes(119));
    assert_eq!(
        v.get("/").await.status,
        200,
        "still within two hours of the last request"
    );
    app.clock.advance(chrono::TimeDelta::minutes(119));
    assert_eq!(
        v.get("/").await.status,
        200,
        "the last request moved the expiry on"
    );
    app.clock.advance(chrono::TimeDelta::minutes(121));
    let gone = v.get("/").await;
    assert_eq!((gone.status, gone.location().as_str()), (303, "/inloggen"));

    // However busy, a session ends twelve hours after sign-in.
    let mut busy = signed_in(&app, &c.pb).await;
    for _ in 0..7 {
        app.clock.advance(chrono::TimeDelta::minutes(100));
        assert_eq!(busy.get("/").await.status, 200, "within twelve hours");
    }
    app.clock.advance(chrono::TimeDelta::minutes(100));
    assert_eq!(busy.get("/").await.status, 303, "after twelve hours");

    // Signing out ends the session: the old cookie no longer works.
    let mut v = signed_in(&app, &c.prof).await;
    let cookie = v.cookies["doorbraak_sessie"].clone();
    let csrf = v.csrf().await;
    let out = v.post("/uitloggen", &[("csrf", &csrf)]).await;
    assert_eq!(out.location(), "/inloggen?uitgelogd=1");
    assert!(!v.cookies.contains_key("doorbraak_sessie"));
    v.cookies.insert("doorbraak_sessie".into(), cookie);
    assert_eq!(v.get("/").await.status, 303);

    // A deactivated user's session ends at once.
    let mut prof = signed_in(&app, &c.other_prof).await;
    let me = app.ok(&c.other_prof, "{ me { id } }", json!({})).await["me"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut admin = signed_in(&app, &app.admin).await;
    let csrf = admin.csrf().await;
    let r = admin
        .post(
            &format!("/beheer/gebruikers/{me}/actief"),
            &[("csrf", &csrf), ("active", "false")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(prof.get("/").await.status, 303);
    let (code, _) = app
        .err(Some(&c.other_prof), "{ me { id } }", json!({}))
        .await;
    assert_eq!(code, "UNAUTHENTICATED");
    // The session cookie never authenticates the API.
    let resp = reqwest::Client::new()
        .post(format!("{}/graphql", app.base))
        .header(
            "cookie",
            format!("doorbraak_sessie={}", admin.cookies["doorbraak_sessie"]),
        )
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body}"
    );
}

/// Behind TLS the cookie is `Secure`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cookie_is_secure_behind_tls() {
    let mut options = TestApp::relaxed();
    options.web = doorbraak_server::WebOptions::new("https://doorbraak.example.nl/");
    let app = TestApp::spawn_with(Db::Sqlite, options).await;
    let mut v = Visitor::new(&app);
    let form = v.get("/inloggen").await;
    let csrf_cookie = form
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csrf_cookie.contains("; Secure"), "{csrf_cookie}");
    let csrf = form.csrf();
    let admin = app.admin.clone();
    let ok = v
        .post_from(
            "/inloggen",
            &[("csrf", &csrf), ("token", &admin)],
            Some("https://doorbraak.example.nl"),
        )
        .await;
    let session = ok
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|h| h.to_str().unwrap().to_owned())
        .find(|s| s.starts_with("doorbraak_sessie="))
        .unwrap();
    assert!(session.contains("; Secure"), "{session}");
}

/// A form without the CSRF token, from another origin, or not a form at
/// all is refused, and nothing changes.
async fn forged_posts_change_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let case = app
        .submit(&c.prof, "Bijverdienen telt mee als gezinsinkomen")
        .await;
    let id = case["id"].as_str().unwrap();
    let mut v = signed_in(&app, &c.pb).await;
    let path = format!("/zaken/{id}/actie");
    let csrf = v.csrf().await;
    let no_token = v
        .post(&path, &[("action", "PICK_UP"), ("version", "1")])
        .await;
    assert_eq!(no_token.status, 403);
    assert!(no_token.text_of("h1").contains("verlopen"));
    let wrong_token = v
        .post(
            &path,
            &[
                ("csrf", "x".repeat(43).as_str()),
                ("action", "PICK_UP"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(wrong_token.status, 403);
    let elsewhere = v
        .post_from(
            &path,
            &[("csrf", &csrf), ("action", "PICK_UP"), ("version", "1")],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(elsewhere.status, 403);
    assert!(elsewhere.text_of("h1").contains("niet van Doorbraak"));
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .header(
            "cookie",
            format!("doorbraak_sessie={}", v.cookies["doorbraak_sessie"]),
        )
        .header("content-type", "application/json")
        .body(format!(
            "{{\"csrf\":\"{csrf}\",\"action\":\"PICK_UP\",\"version\":1}}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 415);
    // The sign-in form is protected too.
    let mut anon = Visitor::new(&app);
    let r = anon.post("/inloggen", &[("token", &c.pb)]).await;
    assert_eq!(r.status, 403);
    assert!(!anon.cookies.contains_key("doorbraak_sessie"));
    let now = app.case(&c.pb, &json!(id)).await;
    assert_eq!(
        (now["version"].as_i64(), now["state"].as_str()),
        (Some(1), Some("AT_PROGRAMME_BUREAU"))
    );
    // With the token and from our own pages it works.
    let ok = v
        .post(
            &path,
            &[("csrf", &csrf), ("action", "PICK_UP"), ("version", "1")],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    assert_eq!(app.case(&c.pb, &json!(id)).await["version"], 2);
}

/// Each role's case page offers exactly the actions `availableActions`
/// gives that role, each as a form with the fields it needs.
async fn the_case_page_offers_exactly_the_available_actions(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let case = app
        .submit(&c.prof, "Bijverdienen telt mee als gezinsinkomen")
        .await;
    let picked = app.act(&c.pb, "pickUpCase", &case, "").await;
    let id = picked["id"].as_str().unwrap().to_owned();
    for token in [
        &c.prof,
        &c.other_prof,
        &c.pb,
        &c.secretary,
        &c.rep,
        &c.secretariat,
        &c.analyst,
        &app.admin,
    ] {
        let api = app
            .post(
                Some(token),
                "query($id: ID) { case(id: $id) { availableActions } }",
                json!({ "id": id }),
            )
            .await
            .1;
        let mut want: Vec<String> = api["data"]["case"]["availableActions"]
            .as_array()
            .map(|a| a.iter().map(|x| x.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        want.sort();
        let mut v = signed_in(&app, token).await;
        let page = v.get(&format!("/zaken/{id}")).await;
        if api["data"]["case"].is_null() {
            assert_eq!(page.status, 404);
            continue;
        }
        assert_eq!(page.status, 200);
        assert_eq!(page.offered_actions(), want, "{}", page.text);
    }
    // The holder's page: the forms carry the fields each action needs.
    let mut pb = signed_in(&app, &c.pb).await;
    let page = pb.get(&format!("/zaken/{id}")).await;
    for (action, field) in [
        ("ESCALATE", "motivation"),
        ("REQUEST_INFORMATION", "question"),
        ("REJECT", "reason"),
        ("RESOLVE", "explanation"),
        ("MERGE", "into"),
    ] {
        let css = format!("form:has(input[name=action][value={action}]) [name={field}]");
        assert!(page.has(&css), "{css}");
    }
    for field in [
        "outcome",
        "fundsUnlocked",
        "effectiveFrom",
        "experimentEnds",
        "evaluationDate",
    ] {
        assert!(
            page.has(&format!("form:has(input[value=RESOLVE]) [name={field}]")),
            "{field}"
        );
    }
    // The ladder shows four levels, the first one current.
    assert_eq!(page.select("ol.ladder li").len(), 4);
    assert!(
        page.text_of("ol.ladder li[aria-current=step]")
            .contains("Programmabureau")
    );
    // Linking to a barrier is offered to the programme bureau.
    assert!(page.has(&format!("form[action='/zaken/{id}/knelpunt']")));
}

/// The submission form: every error next to its field at once, nothing
/// typed lost, Dutch amounts read exactly, and the BSN refusal explains
/// what to do instead.
async fn submission_errors_stay_next_to_their_fields(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let mut v = signed_in(&app, &c.prof).await;
    let step1 = v.get("/zaken/nieuw").await;
    assert!(step1.has("form[method=get] #veld-regel"));
    let step2 = v.get("/zaken/nieuw?regel=Participatiewet").await;
    assert_eq!(
        step2.one("#veld-rule-citation").value().attr("value"),
        Some("Participatiewet")
    );
    let csrf = step2.csrf();
    let bad = v
        .post(
            "/zaken/nieuw",
            &[
                ("csrf", &csrf),
                ("title", "Kort"),
                ("description", "te kort"),
                ("rule.citation", "Participatiewet, artikel 31"),
                ("estimatedCost", "12.50"),
                ("householdsAffected", "twaalf"),
                ("focusArea", "ZDO"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    let listed: Vec<String> = bad
        .select(".error-summary li a")
        .iter()
        .map(|a| a.value().attr("href").unwrap().to_owned())
        .collect();
    for field in [
        "title",
        "description",
        "rule-scope",
        "desiredAction",
        "domains",
        "householdsAffected",
        "estimatedCost",
    ] {
        assert!(
            listed.contains(&format!("#veld-{field}")),
            "{field} in {listed:?}"
        );
    }
    for field in [
        "title",
        "description",
        "desiredAction",
        "householdsAffected",
        "estimatedCost",
    ] {
        let el = bad.one(&format!("#veld-{field}"));
        assert_eq!(el.value().attr("aria-invalid"), Some("true"), "{field}");
        assert!(
            el.value()
                .attr("aria-describedby")
                .unwrap_or("")
                .contains(&format!("veld-{field}-fout")),
            "{field}"
        );
        assert!(bad.has(&format!("#veld-{field}-fout")), "{field}");
    }
    assert_eq!(
        bad.one("#veld-rule-citation").value().attr("value"),
        Some("Participatiewet, artikel 31")
    );
    assert_eq!(
        bad.one("#veld-estimatedCost").value().attr("value"),
        Some("12.50")
    );
    assert!(
        bad.text_of("#veld-estimatedCost-fout")
            .contains("12.500,50")
    );
    assert!(
        bad.text_of("#veld-title-fout")
            .contains("ten minste 5 tekens")
    );

    let fields = |description: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![
            ("title", "Bijverdienen telt mee als gezinsinkomen"),
            ("description", description),
            ("rule.citation", "Participatiewet, artikel 31"),
            ("rule.scope", "NATIONAL"),
            ("rule.owningMinistry", "SZW"),
            (
                "desiredAction",
                "De bijverdienste van de jongere buiten beschouwing laten.",
            ),
            ("focusArea", "ZDO"),
            ("domains", "WORK_INCOME"),
            ("domains", "YOUTH"),
            ("householdsAffected", "1.200"),
            ("estimatedCost", "12.500,50"),
            ("urgency", "URGENT"),
        ]
    };
    let mut with_bsn = fields(
        "Een moeder, BSN 1234.56.782, verliest bijstand zodra haar zoon van zestien gaat werken.",
    );
    with_bsn.insert(0, ("csrf", &csrf));
    let refused = v.post("/zaken/nieuw", &with_bsn).await;
    assert_eq!(refused.status, 422);
    let msg = refused.text_of("#veld-description-fout");
    assert!(
        msg.contains("burgerservicenummer") && msg.contains("zonder BSN"),
        "{msg}"
    );
    assert_eq!(
        refused.text_of("#veld-description"),
        "Een moeder, BSN 1234.56.782, verliest bijstand zodra haar zoon van zestien gaat werken."
    );
    assert!(refused.has("#domein-YOUTH[checked]") && refused.has("#veld-urgency[checked]"));
    let before = app
        .ok(&c.prof, "{ cases { edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(before["cases"]["edges"], json!([]), "nothing was stored");

    let mut good =
        fields("Een moeder verliest bijstand zodra haar zoon van zestien een bijbaan neemt.");
    good.insert(0, ("csrf", &csrf));
    let done = v.post("/zaken/nieuw", &good).await;
    assert_eq!(done.status, 303, "{}", done.text);
    let id = done
        .location()
        .trim_start_matches("/zaken/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let stored = app
        .ok(&c.prof, "query($id: ID) { case(id: $id) { estimatedCost householdsAffected urgency domains rule { owningMinistry { code } } } }", json!({ "id": id }))
        .await;
    assert_eq!(
        stored["case"],
        json!({ "estimatedCost": "12500.50", "householdsAffected": 1200, "urgency": "URGENT",
        "domains": ["WORK_INCOME", "YOUTH"], "rule": { "owningMinistry": { "code": "SZW" } } })
    );
    let page = v.get(&done.location()).await;
    assert!(page.text_of(".notice").contains("ingediend"));
    assert!(page.text.contains("€ 12.500,50"), "Dutch euros");
    assert!(page.text.contains("2 maart 2026"), "Dutch dates");
    // "Mijn zaken" lists it with where it is and who holds it.
    let mine = v.get("/zaken").await;
    assert_eq!(
        mine.select("main table tbody tr .mini-ladder .rung").len(),
        4,
        "the ladder, drawn"
    );
    assert_eq!(
        mine.select("main table tbody tr .mini-ladder .rung.here")
            .len(),
        1
    );
    let row = mine.one("main table tbody tr").text().collect::<String>();
    assert!(
        row.contains("Bij het programmabureau") && row.contains("Programmabureau"),
        "{row}"
    );
}

/// A version conflict shows the case as it is now and keeps what was typed;
/// a refused action gives its reason in Dutch.
async fn conflicts_and_refusals_are_explained(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let case = app
        .submit(&c.prof, "Bijverdienen telt mee als gezinsinkomen")
        .await;
    let picked = app.act(&c.pb, "pickUpCase", &case, "").await;
    let id = picked["id"].as_str().unwrap().to_owned();
    let mut v = signed_in(&app, &c.pb).await;
    let page = v.get(&format!("/zaken/{id}")).await;
    let csrf = page.csrf();
    // Meanwhile the case moves on through the API.
    app.act(
        &c.pb,
        "requestInformation",
        &picked,
        r#"question: "Hoe oud is de jongere precies?""#,
    )
    .await;
    let stale = v
        .post(
            &format!("/zaken/{id}/actie"),
            &[
                ("csrf", &csrf),
                ("action", "ESCALATE"),
                ("version", "2"),
                ("motivation", "Graag naar de alliantie hiermee."),
            ],
        )
        .await;
    assert_eq!(stale.status, 409);
    assert!(
        stale
            .text_of(".error-summary")
            .contains("intussen gewijzigd")
    );
    assert!(
        stale.text.contains("Wacht op antwoord van de indiener"),
        "the case as it is now"
    );
    let now = app.case(&c.pb, &json!(id)).await;
    assert_eq!(now["version"], 3);

    // A refused action: in Dutch, with the page as it is.
    let mut prof = signed_in(&app, &c.other_prof).await;
    let csrf = prof.csrf().await;
    let r = prof
        .post(
            &format!("/zaken/{id}/actie"),
            &[("csrf", &csrf), ("action", "PICK_UP"), ("version", "3")],
        )
        .await;
    assert_eq!(r.status, 404, "another professional cannot even see it");
    let mut sub = signed_in(&app, &c.prof).await;
    let csrf = sub.csrf().await;
    let r = sub
        .post(
            &format!("/zaken/{id}/actie"),
            &[("csrf", &csrf), ("action", "PICK_UP"), ("version", "3")],
        )
        .await;
    assert_eq!(r.status, 403);
    let why = r.text_of(".error-summary");
    assert!(
        why.contains("Deze stap kan niet") && why.contains("mag"),
        "{why}"
    );
    assert!(
        !why.contains("cannot") && !why.contains("only"),
        "no English: {why}"
    );
    // Answering the question works from the page.
    let r = sub
        .post(
            &format!("/zaken/{id}/actie"),
            &[
                ("csrf", &csrf),
                ("action", "PROVIDE_INFORMATION"),
                ("version", "3"),
                ("answer", "Hij is zestien."),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        app.case(&c.pb, &json!(id)).await["state"],
        "AT_PROGRAMME_BUREAU"
    );
}

/// Error pages share the application's look and show nothing internal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_pages_share_the_look() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let mut v = signed_in(&app, &app.admin).await;
    for path in [
        "/bestaat-niet",
        "/zaken/999999",
        "/zaken/abc",
        "/knelpunten/0",
        "/vergaderingen/x",
        "/beheer/gebruikers/424242",
    ] {
        let p = v.get(path).await;
        assert_eq!(p.status, 404, "{path}");
        assert!(p.has("header.site") && p.has("footer.site"), "{path}");
        assert_eq!(p.text_of("h1"), "Deze pagina bestaat niet");
        assert!(p.headers.get("content-security-policy").is_some());
    }
    let css = v.get("/static/app.css").await;
    assert_eq!(
        css.headers.get("content-type").unwrap(),
        "text/css; charset=utf-8"
    );
    // Before sign-in, a page sends to the sign-in page.
    let mut anon = Visitor::new(&app);
    let r = anon.get("/statistiek").await;
    assert_eq!(
        (r.status, r.location().as_str()),
        (303, "/inloggen?terug=%2Fstatistiek")
    );
    assert_eq!(anon.get("/").await.location(), "/inloggen");
}

/// The administrator's pages: create a user (errors in Dutch next to the
/// fields), see the code once, edit name, role, areas and e-mail, and
/// issue a new code that replaces the old one.
async fn administrators_manage_users_on_the_pages(db: Db) {
    let app = TestApp::spawn(db).await;
    let mut v = signed_in(&app, &app.admin).await;
    let csrf = v.csrf().await;
    let bad = v
        .post(
            "/beheer/gebruikers",
            &[
                ("csrf", &csrf),
                ("name", "Yara"),
                ("role", "ALLIANCE_SECRETARY"),
                ("areas", "ZDO"),
                ("email", "geen-adres"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.text_of(".error-summary").contains("E-mailadres"),
        "{}",
        bad.text_of(".error-summary")
    );
    assert_eq!(
        bad.one("#veld-email").value().attr("value"),
        Some("geen-adres")
    );
    let made = v
        .post(
            "/beheer/gebruikers",
            &[
                ("csrf", &csrf),
                ("name", "Yara Youthworker"),
                ("role", "PROFESSIONAL"),
                ("areas", "ZDO"),
                ("email", "Yara@Jeugd.Example"),
            ],
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let code = made.text_of(".code code");
    assert!(code.starts_with("dbk_"));
    assert_eq!(
        app.ok(&code, "{ me { name email areas { code } } }", json!({}))
            .await["me"],
        json!({ "name": "Yara Youthworker", "email": "yara@jeugd.example", "areas": [{ "code": "ZDO" }] })
    );
    let user_link = made
        .one("main a[href^='/beheer/gebruikers/']")
        .value()
        .attr("href")
        .unwrap()
        .to_owned();
    let page = v.get(&user_link).await;
    assert_eq!(
        page.one("#veld-email").value().attr("value"),
        Some("yara@jeugd.example")
    );
    assert!(page.has("#gebied-ZDO[checked]"));
    let changed = v
        .post(
            &user_link,
            &[
                ("csrf", &csrf),
                ("name", "Yara de Vries"),
                ("role", "PROFESSIONAL"),
                ("areas", "ZDO"),
                ("areas", "RTZ"),
                ("email", "yara@school.example"),
            ],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.text);
    assert_eq!(
        app.ok(&code, "{ me { name email areas { code } } }", json!({}))
            .await["me"],
        json!({ "name": "Yara de Vries", "email": "yara@school.example", "areas": [{ "code": "RTZ" }, { "code": "ZDO" }] })
    );
    // Another user may not take the same address, in any case.
    let taken = v
        .post(
            "/beheer/gebruikers",
            &[
                ("csrf", &csrf),
                ("name", "Iemand Anders"),
                ("role", "PROFESSIONAL"),
                ("areas", "ZDO"),
                ("email", "YARA@school.example"),
            ],
        )
        .await;
    assert_eq!(taken.status, 422);
    assert!(
        taken
            .text_of("#veld-email-fout")
            .contains("andere gebruiker")
    );
    let fresh = v
        .post(&format!("{user_link}/code"), &[("csrf", &csrf)])
        .await;
    let new_code = fresh.text_of(".code code");
    assert_ne!(new_code, code);
    let (err, _) = app.err(Some(&code), "{ me { id } }", json!({})).await;
    assert_eq!(err, "UNAUTHENTICATED");
    // Service norms.
    let norm = v
        .post(
            "/beheer/normen",
            &[("csrf", &csrf), ("level", "ALLIANCE"), ("days", "400")],
        )
        .await;
    assert_eq!(norm.status, 422);
    let norm = v
        .post(
            "/beheer/normen",
            &[
                ("csrf", &csrf),
                ("level", "ALLIANCE"),
                ("days", "21"),
                ("auto", "1"),
            ],
        )
        .await;
    assert_eq!(norm.status, 303);
    assert_eq!(app.engine.policy().norm_days[1], 21);
    // Focus areas and ministries.
    let area = v
        .post(
            "/beheer/gebieden",
            &[("csrf", &csrf), ("code", "wst"), ("name", "Westwijk")],
        )
        .await;
    assert_eq!(area.status, 303, "{}", area.text);
    assert!(app.engine.focus_area("WST").is_some());
    let again = v
        .post(
            "/beheer/gebieden",
            &[("csrf", &csrf), ("code", "WST"), ("name", "Westwijk")],
        )
        .await;
    assert_eq!(again.status, 422);
    assert!(again.text_of("#gebied-code-fout").contains("al in gebruik"));
    let ministry = v
        .post(
            "/beheer/ministeries",
            &[
                ("csrf", &csrf),
                ("code", "XYZ"),
                ("name", "Ministerie van Proeven"),
                ("representative", "1"),
            ],
        )
        .await;
    assert_eq!(ministry.status, 303, "{}", ministry.text);
    assert!(
        app.engine
            .ministry("XYZ")
            .is_some_and(|m| m.provides_representative)
    );
}

both!(
    sessions_live_in_the_database,
    forged_posts_change_nothing,
    the_case_page_offers_exactly_the_available_actions,
    submission_errors_stay_next_to_their_fields,
    conflicts_and_refusals_are_explained,
    administrators_manage_users_on_the_pages,
);

/// Meetings on the pages: only the one who runs them gets the forms; a
/// date that cannot be read is an error next to its field; the agenda
/// lists the waiting case. The statistics download works with the session,
/// the API's export does not.
async fn meetings_and_statistics_on_the_pages(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let case = app
        .submit(&c.prof, "Bijverdienen telt mee als gezinsinkomen")
        .await;
    let case = app.act(&c.pb, "pickUpCase", &case, "").await;
    app.act(
        &c.pb,
        "escalateCase",
        &case,
        r#"motivation: "Dit moet de alliantie besluiten.""#,
    )
    .await;
    let reference = case["reference"].as_str().unwrap().to_owned();

    let mut pb = signed_in(&app, &c.pb).await;
    let list = pb.get("/vergaderingen").await;
    assert!(
        !list.has("form[action='/vergaderingen']"),
        "the programme bureau does not schedule"
    );
    let mut sec = signed_in(&app, &c.secretary).await;
    let list = sec.get("/vergaderingen").await;
    assert_eq!(
        list.one("#veld-soort option[selected]")
            .value()
            .attr("value"),
        Some("ALLIANCE:ZDO")
    );
    let csrf = list.csrf();
    let bad = sec
        .post(
            "/vergaderingen",
            &[
                ("csrf", &csrf),
                ("soort", "ALLIANCE:ZDO"),
                ("scheduledAt", "volgende week"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        bad.one("#veld-scheduledAt").value().attr("aria-invalid"),
        Some("true")
    );
    let past = sec
        .post(
            "/vergaderingen",
            &[
                ("csrf", &csrf),
                ("soort", "ALLIANCE:ZDO"),
                ("scheduledAt", "2020-01-01T10:00"),
            ],
        )
        .await;
    assert_eq!(past.status, 422);
    assert!(past.text_of("#veld-scheduledAt-fout").contains("toekomst"));
    let at = (app.engine.now() + chrono::TimeDelta::days(5))
        .format("%Y-%m-%dT10:30")
        .to_string();
    let made = sec
        .post(
            "/vergaderingen",
            &[
                ("csrf", &csrf),
                ("soort", "ALLIANCE:ZDO"),
                ("scheduledAt", &at),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.text);
    let meeting = made.location().split('?').next().unwrap().to_owned();
    let page = sec.get(&meeting).await;
    assert!(
        page.text_of("h1").contains("10:30"),
        "Amsterdam time: {}",
        page.text_of("h1")
    );
    assert!(page.text_of("ol.agenda").contains(&reference));
    assert!(page.has("ol.agenda form input[name=action][value=ESCALATE]"));
    assert!(page.has(&format!("form[action='{meeting}/sluiten']")));
    let pb_view = pb.get(&meeting).await;
    assert!(
        !pb_view.has(&format!("form[action='{meeting}/sluiten']")),
        "the programme bureau reads, does not run"
    );
    let closed = sec
        .post(&format!("{meeting}/sluiten"), &[("csrf", &csrf)])
        .await;
    assert_eq!(closed.status, 303);
    let again = sec
        .post(&format!("{meeting}/sluiten"), &[("csrf", &csrf)])
        .await;
    assert_eq!(again.status, 409);
    assert!(again.text_of(".error-summary").contains("al gesloten"));

    // Statistics: the analyst's own ministry, with charts and their tables.
    let mut analyst = signed_in(&app, &c.analyst).await;
    let stats = analyst
        .get("/statistiek?van=2026-01-01&tot=2026-12-31")
        .await;
    assert_eq!(stats.status, 200);
    assert!(stats.text_of("h1").contains("Sociale Zaken"));
    assert_eq!(stats.select("figure.chart").len(), 3);
    let bad_date = analyst.get("/statistiek?van=gisteren").await;
    assert_eq!(bad_date.status, 422);
    let download = analyst.get("/statistiek/knelpunten.csv").await;
    assert_eq!(download.status, 200);
    assert_eq!(
        download.headers.get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(
        download
            .text
            .trim_start_matches('\u{feff}')
            .starts_with("id;citation;")
    );
    let export = reqwest::Client::new()
        .get(format!("{}/export/barriers.csv", app.base))
        .header(
            "cookie",
            format!("doorbraak_sessie={}", analyst.cookies["doorbraak_sessie"]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        export.status().as_u16(),
        401,
        "the session never authenticates /export"
    );
}

/// The vastlopers overview lists an overdue case with how late it is, its
/// level and who holds it, per area; a professional sees only their own.
async fn the_vastlopers_show_overdue_cases(db: Db) {
    let app = TestApp::spawn(db).await;
    let c = cast(&app).await;
    let late = app
        .submit(&c.prof, "Bijverdienen telt mee als gezinsinkomen")
        .await;
    app.submit(&c.other_prof, "Een andere zaak van een ander")
        .await;
    app.advance_days(30);
    let mut pb = signed_in(&app, &c.pb).await;
    let page = pb.get("/vastlopers").await;
    let row = page
        .select("section table tbody tr")
        .into_iter()
        .map(|r| r.text().collect::<Vec<_>>().join("|"))
        .find(|t| t.contains(late["reference"].as_str().unwrap()))
        .unwrap_or_else(|| panic!("{}", page.text));
    assert!(row.contains("Programmabureau"), "{row}");
    let days: i64 = row.rsplit('|').next().unwrap().trim().parse().unwrap();
    assert!(days >= 15, "{row}");
    assert!(page.text_of("h2#gebied-ZDO").contains("Zaandam"));
    assert!(page.text.contains("Totaal"));
    let mut prof = signed_in(&app, &c.prof).await;
    let own = prof.get("/vastlopers").await;
    assert_eq!(
        own.select("section[aria-labelledby^=gebied-] tbody tr")
            .len(),
        1,
        "only their own case"
    );
}

both!(
    meetings_and_statistics_on_the_pages,
    the_vastlopers_show_overdue_cases
);
