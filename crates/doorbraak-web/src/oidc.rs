//! OpenID Connect, the NL GOV profile: the authorization code flow with
//! PKCE (S256), `state` and `nonce` of 256 random bits, exact redirect URI,
//! client authentication by `client_secret_basic` or `private_key_jwt`, ID
//! tokens verified (signature through the issuer's JWKS, with rotation:
//! an unknown `kid` fetches the keys again; `iss`, `aud`, `exp`, `iat`,
//! `nonce`; RS256 and PS256 only), `acr` kept with the session, and
//! RP-initiated logout when the provider offers it. The same verification
//! accepts JWT access tokens for the API, with their own audience.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;
use sha2::Digest;

/// How the client proves itself at the token endpoint.
#[derive(Clone)]
pub enum ClientAuth {
    /// `client_secret_basic`.
    Secret(String),
    /// `private_key_jwt`: an RS256 assertion signed with this key.
    Key(Arc<EncodingKey>),
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ClientAuth::Secret(_) => "client_secret_basic",
            ClientAuth::Key(_) => "private_key_jwt",
        })
    }
}

/// The settings of API.md ("OpenID Connect").
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub auth: ClientAuth,
    /// The audience API access tokens must carry (default: the client id).
    pub audience: String,
}

impl OidcSettings {
    /// Reads a PEM private key (RSA, PKCS#8 or PKCS#1) for private_key_jwt.
    pub fn key_from_pem(pem: &[u8]) -> Result<ClientAuth, String> {
        EncodingKey::from_rsa_pem(pem)
            .map(|k| ClientAuth::Key(Arc::new(k)))
            .map_err(|e| format!("DOORBRAAK_OIDC_CLIENT_KEY is not an RSA private key in PEM: {e}"))
    }
}

#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    end_session_endpoint: Option<String>,
}

/// The claims this service reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub nonce: Option<String>,
    pub iat: Option<i64>,
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<serde_json::Value>,
    pub name: Option<String>,
    pub acr: Option<String>,
}

impl Claims {
    pub fn email_verified(&self) -> bool {
        match &self.email_verified {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s == "true",
            _ => false,
        }
    }
}

/// Why a token or a login was refused (logged, never shown in detail).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct OidcError(pub String);

fn e(m: impl std::fmt::Display) -> OidcError {
    OidcError(m.to_string())
}

struct Keys {
    set: JwkSet,
    fetched: Option<Instant>,
}

/// The client of one issuer.
pub struct Oidc {
    pub settings: OidcSettings,
    pub redirect_uri: String,
    http: reqwest::Client,
    discovery: tokio::sync::OnceCell<Discovery>,
    keys: Mutex<Keys>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("issuer", &self.settings.issuer)
            .finish_non_exhaustive()
    }
}

/// What the provider answered at the token endpoint.
#[derive(Debug, Deserialize)]
struct TokenAnswer {
    id_token: String,
}

/// A login that came back and was verified.
#[derive(Debug, Clone)]
pub struct Verified {
    pub claims: Claims,
    pub id_token: String,
}

impl Oidc {
    pub fn new(settings: OidcSettings, public_url: &str) -> Oidc {
        Oidc {
            redirect_uri: format!(
                "{}/inloggen/oidc/callback",
                public_url.trim_end_matches('/')
            ),
            settings,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            discovery: tokio::sync::OnceCell::new(),
            keys: Mutex::new(Keys {
                set: JwkSet { keys: Vec::new() },
                fetched: None,
            }),
        }
    }

    /// `scheme://host[:port]` of the issuer (for the pages' form-action).
    pub fn issuer_origin(&self) -> String {
        let i = &self.settings.issuer;
        let after = i.find("://").map_or(0, |p| p + 3);
        let end = i[after..].find('/').map_or(i.len(), |p| after + p);
        i[..end].to_owned()
    }

