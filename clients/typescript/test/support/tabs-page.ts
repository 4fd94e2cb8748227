import { IndexedDbStore, LocalStorageStore, SyncClient, type SyncStore, type Topic } from "@khala/relay-client";

/** What a topic holds: its watermark and the `n` of its documents. */
export interface Held {
  readonly watermark: number;
  readonly n: readonly number[];
}

/** A store of the page's origin, by kind and name: the same name is the same storage in every tab. */
export interface StoreName {
  readonly kind: "IndexedDbStore" | "LocalStorageStore";
  readonly name: string;
}

/** What the browser test drives in a tab, as `window.tab`: one client at a time. */
export interface TabDriver {
  start(url: string, token: string, store: StoreName, topics: readonly string[], saveIntervalMs: number): Promise<void>;
  /** What `topic` holds, and whether it is caught up. */
  held(topic: string): Held & { readonly caughtUp: boolean };
  /** The watermark `store` holds for `topic`, read as another tab would. */
  saved(store: StoreName, topic: string): Promise<number | undefined>;
  stop(): Promise<void>;
}

let client: SyncClient | undefined;
const topics = new Map<string, Topic<{ n: number }>>();

function open(store: StoreName): SyncStore {
  return store.kind === "IndexedDbStore" ? new IndexedDbStore(store.name) : new LocalStorageStore(store.name);
}

const tab: TabDriver = {
  async start(url, token, store, names, saveIntervalMs) {
    client = new SyncClient({ url, token: () => Promise.resolve(token), store: open(store), saveIntervalMs, onError: (error) => console.warn(error.message) });
    for (const name of names) {
      topics.set(name, client.subscribe(name));
    }
    await client.start();
  },
  held(name) {
    const topic = topics.get(name);
    if (topic === undefined) {
      throw new Error(`this tab does not follow ${name}`);
    }
    return { watermark: topic.watermark, n: topic.documents().map((document) => document.payload.n), caughtUp: topic.caughtUp };
  },
  async saved(store, name) {
    return (await open(store).load())?.topics[name]?.watermark;
  },
  async stop() {
    await client?.stop();
  },
};

Object.assign(globalThis, { tab });
