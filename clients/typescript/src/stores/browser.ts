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
    const text = this.#storage.getItem(this.#key);
    try {
      return Promise.resolve(text === null ? undefined : parseState(text, `localStorage ${this.#key}`));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  save(state: SyncState): Promise<void> {
    this.#storage.setItem(this.#key, JSON.stringify(state));
    return Promise.resolve();
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
}