    async fn discovery(&self) -> Result<&Discovery, OidcError> {
        self.discovery
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.settings.issuer.trim_end_matches('/')
                );
                let d: Discovery = self
                    .http
                    .get(url)
                    .send()
                    .await
                    .map_err(e)?
                    .error_for_status()
                    .map_err(e)?
                    .json()
                    .await
                    .map_err(e)?;
                if d.issuer != self.settings.issuer {
                    return Err(e(format!(
                        "the discovery document names issuer {}",
                        d.issuer
                    )));
                }
                Ok(d)
            })
            .await
    }

    async fn fetch_keys(&self) -> Result<(), OidcError> {
        let d = self.discovery().await?;
        let set: JwkSet = self
            .http
            .get(&d.jwks_uri)
            .send()
            .await
            .map_err(e)?
            .error_for_status()
            .map_err(e)?
            .json()
            .await
            .map_err(e)?;
        let mut k = self.keys.lock().map_err(|_| e("key cache poisoned"))?;
        k.set = set;
        k.fetched = Some(Instant::now());
        Ok(())
    }

    /// The key with this id; an unknown id fetches the keys again (the
    /// provider rotated them), at most once a second.
    async fn key(&self, kid: &str) -> Result<DecodingKey, OidcError> {
        for attempt in 0..2 {
            let (found, stale) = {
                let k = self.keys.lock().map_err(|_| e("key cache poisoned"))?;
                let found = k.set.find(kid).map(DecodingKey::from_jwk);
                let stale = k
                    .fetched
                    .is_none_or(|t| t.elapsed() > Duration::from_secs(1));
                (found, stale)
            };
            match found {
                Some(key) => return key.map_err(e),
                None if attempt == 0 && stale => self.fetch_keys().await?,
                None => break,
            }
        }
        Err(e(format!("no key {kid} at the issuer")))
    }

    /// Verifies a JWT from the issuer for `audience` (and `nonce`, for an ID
    /// token).
    pub async fn verify(
        &self,
        token: &str,
        audience: &str,
        nonce: Option<&str>,
    ) -> Result<Claims, OidcError> {
        let header = jsonwebtoken::decode_header(token).map_err(e)?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::PS256) {
            return Err(e("only RS256 and PS256 are accepted"));
        }
        let kid = header.kid.ok_or_else(|| e("the token names no key"))?;
        let key = self.key(&kid).await?;
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[&self.settings.issuer]);
        v.set_audience(&[audience]);
        v.set_required_spec_claims(&["iss", "aud", "exp", "sub"]);
        v.leeway = 60;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &v)
            .map_err(e)?
            .claims;
        let now = chrono::Utc::now().timestamp();
        match claims.iat {
            Some(iat) if iat <= now + 60 => {}
            _ => return Err(e("the token has no iat, or one in the future")),
        }
        if let Some(n) = nonce
            && claims.nonce.as_deref() != Some(n)
        {
            return Err(e("the nonce does not match"));
        }
        Ok(claims)
    }

    /// Where to send the browser: the authorization request with PKCE.
    pub async fn authorization_url(
        &self,
        state: &str,
        nonce: &str,
        verifier: &str,
    ) -> Result<String, OidcError> {
        let d = self.discovery().await?;
        let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
        let q: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", "openid email profile")
            .append_pair("state", state)
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        let sep = if d.authorization_endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        Ok(format!("{}{sep}{q}", d.authorization_endpoint))
    }

    /// Exchanges the code for tokens and verifies the ID token.
    pub async fn complete(
        &self,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<Verified, OidcError> {
        let d = self.discovery().await?;
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("code_verifier", verifier.to_owned()),
        ];
        let mut req = self.http.post(&d.token_endpoint);
        match &self.settings.auth {
            ClientAuth::Secret(secret) => {
                let enc =
                    |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let basic =
                    STANDARD.encode(format!("{}:{}", enc(&self.settings.client_id), enc(secret)));
                req = req.header("authorization", format!("Basic {basic}"));
            }
            ClientAuth::Key(key) => {
                let now = chrono::Utc::now().timestamp();
                let jti = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>());
                let claims = serde_json::json!({
                    "iss": self.settings.client_id, "sub": self.settings.client_id,
                    "aud": d.token_endpoint, "iat": now, "exp": now + 60, "jti": jti,
                });
                let assertion = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, key)
                    .map_err(e)?;
                form.push(("client_id", self.settings.client_id.clone()));
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
                ));
                form.push(("client_assertion", assertion));
            }
        }
        let answer = req.form(&form).send().await.map_err(e)?;
        if !answer.status().is_success() {
            return Err(e(format!(
                "the token endpoint answered {}",
                answer.status()
            )));
        }
        let t: TokenAnswer = answer.json().await.map_err(e)?;
        let claims = self
            .verify(&t.id_token, &self.settings.client_id, Some(nonce))
            .await?;
        Ok(Verified {
            claims,
            id_token: t.id_token,
        })
    }

    /// The provider's logout address for a session, when it offers one.
    pub async fn logout_url(&self, id_token: &str, after: &str) -> Option<String> {
        let d = self.discovery().await.ok()?;
        let end = d.end_session_endpoint.as_ref()?;
        let q: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("id_token_hint", id_token)
            .append_pair("post_logout_redirect_uri", after)
            .append_pair("client_id", &self.settings.client_id)
            .finish();
        let sep = if end.contains('?') { '&' } else { '?' };
        Some(format!("{end}{sep}{q}"))
    }
}
