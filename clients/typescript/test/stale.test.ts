import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import type { SyncClient } from "../src/index.js";
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
  const { after, staleCursors, errors } = await restartAndGoLive(path, topic, "stale-5");

  expect(staleCursors).toEqual([[topic, 5]]);
  expect(after.documents().map((d) => [d.docKey, d.payload.n])).toEqual([["stale-2", 2], ["stale-3", 3], ["stale-4", 4], ["stale-5", 5]]);
  expect(after.watermark).toBe(6);
  // A stale cursor is handled, not a failure: onStaleCursor tells it, onError does not.
  expect(errors).toEqual([]);
});

it("after a restore and the DBA's relay.reset_epoch, resumes from its stored epoch, re-hydrates once and goes on live", async () => {
  const relay = sharedRelay();
  const topic = await createTopic(relay, "epoch");
  directory = mkdtempSync(join(tmpdir(), "khala-epoch-"));
  const path = join(directory, "sync.json");
  await publish(relay, topic, "epoch-1", { n: 1 });
  await publish(relay, topic, "epoch-2", { n: 2 });
  const first = newClient(relay, { store: new FileStore(path) }).client;
  clients.push(first);
  const before = first.subscribe(topic);
  await first.start();
  await publish(relay, topic, "epoch-lost", { n: 3 });
  await until(before, (t) => t.caughtUp && t.watermark === 3 && t.epoch !== undefined, "three documents and the topic's epoch");
  await first.stop();

  // What restoring a backup taken at watermark 2 does to the topic; then the DBA step; then writers go on past the
  // client's cursor, reusing a watermark it has seen.
  await sql(relay, "DELETE FROM relay.stream_events WHERE topic = $1 AND watermark > 2", [topic]);
  await sql(relay, "DELETE FROM relay.documents WHERE topic = $1 AND doc_key = 'epoch-lost'", [topic]);
  await sql(relay, "UPDATE relay.topics SET head_watermark = 2 WHERE topic = $1", [topic]);
  await sql(relay, "SELECT relay.reset_epoch($1)", [topic]);
  await publish(relay, topic, "epoch-3", { n: 3 });
  await publish(relay, topic, "epoch-4", { n: 4 });
  const { after, staleCursors, errors } = await restartAndGoLive(path, topic, "epoch-5");

  expect(staleCursors).toEqual([[topic, 4]]);
  expect(after.documents().map((d) => [d.docKey, d.payload.n])).toEqual([["epoch-1", 1], ["epoch-2", 2], ["epoch-3", 3], ["epoch-4", 4], ["epoch-5", 5]]);
  // A stale cursor is handled, not a failure: onStaleCursor tells it, onError does not.
  expect(errors).toEqual([]);
});

/** A new client on the saved state: it gets STALE_CURSOR, re-hydrates, and receives `live` published afterwards. */
async function restartAndGoLive(path: string, topic: string, live: string) {
  const relay = sharedRelay();
  const staleCursors: [string, number][] = [];
  const { client: second, errors } = newClient(relay, {
    store: new FileStore(path),
    onStaleCursor: (stale, watermark) => staleCursors.push([stale, watermark]),
  });
  clients.push(second);
  const after = second.subscribe<{ n: number }>(topic);
  await second.start();
  await until(after, () => staleCursors.length === 1, "the stale cursor's re-hydration");
  await publish(relay, topic, live, { n: 5 });
  await until(after, (t) => t.get(live) !== undefined, "the live update after re-hydration");
  return { after, staleCursors, errors };
}
