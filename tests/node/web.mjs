// Walks one case up the whole ladder through the web pages alone, in
// Debian's Chromium, with every role signing in with their access code.
// On every page it visits it runs axe-core (WCAG 2.1 A and AA rules) and
// writes a screenshot; every request that would leave the server's origin
// is recorded and blocked. Then a professional submits a case once more
// with JavaScript turned off.
//
// Usage: node web.mjs CONFIG.json   (see tests/e2e/web.rs for its shape)
// Prints one JSON line: {"steps", "violations", "foreign", "errors",
// "screenshots", "caseId", "jsOffCaseId", "overflow"}.
import { readFileSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const base = cfg.base;
const shots = cfg.screenshots;
rmSync(shots, { recursive: true, force: true });
mkdirSync(shots, { recursive: true });

const steps = [];
const violations = [];
const foreign = [];
const errors = [];
const overflow = [];
let shotCount = 0;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

async function newContext(options = {}) {
  // bypassCSP lets the test inject axe; the pages' own policy is checked
  // over HTTP by the handler tests.
  const context = await browser.newContext({ bypassCSP: true, locale: "nl-NL", ...options });
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(base + "/") || url === base || url.startsWith("data:")) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(`pageerror: ${e}`));
  page.on("response", (r) => {
    if (r.status() >= 500) errors.push(`${r.status()} ${r.url()}`);
  });
  return { context, page };
}

/** Runs axe, takes a screenshot, checks that nothing overflows the width. */
async function check(page, name, { axe = true } = {}) {
  steps.push(name);
  if (axe) {
    await page.evaluate(axeSource);
    const result = await page.evaluate(async () =>
      // eslint-disable-next-line no-undef
      await axe.run(document, {
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
        resultTypes: ["violations"],
      }),
    );
    for (const v of result.violations) {
      violations.push({ page: name, url: page.url(), id: v.id, impact: v.impact,
        nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) });
    }
  }
  if (axe) {
    const width = page.viewportSize().width;
    const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
    if (scroll > width + 1) overflow.push({ page: name, width, scroll });
  }
  shotCount += 1;
  const n = String(shotCount).padStart(2, "0");
  await page.screenshot({ path: `${shots}/${n}-${name}.png`, fullPage: true });
}

async function signIn(page, token, name) {
  await page.goto(`${base}/inloggen`);
  if (name) await check(page, name);
  await page.fill("#veld-token", token);
  await Promise.all([page.waitForNavigation(), page.click("form:has(#veld-token) button[type=submit]")]);
  if (new URL(page.url()).pathname !== "/") throw new Error(`sign-in did not reach the start page: ${page.url()}`);
}

/** Signs in with the keyboard only: Tab to the field, type, Enter. */
async function signInByKeyboard(page, token) {
  await page.goto(`${base}/inloggen`);
  await page.keyboard.press("Tab");
  const first = await page.evaluate(() => document.activeElement?.textContent);
  if (first !== "Naar de inhoud") throw new Error(`the first Tab stop is not the skip link but ${first}`);
  for (let i = 0; i < 15; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(() => document.activeElement?.id) === "veld-token") break;
  }
  if (await page.evaluate(() => document.activeElement?.id) !== "veld-token") throw new Error("Tab never reached the access code field");
  await page.keyboard.type(token);
  await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
  if (new URL(page.url()).pathname !== "/") throw new Error(`keyboard sign-in failed: ${page.url()}`);
}

async function signOut(page) {
  await Promise.all([page.waitForNavigation(), page.click("header .who button")]);
}

