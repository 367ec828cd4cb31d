// Signs in through the OpenID provider in Debian's Chromium: the button on
// /inloggen, the provider's login and consent, back on the start page;
// then signs out here and at the provider. axe runs on our pages; requests
// on our pages may go to the app and the provider only.
// Usage: node oidc-browser.mjs APP_BASE ISSUER LOGIN    (prints one JSON line)
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const [base, issuer, login] = process.argv.slice(2);
const result = { steps: [], violations: [], foreign: [], errors: [] };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
async function axe(page, name) {
  result.steps.push(name);
  await page.evaluate(axeSource);
  const r = await page.evaluate(async () => await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }));
  for (const v of r.violations) result.violations.push({ page: name, id: v.id });
}
try {
  const context = await browser.newContext({ bypassCSP: true });
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(base) || url.startsWith(issuer) || url.startsWith("data:")) return route.continue();
    // The provider's development pages ask for web fonts: blocked, but
    // they are the provider's, not ours. Ours may ask for nothing else.
    let from = "";
    try { from = route.request().frame().url(); } catch { from = ""; }
    if (from.startsWith(base)) result.foreign.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("response", (r) => { if (r.status() >= 500) result.errors.push(`${r.status()} ${r.url()}`); });
  await page.goto(`${base}/inloggen`);
  await axe(page, "inloggen-met-organisatie");
  await Promise.all([page.waitForNavigation(), page.click("a[href^='/inloggen/oidc']")]);
  if (!page.url().startsWith(issuer)) throw new Error(`not at the provider: ${page.url()}`);
  await page.fill("input[name=login]", login);
  await page.fill("input[name=password]", "x");
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  await page.waitForURL(`${base}/`, { timeout: 15000 });
  result.heading = await page.textContent("h1");
  await axe(page, "start-na-organisatie");
  await Promise.all([page.waitForNavigation(), page.click("header .who button")]);
  if (!page.url().startsWith(issuer)) throw new Error(`signing out did not go to the provider: ${page.url()}`);
  // The provider asks to confirm signing out there too.
  await Promise.all([page.waitForNavigation(), page.click("button[autofocus], button[type=submit]")]);
  await page.waitForURL(`${base}/inloggen?uitgelogd=1`, { timeout: 15000 });
  result.after = await page.textContent("main");
  await axe(page, "uitgelogd");
} catch (e) {
  result.errors.push(`failed: ${e.stack || e}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
