// Drives the status page in headless Chromium for StatusPageTests: prints "loaded", "moving", "lost" and "recovered" as
// the page gets there, and leaves a screenshot.  node status-page.mjs URL SCREENSHOT TOPIC
import { chromium } from "playwright-core";

const [url, screenshot, topic] = process.argv.slice(2);
const timeout = 90_000;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/lib/chromium/chromium",
  // The tests may run as root, where Chromium's sandbox cannot start.
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
  await page.waitForSelector("#topics tr.topic", { timeout });
  await page.click(`#topics tr[data-topic="${topic}"]`);
  console.log("loaded");
  // The delivery chart's latest point is above 0 while a writer publishes, and the chosen topic's updates stream in:
  // the list shows the latest 20, so it is a key past the writer's third that is looked for, not the third itself,
  // which the writer may have pushed out of the list by then.
  await page.waitForFunction(() => Number(document.getElementById("rate-chart").dataset.last) > 0, null, { timeout, polling: 100 });
  await page.waitForFunction(
    t => [...document.querySelectorAll("#recent li")].some(li => {
      const key = li.textContent.split("  ")[1] ?? "";
      return key.startsWith(`${t}:`) && Number(key.slice(t.length + 1)) >= 3;
    }), topic, { timeout, polling: 100 });
  console.log("moving");
  await page.waitForSelector("#banner", { state: "visible", timeout });
  console.log("lost");
  await page.waitForSelector("#banner", { state: "hidden", timeout });
  await page.waitForFunction(() => Number(document.getElementById("lag-chart").dataset.points) > 0, null, { timeout });
  console.log("recovered");
  await page.screenshot({ path: screenshot, fullPage: true });
} finally {
  await browser.close();
}
