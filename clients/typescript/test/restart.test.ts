import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { SyncClient } from "../src/index.js";
import { FileStore } from "../src/node/index.js";
import { createTopic, newClient, publish, until } from "./support/fixture.js";
import { RelayProcess, type RelayEndpoint } from "./support/relay.js";

// A relay of this file's own: the test kills it.
const relayProcess = new RelayProcess();
let relay: RelayEndpoint;
const clients: SyncClient[] = [];
const directory = mkdtempSync(join(tmpdir(), "khala-restart-"));

beforeAll(async () => {
  relay = await relayProcess.start();
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.stop()));
  await relayProcess.dispose();
  rmSync(directory, { recursive: true, force: true });
});

it("resumes after the relay is killed and started again, and after the client restarts", async () => {
  const topic = await createTopic(relay, "restart");
  const path = join(directory, "sync.json");
  await publish(relay, topic, "restart-1", { n: 1 });
  const { client, errors } = newClient(relay, { store: new FileStore(path) });
  clients.push(client);
  const runs = client.subscribe<{ n: number }>(topic);
  await client.start();
  await until(runs, (t) => t.caughtUp && t.get("restart-1") !== undefined, "the first document");

  await relayProcess.kill();
  await publish(relay, topic, "restart-2", { n: 2 });
  await relayProcess.start();
  await until(runs, (t) => t.get("restart-2") !== undefined, "the document published while the relay was down", 90_000);
  const reconnects = client.stats.reconnects;
  await client.stop();

  await publish(relay, topic, "restart-3", { n: 3 });
  const again = newClient(relay, { store: new FileStore(path) }).client;
  clients.push(again);
  const resumed = again.subscribe<{ n: number }>(topic);
  await again.start();
  const heldAtStart = resumed.documents().map((d) => d.docKey);
  await until(resumed, (t) => t.get("restart-3") !== undefined, "the document published while the client was stopped");

  expect(reconnects).toBeGreaterThanOrEqual(1);
  expect(reconnects).toBeLessThanOrEqual(10);
  expect(heldAtStart).toEqual(["restart-1", "restart-2"]);
  expect(resumed.documents().map((d) => d.payload.n)).toEqual([1, 2, 3]);
  // Each attempt while the relay was down, said as such; nothing else.
  expect(errors.map((error) => error.message)).toEqual(
    Array.from({ length: errors.length }, () => expect.stringMatching(/^could not connect to ws:\/\/.*: connect ECONNREFUSED /)));
});
