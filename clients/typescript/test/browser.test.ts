import { mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { mintToken, publish } from "./support/fixture.js";
import { freePort, RelayProcess, type RelayEndpoint } from "./support/relay.js";

const example = resolve(import.meta.dirname, "../examples/live-list");
const artifacts = resolve(import.meta.dirname, "../artifacts");
const relayProcess = new RelayProcess();
let relay: RelayEndpoint;
let server: Server;
let pageOrigin: string;
let browser: Browser;

/** Bundles the example with esbuild (against the built package, as an application would) and serves it. */
async function serveExample(): Promise<string> {
  const bundle = await build({
    entryPoints: [join(example, "main.tsx")],
    bundle: true,
    format: "esm",
    write: false,
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  const files: Record<string, [string, string]> = {
    "/": ["text/html", readFileSync(join(example, "index.html"), "utf8")],
    "/main.js": ["text/javascript", bundle.outputFiles[0]?.text ?? ""],
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
