// Opens GraphiQL in Debian's Chromium (headless) and checks that it shows
// the schema with no request leaving the server's origin. Prints one JSON
// line: {"ok", "requests", "foreign", "errors", "rootTypes"}.
// Usage: node graphiql.mjs http://127.0.0.1:PORT
import { chromium } from "playwright-core";

const base = process.argv[2];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const requests = [];
const errors = [];
try {
  const page = await browser.newPage();
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(`${base}/graphql`, { waitUntil: "load" });
  await page.waitForSelector(".graphiql-container", { timeout: 20000 });
  await page.click('[aria-label="Show Documentation Explorer"]', { timeout: 20000 });
  await page.waitForSelector(".graphiql-doc-explorer-content", { timeout: 20000 });
  await page.waitForFunction(
    () => document.querySelector(".graphiql-doc-explorer-content")?.textContent.includes("Mutation"),
    null,
    { timeout: 20000 },
  );
  const rootTypes = await page.textContent(".graphiql-doc-explorer-content");
  const foreign = requests.filter((u) => !u.startsWith(base) && !u.startsWith("data:"));
  console.log(JSON.stringify({ ok: foreign.length === 0 && errors.length === 0, requests, foreign, errors, rootTypes }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, requests, foreign: [], errors: [...errors, String(e)], rootTypes: "" }));
} finally {
  await browser.close();
}
