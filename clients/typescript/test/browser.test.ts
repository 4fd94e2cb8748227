import { mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTopic, mintToken, publish, sharedRelay } from "./support/fixture.js";
import { TcpProxy } from "./support/proxy.js";
import { freePort, RelayProcess, type RelayEndpoint } from "./support/relay.js";
import type { Held, StoreName, TabDriver } from "./support/tabs-page.js";

const example = resolve(import.meta.dirname, "../examples/live-list");
const artifacts = resolve(import.meta.dirname, "../artifacts");
const relayProcess = new RelayProcess();
let relay: RelayEndpoint;
let server: Server;
let pageOrigin: string;
let browser: Browser;

/** Bundles `entry` with esbuild, against the built package, as an application would. */
async function bundle(entry: string): Promise<string> {
  const built = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    write: false,
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  return built.outputFiles[0]?.text ?? "";
}

/** Serves the example, and at /tabs.html the page the test drives tabs with (support/tabs-page.ts). */
async function serveExample(): Promise<string> {
  const files: Record<string, [string, string]> = {
    "/": ["text/html", readFileSync(join(example, "index.html"), "utf8")],
    "/main.js": ["text/javascript", await bundle(join(example, "main.tsx"))],
    "/tabs.html": ["text/html", '<!doctype html><script type="module" src="/tabs.js"></script>'],
    "/tabs.js": ["text/javascript", await bundle(resolve(import.meta.dirname, "support/tabs-page.ts"))],
  };
  server = createServer((request, response) => {
    const file = files[new URL(request.url ?? "/", "http://localhost").pathname];
    response.writeHead(file === undefined ? 404 : 200, { "Content-Type": file?.[0] ?? "text/plain" });
    response.end(file?.[1] ?? "not found");
  });
  const port = await freePort();
  await new Promise<void>((listening) => server.listen(port, "127.0.0.1", listening));
  // localhost, not 127.0.0.1: another origin than the relay's, so hydration goes through CORS.
  return `http://localhost:${port}`;
}

async function runs(page: Page): Promise<string[]> {
  return page.getByTestId("run").allTextContents();
}

beforeAll(async () => {
  relay = await relayProcess.start();
  pageOrigin = await serveExample();
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
});

afterAll(async () => {
  await browser?.close();
  server?.close();
  await relayProcess.dispose();
});

it("shows a live list in Chromium from another origin, through a relay restart", async () => {
  await publish(relay, "runtime.run_summaries", "browser-run-1", { status: "queued" });
  const token = await mintToken(relay, { scopes: ["runtime.*"] });
  const page = await browser.newPage();
  const console: string[] = [];
  page.on("console", (message) => console.push(message.text()));
  await page.goto(`${pageOrigin}/?relay=${encodeURIComponent(relay.url)}&token=${token}`);

  await expect.poll(() => runs(page), { timeout: 30_000 }).toEqual(["browser-run-1 · queued v1"]);
  await publish(relay, "runtime.run_summaries", "browser-run-2", { status: "running", steps: 3 });
  await expect.poll(() => runs(page), { timeout: 30_000 }).toEqual(["browser-run-1 · queued v1", "browser-run-2 · running · 3 steps v1"]);
  // An omitted payload (over 256 KiB) is fetched over HTTP from the page's origin: CORS must allow it.
  await publish(relay, "runtime.run_summaries", "browser-run-1", { status: "done", log: "v".repeat(300 * 1024) });
  await expect.poll(() => runs(page), { timeout: 30_000 }).toContain("browser-run-1 · done v2");

  await relayProcess.kill();
  await expect.poll(() => page.getByTestId("state").textContent(), { timeout: 30_000 }).toBe("connecting");
  await publish(relay, "runtime.run_summaries", "browser-run-3", { status: "queued" });
  await relayProcess.start();
  await expect.poll(() => runs(page), { timeout: 90_000 }).toEqual([
    "browser-run-1 · done v2", "browser-run-2 · running · 3 steps v1", "browser-run-3 · queued v1",
  ]);
  await expect.poll(() => page.getByTestId("state").textContent(), { timeout: 30_000 }).toBe("connected");

  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, "live-list.png"), fullPage: true });

  // With the relay down, a reload still shows the list: documents and watermark came back from IndexedDB. The last
  // run is reloaded within a second of being shown, before its background save would be due: it is saved as the
  // page goes.
  await publish(relay, "runtime.run_summaries", "browser-run-4", { status: "queued" });
  await expect.poll(() => runs(page), { timeout: 30_000 }).toContain("browser-run-4 · queued v1");
  await relayProcess.kill();
  await page.reload();
  await expect.poll(() => runs(page), { timeout: 30_000 }).toEqual([
    "browser-run-1 · done v2", "browser-run-2 · running · 3 steps v1", "browser-run-3 · queued v1",
    "browser-run-4 · queued v1",
  ]);
  expect(await page.getByTestId("state").textContent()).toBe("connecting");
  expect(console.filter((line) => line.includes("CORS") || line.includes("IntegrityError"))).toEqual([]);
});

