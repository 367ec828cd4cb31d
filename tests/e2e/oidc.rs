//! Signing in through an OpenID provider (npm `oidc-provider`, started
//! here): the code flow with PKCE over HTTP with both ways of client
//! authentication, linking by verified e-mail and then by (issuer, sub),
//! someone unknown, replayed state, signing out at the provider, JWT access
//! tokens for the API (and the ones refused), and a rotation of the
//! provider's keys.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;

use crate::support::*;
use crate::web::Visitor;

struct Idp {
    port: u16,
    dir: tempfile::TempDir,
    child: tokio::process::Child,
}

impl Idp {
    async fn start(
        port: u16,
        app_bases: &[String],
        kid: &str,
        dir: Option<tempfile::TempDir>,
    ) -> Idp {
        let dir = dir.unwrap_or_else(|| tempfile::tempdir().unwrap());
        let mut child = tokio::process::Command::new("node")
            .arg("idp.mjs")
            .arg(port.to_string())
            .arg(
                app_bases
                    .iter()
                    .map(|b| format!("{b}/inloggen/oidc/callback"))
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .arg(
                app_bases
                    .iter()
                    .map(|b| format!("{b}/inloggen?uitgelogd=1"))
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .arg(dir.path())
            .arg(kid)
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node is needed for the end-to-end tests");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the provider starts")
            .unwrap();
        assert_eq!(first.as_deref(), Some("ready"));
        // The provider keeps writing notices; keep reading them, or it dies
        // of a broken pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Idp { port, dir, child }
    }

    fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn stop(mut self) -> tempfile::TempDir {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
        self.dir
    }

    /// A JWT signed with the provider's current key.
    async fn mint(&self, claims: Value) -> String {
        let url = format!(
            "{}/test/mint?claims={}",
            self.issuer(),
            urlencode(&claims.to_string())
        );
        reqwest::get(url).await.unwrap().text().await.unwrap()
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Follows redirects by hand (keeping both sites' cookies) until the
/// provider shows a form or the flow comes back to the app.
async fn follow(v: &mut Visitor, mut url: String) -> (String, crate::web::Page) {
    for _ in 0..12 {
        let p = v.get(&url).await;
        VISITED.with(|seen| seen.borrow_mut().push(url.clone()));
        if (300..400).contains(&p.status) {
            let loc = p.location();
            url = absolute(&url, &loc);
            continue;
        }
        return (url, p);
    }
    panic!("too many redirects");
}

thread_local! {
    /// Every address `follow` visited on this thread (to replay one).
    static VISITED: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `target` (a form's action or a Location) made absolute against `base`.
fn absolute(base: &str, target: &str) -> String {
    if target.starts_with("http") {
        target.to_owned()
    } else {
        format!("{}{target}", origin(base))
    }
}

fn origin(url: &str) -> String {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..].find('/').map_or(url.len(), |i| after + i);
    url[..end].to_owned()
}

/// The provider's development login and consent, then back to the app.
async fn log_in_at_provider(v: &mut Visitor, app: &TestApp, login: &str) -> crate::web::Page {
    let (url, page) = follow(v, format!("{}/inloggen/oidc", app.base)).await;
    assert!(
        page.has("input[name=login]"),
        "the provider's login form at {url}: {}",
        page.text
    );
    let action = page.one("form").value().attr("action").unwrap().to_owned();
    let r = v
        .post_from(
            &absolute(&url, &action),
            &[("prompt", "login"), ("login", login), ("password", "x")],
            None,
        )
        .await;
    let mut next = absolute(&url, &r.location());
    loop {
        let (u, p) = follow(v, next.clone()).await;
        if u.starts_with(&app.base) {
            return p;
        }
        // The consent form.
        let action = p.one("form").value().attr("action").unwrap().to_owned();
        let r = v
            .post_from(&absolute(&u, &action), &[("prompt", "consent")], None)
            .await;
        let loc = r.location();
        if loc.starts_with(&app.base) {
            return follow(v, loc).await.1;
        }
        next = absolute(&u, &loc);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_through_the_provider() {
    let idp_port = free_port();
    // The provider must know the apps' redirect URIs: pick their ports first.
    let ports = [free_port(), free_port()];
    let bases: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let idp = Idp::start(idp_port, &bases, "key-1", None).await;
    let mut apps = Vec::new();
    let mut old_token = String::new();
    for (i, (client, key)) in [("doorbraak-secret", false), ("doorbraak-key", true)]
        .into_iter()
        .enumerate()
    {
        let (app_port, base) = (ports[i], bases[i].clone());
        let key_path = idp.dir.path().join("client.pem");
        let settings_auth = if key {
            doorbraak_web::oidc::OidcSettings::key_from_pem(&std::fs::read(&key_path).unwrap())
                .unwrap()
        } else {
            doorbraak_web::oidc::ClientAuth::Secret("een-lang-geheim-van-de-test".into())
        };
        let settings = doorbraak_web::oidc::OidcSettings {
            issuer: idp.issuer(),
            client_id: client.into(),
            auth: settings_auth,
            audience: "doorbraak-api".into(),
        };
        let mut web = doorbraak_server::WebOptions::new(&base);
        web.oidc = Some(Arc::new(doorbraak_web::oidc::Oidc::new(settings, &base)));
        web.access_code_signin = false;
        let app = TestApp::spawn_on(
            Db::Sqlite,
            doorbraak_server::AppOptions {
                web,
                ..TestApp::relaxed()
            },
            app_port,
        )
        .await;
        let anna = app
            .ok(&app.admin, "mutation { createUser(input: { name: \"Anna\", role: MINISTRY_ANALYST, ministry: \"SZW\", email: \"Anna@gemeente.example\" }) { user { id } } }", json!({}))
            .await["createUser"]["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned();

        // The sign-in page offers the provider and, switched off, no access code.
        let mut v = Visitor::new(&app);
        let page = v.get("/inloggen").await;
        assert!(page.has("a[href^='/inloggen/oidc']"), "{client}");
        assert!(
            !page.has("#veld-token"),
            "{client}: the access-code form is off"
        );
        let start = v.get("/inloggen/oidc").await;
        let loc = start.location();
        assert!(loc.starts_with(&format!("{}/auth?", idp.issuer())), "{loc}");
        for p in [
            "code_challenge_method=S256",
            "code_challenge=",
            "state=",
            "nonce=",
            "response_type=code",
        ] {
            assert!(loc.contains(p), "{p} in {loc}");
        }
        assert!(
            loc.contains(&format!(
                "redirect_uri={}",
                urlencode(&format!("{base}/inloggen/oidc/callback"))
            )),
            "{loc}"
        );

        // First sign-in: linked by the verified address.
        let mut v = Visitor::new(&app);
        let back = log_in_at_provider(&mut v, &app, "anna").await;
        assert_eq!(back.status, 200, "{client}: {}", back.text);
        assert!(back.text_of("h1").contains("Welkom, Anna"), "{client}");
        let mine = v.get("/mijn-gegevens").await;
        assert!(
            mine.text.contains("het inloggen van uw organisatie"),
            "{client}"
        );
        assert!(v.cookies.contains_key("doorbraak_sessie"), "{client}");
        let home = v.get("/").await;
        assert_eq!(home.status, 200);
        assert!(home.text_of("header .who").contains("Anna"), "{client}");
        let _ = anna;

        // Someone the provider knows and we do not.
        let mut stranger = Visitor::new(&app);
        let refused = log_in_at_provider(&mut stranger, &app, "onbekend").await;
        assert_eq!(refused.status, 403, "{}", refused.text);
        assert!(refused.text_of("h1").contains("nog geen toegang"));
        assert!(!stranger.cookies.contains_key("doorbraak_sessie"));
        let admin = app
            .engine
            .authenticate(&app.admin)
            .await
            .unwrap()
            .principal();
        let requests = app.engine.access_requests(&admin).await.unwrap();
        assert_eq!(requests.len(), 1, "{requests:?}");
        assert_eq!(
            requests[0].email.as_deref(),
            Some("onbekend@elders.example")
        );
        assert!(app.engine.users(&admin, &[]).await.unwrap().is_empty());

        // Signing out ends the session here and goes to the provider's logout.
        let csrf = v.get("/").await.csrf();
        let out = v.post("/uitloggen", &[("csrf", &csrf)]).await;
        assert!(
            out.location()
                .starts_with(&format!("{}/session/end", idp.issuer())),
            "{}",
            out.location()
        );
        assert!(out.location().contains("id_token_hint="));
        assert_eq!(v.get("/").await.status, 303);
        let _ = key;

        // A replayed answer (the same state once more) is refused.
        let callback = VISITED
            .with(|seen| {
                seen.borrow()
                    .iter()
                    .rev()
                    .find(|u| u.contains("/inloggen/oidc/callback?"))
                    .cloned()
            })
            .unwrap();
        let mut replay = Visitor::new(&app);
        let r = replay.get(&callback).await;
        assert_eq!(r.status, 401, "{}", r.text);
        assert!(!replay.cookies.contains_key("doorbraak_sessie"));
        let made_up = replay
            .get("/inloggen/oidc/callback?code=abc&state=verzonnen")
            .await;
        assert_eq!(made_up.status, 401);

        // API: JWT access tokens from the issuer, for the API's audience,
        // mapped to the linked user; everything else refused.
        let now = chrono::Utc::now().timestamp();
        let good = idp.mint(json!({ "iss": idp.issuer(), "sub": "anna", "aud": "doorbraak-api", "iat": now, "exp": now + 300 })).await;
        let me = app.ok(&good, "{ me { name role } }", json!({})).await;
        assert_eq!(
            me["me"],
            json!({ "name": "Anna", "role": "MINISTRY_ANALYST" }),
            "{client}"
        );
        let refused = [
            ("wrong audience", idp.mint(json!({ "iss": idp.issuer(), "sub": "anna", "aud": client, "iat": now, "exp": now + 300 })).await),
            ("expired", idp.mint(json!({ "iss": idp.issuer(), "sub": "anna", "aud": "doorbraak-api", "iat": now - 7200, "exp": now - 3600 })).await),
            ("other issuer", idp.mint(json!({ "iss": "http://127.0.0.1:1", "sub": "anna", "aud": "doorbraak-api", "iat": now, "exp": now + 300 })).await),
            ("issued in the future", idp.mint(json!({ "iss": idp.issuer(), "sub": "anna", "aud": "doorbraak-api", "iat": now + 3600, "exp": now + 7200 })).await),
            ("not linked", idp.mint(json!({ "iss": idp.issuer(), "sub": "onbekend", "aud": "doorbraak-api", "iat": now, "exp": now + 300 })).await),
            ("tampered", {
                let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
                use base64::Engine as _;
                let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
                let mut claims: Value = serde_json::from_slice(&b.decode(&parts[1]).unwrap()).unwrap();
                claims["exp"] = json!(now + 999_999);
                parts[1] = b.encode(claims.to_string());
                parts.join(".")
            }),
        ];
        for (what, token) in refused {
            let (code, _) = app.err(Some(&token), "{ me { name } }", json!({})).await;
            assert_eq!(code, "UNAUTHENTICATED", "{client}: {what}");
        }
        // An ID token answers the nonce of its own login only.
        let oidc = app.options.web.oidc.clone().unwrap();
        let id_token = idp.mint(json!({ "iss": idp.issuer(), "sub": "anna", "aud": client, "iat": now, "exp": now + 300, "nonce": "n-1" })).await;
        assert!(
            oidc.verify(&id_token, client, Some("n-1")).await.is_ok(),
            "{client}"
        );
        assert!(
            oidc.verify(&id_token, client, Some("n-2")).await.is_err(),
            "{client}: another login's nonce"
        );
        assert!(
            oidc.verify(&id_token, "doorbraak-api", None).await.is_err(),
            "{client}: an ID token is no API token"
        );
        old_token = good;
        apps.push(app);
    }

    // The provider rotates its keys (a restart with a new one): tokens
    // signed with the new key are accepted, the keys fetched again.
    let ports_again = bases.clone();
    let dir = idp.stop().await;
    let idp = Idp::start(idp_port, &ports_again, "key-2", Some(dir)).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let app = &apps[1];
    let now = chrono::Utc::now().timestamp();
    let fresh = idp.mint(json!({ "iss": idp.issuer(), "sub": "anna", "aud": "doorbraak-api", "iat": now, "exp": now + 300 })).await;
    let me = app.ok(&fresh, "{ me { name } }", json!({})).await;
    assert_eq!(me["me"]["name"], "Anna", "a token signed with the new key");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (code, _) = app
        .err(Some(&old_token), "{ me { name } }", json!({}))
        .await;
    assert_eq!(code, "UNAUTHENTICATED", "the old key is gone");
    // And a sign-in after the rotation verifies its ID token with the new key.
    let mut v = Visitor::new(app);
    let back = log_in_at_provider(&mut v, app, "anna").await;
    assert_eq!(back.status, 200, "{}", back.text);
    idp.stop().await;
}

/// The whole flow in Chromium: the button on /inloggen, the provider's
/// pages, back on the start page, and signing out at the provider too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_through_the_provider_in_a_browser() {
    let idp_port = free_port();
    let ports = [free_port(), free_port()];
    let bases: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let idp = Idp::start(idp_port, &bases, "key-1", None).await;
    for (i, client) in ["doorbraak-secret", "doorbraak-key"]
        .into_iter()
        .enumerate()
    {
        let base = bases[i].clone();
        let auth = if client == "doorbraak-key" {
            doorbraak_web::oidc::OidcSettings::key_from_pem(
                &std::fs::read(idp.dir.path().join("client.pem")).unwrap(),
            )
            .unwrap()
        } else {
            doorbraak_web::oidc::ClientAuth::Secret("een-lang-geheim-van-de-test".into())
        };
        let settings = doorbraak_web::oidc::OidcSettings {
            issuer: idp.issuer(),
            client_id: client.into(),
            auth,
            audience: "doorbraak-api".into(),
        };
        let mut web = doorbraak_server::WebOptions::new(&base);
        web.oidc = Some(Arc::new(doorbraak_web::oidc::Oidc::new(settings, &base)));
        let app = TestApp::spawn_on(
            Db::Sqlite,
            doorbraak_server::AppOptions {
                web,
                ..TestApp::relaxed()
            },
            ports[i],
        )
        .await;
        app.ok(&app.admin, "mutation { createUser(input: { name: \"Bas Bureau\", role: PROGRAMME_BUREAU, areas: [\"ZDO\"], email: \"bas@gemeente.example\" }) { user { id } } }", json!({}))
            .await;
        let out = tokio::process::Command::new("node")
            .args(["oidc-browser.mjs", &base, &idp.issuer(), "bas"])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node"))
            .output()
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let v: Value = serde_json::from_str(text.trim())
            .unwrap_or_else(|_| panic!("{text}\n{}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(v["errors"], json!([]), "{client}: {v:#}");
        assert_eq!(v["violations"], json!([]), "{client}: {v:#}");
        assert_eq!(v["foreign"], json!([]), "{client}: {v:#}");
        assert!(
            v["heading"].as_str().unwrap().contains("Bas Bureau"),
            "{client}: {v:#}"
        );
        assert!(
            v["after"].as_str().unwrap().contains("U bent uitgelogd"),
            "{client}: {v:#}"
        );
    }
    idp.stop().await;
}
