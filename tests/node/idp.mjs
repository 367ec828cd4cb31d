// A real OpenID provider for the tests (npm oidc-provider, with its
// development login form: any login name, any password). Two clients: one
// with client_secret_basic, one with private_key_jwt (its private key is
// written to OUT/client.pem). The account "onbekend" has an address no user
// has; every other login name N has N@gemeente.example, verified.
// GET /test/mint?claims=JSON signs a JWT with the provider's key (for API
// token tests). Started with another KID, the provider signs with a new key.
// Usage: node idp.mjs PORT REDIRECT_URIS POST_LOGOUT_URIS OUT KID   (lists: comma-separated; prints "ready")
import http from "node:http";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { exportJWK, SignJWT } from "jose";
import Provider from "oidc-provider";

const [port, redirectUri, postLogout, out, kid] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const signing = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = { ...(await exportJWK(signing.privateKey)), kid, alg: "RS256", use: "sig" };
// The client's key outlives a restart of the provider (only the provider's
// own signing key rotates).
let client;
if (existsSync(`${out}/client.pem`)) {
  const privateKey = createPrivateKey(readFileSync(`${out}/client.pem`));
  client = { privateKey, publicKey: createPublicKey(privateKey) };
} else {
  client = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(`${out}/client.pem`, client.privateKey.export({ type: "pkcs8", format: "pem" }));
}
const clientJwk = { ...(await exportJWK(client.publicKey)), alg: "RS256", use: "sig", kid: "client" };

const common = {
  redirect_uris: redirectUri.split(","),
  post_logout_redirect_uris: postLogout.split(","),
  grant_types: ["authorization_code"],
  response_types: ["code"],
};
const provider = new Provider(issuer, {
  clients: [
    { client_id: "doorbraak-secret", client_secret: "een-lang-geheim-van-de-test", token_endpoint_auth_method: "client_secret_basic", ...common },
    { client_id: "doorbraak-key", token_endpoint_auth_method: "private_key_jwt", token_endpoint_auth_signing_alg: "RS256", jwks: { keys: [clientJwk] }, ...common },
  ],
  jwks: { keys: [jwk] },
  cookies: { keys: ["test-cookie-key-0123456789"] },
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  pkce: { required: () => true },
  // The claims asked for go into the ID token (this service reads no userinfo).
  conformIdTokenClaims: false,
  acrValues: ["http://eidas.europa.eu/LoA/substantial"],
  async findAccount(ctx, id) {
    const email = id === "onbekend" ? "onbekend@elders.example" : `${id}@gemeente.example`;
    return { accountId: id, async claims() { return { sub: id, email, email_verified: true, name: id }; } };
  },
});
provider.proxy = false;

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  if (req.url.startsWith("/test/mint")) {
    const claims = JSON.parse(new URL(req.url, issuer).searchParams.get("claims"));
    const token = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid }).sign(signing.privateKey);
    res.writeHead(200, { "content-type": "text/plain" }).end(token);
    return;
  }
  callback(req, res);
});
server.listen(Number(port), "127.0.0.1", () => console.log("ready"));
