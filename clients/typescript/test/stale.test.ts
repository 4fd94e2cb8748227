import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { SyncRelayError, type SyncClient } from "../src/index.js";
import { FileStore } from "../src/node/index.js";
import { createTopic, newClient, publish, sharedRelay, sql, until } from "./support/fixture.js";

const clients: SyncClient[] = [];
let directory: string | undefined;

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.stop()));
  if (directory !== undefined) {
    rmSync(directory, { recursive: true, force: true });
  }
});

it("re-hydrates a topic whose cursor was pruned away and goes on live from the list's watermark", async () => {
  const relay = sharedRelay();
  const topic = await createTopic(relay, "stale");
  directory = mkdtempSync(join(tmpdir(), "khala-stale-"));
  const path = join(directory, "sync.json");
  await publish(relay, topic, "stale-1", { n: 1 });
  await publish(relay, topic, "stale-2", { n: 2 });
  const first = newClient(relay, { store: new FileStore(path) }).client;
  clients.push(first);
  const before = first.subscribe(topic);
  await first.start();
  await until(before, (t) => t.caughtUp && t.watermark === 2, "the first two documents");
  await first.stop();

  await publish(relay, topic, "stale-3", { n: 3 });
  await sql(relay, "SELECT relay.delete($1, 'stale-1')", [topic]);
  await publish(relay, topic, "stale-4", { n: 4 });
  await sql(relay, "SELECT * FROM relay.prune($1, interval '0 seconds')", [topic]);
  const staleCursors: [string, number][] = [];
  const { client: second, errors } = newClient(relay, {
    store: new FileStore(path),
    onStaleCursor: (stale, watermark) => staleCursors.push([stale, watermark]),
  });
  clients.push(second);
  const after = second.subscribe<{ n: number }>(topic);
  await second.start();
  await until(after, () => staleCursors.length === 1, "the stale cursor's re-hydration");
  await publish(relay, topic, "stale-5", { n: 5 });
  await until(after, (t) => t.get("stale-5") !== undefined, "the live update after re-hydration");

  expect(staleCursors).toEqual([[topic, 5]]);
  expect(after.documents().map((d) => [d.docKey, d.payload.n])).toEqual([["stale-2", 2], ["stale-3", 3], ["stale-4", 4], ["stale-5", 5]]);
  expect(after.watermark).toBe(6);
  expect(errors.map((e) => (e instanceof SyncRelayError ? e.code : e.message))).toEqual(["STALE_CURSOR"]);
});