async function submitForm(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

/** Opens a <details> action by its summary text and returns its form. */
async function openAction(page, text) {
  const summary = page.locator("details.action > summary", { hasText: text }).first();
  await summary.click();
  return summary.locator("xpath=..").locator("form");
}

async function fillCase(page, { title, description }) {
  await page.fill("#veld-rule-citation", cfg.rule);
  await page.selectOption("#veld-rule-scope", "NATIONAL");
  await page.selectOption("#veld-rule-owningMinistry", "SZW");
  await page.fill("#veld-title", title);
  await page.fill("#veld-description", description);
  await page.fill("#veld-desiredAction", "Het gezin laten samenwonen zonder dat de uitkering omlaag gaat.");
  await page.check("#domein-WORK_INCOME");
  await page.check("#domein-HOUSING");
  await page.fill("#veld-householdsAffected", "12");
  await page.fill("#veld-estimatedCost", "12.500,50");
}

let caseId = null;
let jsOffCaseId = null;
let axeSelfCheck = null;
try {
  // axe must be able to fail: an image without text and an unlabelled
  // field on a page of our own making are two violations it has to find.
  {
    const probe = await newContext();
    await probe.page.goto(`${base}/toegankelijkheid`);
    await probe.page.evaluate(() => {
      document.querySelector("main").insertAdjacentHTML("beforeend", '<img src="data:,"><input type="text">');
    });
    await probe.page.evaluate(axeSource);
    const r = await probe.page.evaluate(async () => await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } }));
    axeSelfCheck = r.violations.map((v) => v.id).sort();
    await probe.context.close();
  }

  // ---- The professional, on a phone 360 px wide.
  const phone = await newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  let page = phone.page;
  await page.goto(`${base}/inloggen`);
  await page.fill("#veld-token", "dbk_dit-is-geen-code");
  await submitForm(page, "form:has(#veld-token) button[type=submit]");
  if (!(await page.textContent("#veld-token-fout")).includes("klopt niet")) throw new Error("no error for a wrong code");
  await check(page, "inloggen-fout");
  await signIn(page, cfg.tokens.professional, "inloggen");
  await check(page, "start-professional");
  await page.goto(`${base}/zaken/nieuw`);
  await check(page, "nieuwe-zaak-stap-1");
  await page.fill("#veld-regel", "kostendelersnorm");
  await submitForm(page, "form[action='/zaken/nieuw'][method=get] button");
  if (!(await page.textContent("main")).includes("Misschien kan het al")) throw new Error("no earlier answers shown");
  await check(page, "misschien-kan-het-al");
  await fillCase(page, { title: "Jongere verdient bij en het gezin verliest inkomen",
    description: "Moeder met BSN 123456782 en drie kinderen; de oudste werkt in de zomer en dan daalt de bijstand." });
  await submitForm(page, "form.case-form button[type=submit]");
  const summary = await page.textContent(".error-summary");
  if (!summary.includes("burgerservicenummer")) throw new Error(`no BSN refusal: ${summary}`);
  if (await page.inputValue("#veld-title") !== "Jongere verdient bij en het gezin verliest inkomen") throw new Error("the title was lost");
  await check(page, "formulier-met-fouten");
  await page.fill("#veld-description", "Een moeder met drie kinderen; de oudste werkt in de zomer en dan daalt de bijstand van het hele gezin.");
  await submitForm(page, "form.case-form button[type=submit]");
  const m = new URL(page.url()).pathname.match(/^\/zaken\/(\d+)$/);
  if (!m) throw new Error(`submitting did not open the case: ${page.url()}`);
  caseId = m[1];
  await check(page, "zaak-ingediend");
  await page.goto(`${base}/zaken`);
  await check(page, "mijn-zaken");
  await signOut(page);

  // ---- The programme bureau: keyboard sign-in, pick up, link, escalate.
  const desk = await newContext({ viewport: { width: 1280, height: 900 } });
  page = desk.page;
  await signInByKeyboard(page, cfg.tokens.programmeBureau);
  await check(page, "start-programmabureau");
  await page.goto(`${base}/zaken`);
  await check(page, "wachtrij-programmabureau");
  await submitForm(page, `a[href='/zaken/${caseId}']`);
  await check(page, "zaak-programmabureau");
  await submitForm(page, "form.action-button:has(input[value=PICK_UP]) button");
  await check(page, "zaak-opgepakt");
  const link = await openAction(page, "Nieuw knelpunt aanmaken");
  await link.locator("select[name=owningMinistry]").selectOption("SZW");
  await Promise.all([page.waitForNavigation(), link.locator("button[type=submit]").click()]);
  await check(page, "zaak-gekoppeld");
  let form = await openAction(page, "Doorzetten naar het volgende niveau");
  await Promise.all([page.waitForNavigation(), form.locator("button[type=submit]").click()]);
  if (!(await page.textContent("details.action[open]")).includes("Vul dit in")) throw new Error("no error for an empty motivation");
  await check(page, "actie-met-fout");
  form = page.locator("details.action[open] form");
  await form.locator("textarea[name=motivation]").fill("Dit speelt in meer wijken; de alliantie moet erover besluiten.");
  await Promise.all([page.waitForNavigation(), form.locator("button[type=submit]").click()]);
  await signOut(page);

  // ---- The alliance secretary: schedule, decide on the agenda, close.
  await signIn(page, cfg.tokens.allianceSecretary);
  await page.goto(`${base}/vergaderingen`);
  await check(page, "vergaderingen-alliantie");
  await page.fill("#veld-scheduledAt", cfg.allianceAt);
  await submitForm(page, "form[action='/vergaderingen'] button");
  await check(page, "vergadering-alliantie");
  const meetingUrl = page.url().split("?")[0];
  form = await openAction(page, "Doorzetten naar het volgende niveau");
  await form.locator("textarea[name=motivation]").fill("De alliantie kan dit niet oplossen; het is een landelijke regel.");
  await Promise.all([page.waitForNavigation(), form.locator("button[type=submit]").click()]);
  await check(page, "alliantie-besluit");
  await page.goto(`${meetingUrl}/agenda`);
  await check(page, "agenda-document");
  await page.goto(meetingUrl);
  await submitForm(page, "form[action$='/sluiten'] button");
  await check(page, "vergadering-gesloten");
  await signOut(page);

  // ---- The national representative.
  await signIn(page, cfg.tokens.nationalRepresentative);
  await page.goto(`${base}/zaken?filter=nieuw`);
  await check(page, "wachtrij-rijksvertegenwoordiger");
  await page.goto(`${base}/zaken/${caseId}`);
  await submitForm(page, "form.action-button:has(input[value=PICK_UP]) button");
  form = await openAction(page, "Doorzetten naar het volgende niveau");
  await form.locator("textarea[name=motivation]").fill("Alleen het doorbraakoverleg kan de regel voor alle gemeenten veranderen.");
  await Promise.all([page.waitForNavigation(), form.locator("button[type=submit]").click()]);
  await check(page, "zaak-naar-doorbraakoverleg");
  await signOut(page);

  // ---- The breakthrough secretariat: the meeting decides.
  await signIn(page, cfg.tokens.secretariat);
  await page.goto(`${base}/vergaderingen`);
  await page.fill("#veld-scheduledAt", cfg.breakthroughAt);
  await submitForm(page, "form[action='/vergaderingen'] button");
  await check(page, "doorbraakoverleg");
  const breakthroughUrl = page.url().split("?")[0];
  await submitForm(page, `a[href^='/zaken/${caseId}?terug=']`);
  form = await openAction(page, "Oplossen");
  await form.locator("select[name=outcome]").selectOption("STRUCTURAL_BREAKTHROUGH");
  await form.locator("textarea[name=explanation]").fill("De kostendelersnorm telt het inkomen van jongeren onder de 27 niet meer mee.");
  await form.locator("input[name=effectiveFrom]").fill(cfg.effectiveFrom);
  await Promise.all([page.waitForNavigation(), form.locator("button[type=submit]").click()]);
  if (!page.url().startsWith(breakthroughUrl)) throw new Error(`resolving did not return to the meeting: ${page.url()}`);
  await check(page, "doorbraak-besloten");
  await submitForm(page, "form[action$='/sluiten'] button");
  await page.goto(`${base}/vastlopers`);
  await check(page, "vastlopers");
  await signOut(page);

  // ---- The professional hears back.
  page = phone.page;
  await signIn(page, cfg.tokens.professional);
  await page.goto(`${base}/zaken/${caseId}`);
  if (!(await page.textContent("main")).includes("Het besluit")) throw new Error("the decision is not shown");
  await check(page, "besluit-voor-professional");
  await page.goto(`${base}/eerdere-antwoorden?q=kostendelersnorm`);
  await check(page, "eerdere-antwoorden");
  await signOut(page);

  // ---- The ministry analyst.
  page = desk.page;
  await signIn(page, cfg.tokens.analyst);
  await check(page, "start-analist");
  await page.goto(`${base}/statistiek`);
  if ((await page.locator("figure.chart svg").count()) < 1) throw new Error("no chart on the dashboard");
  await check(page, "statistiek");
  await page.goto(`${base}/knelpunten`);
  await check(page, "knelpunten");
  await submitForm(page, "main table a[href^='/knelpunten/']");
  await check(page, "knelpunt");
  await page.goto(`${base}/statistiek/rapport`);
  await check(page, "rapport");
  await signOut(page);

  // ---- The administrator.
  await signIn(page, cfg.tokens.administrator);
  await page.goto(`${base}/beheer`);
  await check(page, "beheer");
  form = await openAction(page, "Gebruiker toevoegen");
  await form.locator("select[name=role]").selectOption("PROFESSIONAL");
  await Promise.all([page.waitForNavigation(), form.locator("button[type=submit]").click()]);
  await check(page, "gebruiker-met-fouten");
  form = page.locator("form[action='/beheer/gebruikers']");
  await form.locator("input[name=name]").fill("Yara Youthworker");
  await form.locator("input[name=email]").fill("Yara@Jeugd.example");
  await form.locator("#gebied-ZDO").check();
  await Promise.all([page.waitForNavigation(), form.locator("button[type=submit]").click()]);
  if (!(await page.textContent("main")).includes("dbk_")) throw new Error("no access code shown");
  await check(page, "toegangscode");
  await submitForm(page, "main a[href^='/beheer/gebruikers/']");
  await check(page, "gebruiker");
  await page.goto(`${base}/toegankelijkheid`);
  await check(page, "toegankelijkheid");
  await page.goto(`${base}/bestaat-niet`);
  await check(page, "niet-gevonden");
  await signOut(page);

  // ---- The professional once more, with JavaScript turned off.
  const nojs = await newContext({ viewport: { width: 360, height: 740 }, javaScriptEnabled: false });
  page = nojs.page;
  await signIn(page, cfg.tokens.professional);
  await page.goto(`${base}/zaken/nieuw?stap=2`);
  await fillCase(page, { title: "Zonder JavaScript ingediend",
    description: "Een vader met twee kinderen verliest toeslag zodra de oudste een bijbaan neemt naast school." });
  await submitForm(page, "form.case-form button[type=submit]");
  const m2 = new URL(page.url()).pathname.match(/^\/zaken\/(\d+)$/);
  if (!m2) throw new Error(`the submission without JavaScript did not open the case: ${page.url()}`);
  jsOffCaseId = m2[1];
  await check(page, "zonder-javascript", { axe: false });
} catch (e) {
  errors.push(`failed: ${e.stack || e}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify({ axeSelfCheck, steps, violations, foreign, errors, overflow, screenshots: shotCount, caseId, jsOffCaseId }));
