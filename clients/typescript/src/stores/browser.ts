import { createStore, get, promisifyRequest, type UseStore } from "idb-keyval";
import { checkState, parseState, type SyncState, type SyncStore } from "../store.js";

/** The state as one JSON string under `key` of `localStorage` (or another `Storage`); fine up to a few MiB. */
export class LocalStorageStore implements SyncStore {
  readonly #key: string;
  readonly #storage: Storage;

  constructor(key: string, storage: Storage = globalThis.localStorage) {
    this.#key = key;
    this.#storage = storage;
  }

  load(): Promise<SyncState | undefined> {
    try {
      return Promise.resolve(this.#read());
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  save(state: SyncState): Promise<void> {
    this.#storage.setItem(this.#key, JSON.stringify(state));
    return Promise.resolve();
  }

  /**
   * Reads, merges and writes in one step, with no await between: atomic against the clients of this page.
   * `localStorage` has no transaction across tabs, though: a tab that writes between another's read and write (within
   * the same few milliseconds) has its save undone, until its next one.
   */
  update(merge: (saved: SyncState | undefined) => SyncState): Promise<void> {
    try {
      this.#storage.setItem(this.#key, JSON.stringify(merge(this.#read())));
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  #read(): SyncState | undefined {
    const text = this.#storage.getItem(this.#key);
    return text === null ? undefined : parseState(text, `localStorage ${this.#key}`);
  }
}

/** The state as one record of an IndexedDB object store (through idb-keyval): for caches larger than localStorage allows. */
export class IndexedDbStore implements SyncStore {
  readonly #store: UseStore;
  readonly #name: string;

  constructor(databaseName = "khala-relay", storeName = "sync") {
    this.#store = createStore(databaseName, storeName);
    this.#name = `IndexedDB ${databaseName}/${storeName}`;
  }

  async load(): Promise<SyncState | undefined> {
    const value: unknown = await get("state", this.#store);
    return value === undefined ? undefined : checkState(value, this.#name);
  }

  /**
   * Puts the state and asks for the commit at once (idb-keyval's `set` waits for the put's success first): a save
   * begun as the page goes away (the client saves on `pagehide`) is then committed, not aborted with the page.
   */
  save(state: SyncState): Promise<void> {
    return this.#store("readwrite", (store) => {
      store.put(state, "state");
      store.transaction.commit();
      return promisifyRequest(store.transaction);
    });
  }

  /**
   * Reads the state, merges and puts the result in one transaction, which IndexedDB runs alone among those that write
   * this store, whatever the tab: no other tab's save comes between the read and the write. Committed at once, as
   * {@link save}.
   */
  update(merge: (saved: SyncState | undefined) => SyncState): Promise<void> {
    return this.#store("readwrite", async (store) => {
      const saved: unknown = await promisifyRequest(store.get("state"));
      store.put(merge(saved === undefined ? undefined : checkState(saved, this.#name)), "state");
      store.transaction.commit();
      return promisifyRequest(store.transaction);
    });
  }
}
