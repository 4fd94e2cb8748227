import { afterEach, expect, it } from "vitest";
import { MemoryStore, type SyncClient, type SyncStore } from "../src/index.js";
import { FileStore } from "../src/node/index.js";
import { createTopic, fileStoreClients, publish, sharedRelay, until } from "./support/fixture.js";
import { TcpProxy } from "./support/proxy.js";

/**
 * Clients sharing one store, as the tabs of a page share their IndexedDB store (the web review of 2026-12-04, W2:
 * /work/reviews/web.md). The browser test does the same with `IndexedDbStore` and `LocalStorageStore` in Chromium.
 */

const files = fileStoreClients("khala-shared-");
const proxies: TcpProxy[] = [];

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

interface Counted {
  readonly n: number;
}

/** What `topic` holds: its watermark and the `n` of its one document. */
function held(topic: { watermark: number; documents(): readonly { payload: Counted }[] }) {
  return { watermark: topic.watermark, n: topic.documents().map((document) => document.payload.n) };
}

const memory = new MemoryStore();

it.each([
  { shared: "a file (a FileStore each)", store: (): SyncStore => new FileStore(files.store.path) },
  { shared: "a MemoryStore", store: (): SyncStore => memory },
])("two clients on $shared keep each other's topics, and of a topic both follow the copy further on", async ({ store }) => {
  const relay = sharedRelay();
  const first = await createTopic(relay, "first_tab");
  const second = await createTopic(relay, "second_tab");
  const both = await createTopic(relay, "both_tabs");
  const doc = (topic: string) => `doc-${topic}`;
  await publish(relay, first, doc(first), { n: 1 });
  await publish(relay, both, doc(both), { n: 1 });

  const a = files.client({ store: store() }).client;
  const aFirst = a.subscribe<Counted>(first);
  const aBoth = a.subscribe<Counted>(both);
  await a.start();
  await until(aFirst, (t) => t.caughtUp && t.get(doc(first))?.payload.n === 1, "the first topic's document");
  await until(aBoth, (t) => t.caughtUp && t.get(doc(both))?.payload.n === 1, "the shared topic's document");
  await expect.poll(async () => (await store().load())?.topics[first]?.watermark).toBe(aFirst.watermark);

  // B loads what A saved, follows the second topic and the shared one through a proxy, and saves its first change at
  // once, its next ones a minute later.
  const proxy = await TcpProxy.start(relay.url);
  proxies.push(proxy);
  const b = files.client({ store: store(), url: proxy.url, saveIntervalMs: 60_000 }).client;
  const bSecond = b.subscribe<Counted>(second);
  const bBoth = b.subscribe<Counted>(both);
  await b.start();
  await publish(relay, second, doc(second), { n: 1 });
  await until(bSecond, (t) => t.caughtUp && t.get(doc(second))?.payload.n === 1, "the second topic's document");
  await until(bBoth, (t) => t.caughtUp && t.get(doc(both))?.payload.n === 1, "the shared topic's document");
  await publish(relay, second, doc(second), { n: 2 });
  await until(bSecond, (t) => t.get(doc(second))?.payload.n === 2, "the second topic's update, not saved yet");

  // B is cut off with the shared topic at n 1; A goes on to n 2 on both of its topics and saves as it stops. B's save
  // comes last: before, it wrote the first topic as B had loaded it and the shared topic as B held it, both older.
  await proxy.close();
  await publish(relay, first, doc(first), { n: 2 });
  await publish(relay, both, doc(both), { n: 2 });
  await until(aFirst, (t) => t.get(doc(first))?.payload.n === 2, "the first topic's update");
  await until(aBoth, (t) => t.get(doc(both))?.payload.n === 2, "the shared topic's update");
  const newest = { [first]: held(aFirst), [second]: held(bSecond), [both]: held(aBoth) };
  await a.stop();
  await b.stop();

  const c: SyncClient = files.client({ store: store() }).client;
  const loaded = [first, second, both].map((topic) => [topic, c.subscribe<Counted>(topic)] as const);
  await c.start();
  expect(Object.fromEntries(loaded.map(([topic, handle]) => [topic, held(handle)]))).toEqual(newest);
  expect(Object.values(newest).map((topic) => topic.n)).toEqual([[2], [2], [2]]);
});