declare global {
  interface Window {
    tab: TabDriver;
  }
}

/** A tab of `context` on the driver page, its `window.tab` ready. */
async function openTab(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${pageOrigin}/tabs.html`);
  await page.waitForFunction(() => "tab" in window);
  return page;
}

function startTab(page: Page, url: string, token: string, store: StoreName, topics: string[], saveIntervalMs = 1000): Promise<void> {
  return page.evaluate(([...args]) => window.tab.start(...args), [url, token, store, topics, saveIntervalMs] as const);
}

function held(page: Page, topic: string): Promise<Held & { caughtUp: boolean }> {
  return page.evaluate((name) => window.tab.held(name), topic);
}

it.each(["IndexedDbStore", "LocalStorageStore"] as const)(
  "two tabs on one %s keep each other's topics, and of a topic both follow the copy further on",
  async (kind) => {
    const relay = sharedRelay();
    const first = await createTopic(relay, "first_tab");
    const second = await createTopic(relay, "second_tab");
    const both = await createTopic(relay, "both_tabs");
    const doc = (topic: string) => `doc-${topic}`;
    await publish(relay, first, doc(first), { n: 1 });
    await publish(relay, both, doc(both), { n: 1 });
    const token = await mintToken(relay);
    const store: StoreName = { kind, name: `tabs-${first}` };
    const context = await browser.newContext();
    const proxy = await TcpProxy.start(relay.url);
    const cutOff = proxy.url;
    try {
      const [a, b, c] = [await openTab(context), await openTab(context), await openTab(context)];
      await startTab(a, relay.url, token, store, [first, both]);
      await expect.poll(() => held(a, first), { timeout: 30_000 }).toMatchObject({ caughtUp: true, n: [1] });
      await expect.poll(() => held(a, both), { timeout: 30_000 }).toMatchObject({ caughtUp: true, n: [1] });
      const saved = (topic: string) => a.evaluate(([name, where]) => window.tab.saved(where, name), [topic, store] as const);
      await expect.poll(() => saved(first), { timeout: 30_000 }).toBe((await held(a, first)).watermark);

      // B loads what A saved, follows the second topic and the shared one through a proxy, and saves its first change
      // at once, its next ones a minute later.
      await startTab(b, cutOff, token, store, [second, both], 60_000);
      await publish(relay, second, doc(second), { n: 1 });
      await expect.poll(() => held(b, second), { timeout: 30_000 }).toMatchObject({ caughtUp: true, n: [1] });
      await expect.poll(() => held(b, both), { timeout: 30_000 }).toMatchObject({ caughtUp: true, n: [1] });
      await publish(relay, second, doc(second), { n: 2 });
      await expect.poll(() => held(b, second), { timeout: 30_000 }).toMatchObject({ n: [2] });

      // B is cut off with the shared topic at n 1; A goes on to n 2 on both of its topics and saves as it stops. B's
      // save comes last: before, it wrote the first topic as B had loaded it and the shared topic as B held it.
      await proxy.close();
      await publish(relay, first, doc(first), { n: 2 });
      await publish(relay, both, doc(both), { n: 2 });
      await expect.poll(() => held(a, first), { timeout: 30_000 }).toMatchObject({ n: [2] });
      await expect.poll(() => held(a, both), { timeout: 30_000 }).toMatchObject({ n: [2] });
      const newest = [await held(a, first), await held(b, second), await held(a, both)].map(({ watermark, n }) => ({ watermark, n }));
      await a.evaluate(() => window.tab.stop());
      // localStorage has no transaction across tabs, and Chromium hands one tab's write to another's renderer a moment
      // later: a save of B right after A's could merge with what B's renderer still held (the limit the README states;
      // the likely cause of this test's one failure, in a loaded run). B stops once it reads A's save, as a tab closed
      // a moment after another does.
      await expect.poll(() => b.evaluate(([name, where]) => window.tab.saved(where, name), [first, store] as const), { timeout: 30_000 })
        .toBe(newest[0]?.watermark);
      await b.evaluate(() => window.tab.stop());

      // A third tab, offline, shows what the store holds.
      await startTab(c, cutOff, token, store, [first, second, both]);
      const loaded = await Promise.all([first, second, both].map((topic) => held(c, topic)));
      expect(loaded.map(({ watermark, n }) => ({ watermark, n }))).toEqual(newest);
      expect(newest.map(({ n }) => n)).toEqual([[2], [2], [2]]);
    } finally {
      await context.close();
      await proxy.close();
    }
  },
);
