// One Lighthouse run of a logged-in page (driven by bench/lighthouse.py).
//
//   node bench/lighthouse-run.mjs URL SESSION_COOKIE OUTPUT.json
//
// Lighthouse's CLI can only log in through an extra Cookie header, which Chromium
// doesn't apply to the page's own fetch() calls: the API answers 401 and the
// console errors skew best-practices. So the session goes into the browser's
// cookie jar through puppeteer, and Lighthouse (its Node API, same package and
// version as `npx lighthouse`) audits that page: mobile form factor, default
// simulated mobile throttling, storage cleared except the cookie.
import { writeFileSync } from "node:fs";
import lighthouse from "lighthouse";
import puppeteer from "puppeteer-core";

const [url, session, output] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
try {
  await browser.setCookie({ name: "sessionid", value: session, domain: new URL(url).hostname, path: "/" });
  const page = await browser.newPage();
  const result = await lighthouse(
    url,
    { output: "json", logLevel: "error", formFactor: "mobile", onlyCategories: ["performance", "accessibility", "best-practices"] },
    undefined,
    page,
  );
  writeFileSync(output, result.report);
} finally {
  await browser.close();
}
