import { isTombstone, type CacheEntry, type SyncDocument } from "./document.js";

/** Turns a payload as received into the topic's document type; throw to refuse it. */
export type PayloadParser<T> = (payload: unknown) => T;

/**
 * One topic's documents, applied monotonically by `(doc_key, doc_version)` (WS_MAPPING §5.3), and its resume point.
 * `documents()` and `get()` return the same objects until something changes, as `useSyncExternalStore` requires.
 */
export class Topic<T> {
  readonly name: string;
  readonly #entries = new Map<string, CacheEntry>();
  readonly #listeners = new Set<() => void>();
  readonly #parse: PayloadParser<T>;
  #snapshot: readonly SyncDocument<T>[] | undefined;
  #watermark = 0;
  #epoch: string | undefined;
  #caughtUp = false;

  constructor(name: string, parse: PayloadParser<T>) {
    this.name = name;
    this.#parse = parse;
  }

  /** The watermark this topic was last brought up to (0 before any). */
  get watermark(): number {
    return this.#watermark;
  }

  /** The topic's epoch, when the relay has sent one. */
  get epoch(): string | undefined {
    return this.#epoch;
  }

  /** Whether replay has ended on the current connection: from then on updates are live. */
  get caughtUp(): boolean {
    return this.#caughtUp;
  }

  /** The documents held, ordered by doc_key. */
  documents = (): readonly SyncDocument<T>[] => {
    this.#snapshot ??= [...this.#entries.values()]
      .filter((entry): entry is SyncDocument<unknown> => !isTombstone(entry))
      .sort((a, b) => (a.docKey < b.docKey ? -1 : a.docKey > b.docKey ? 1 : 0)) as readonly SyncDocument<T>[];
    return this.#snapshot;
  };

  /** The document `docKey`, or undefined when it is not held (or deleted). */
  get = (docKey: string): SyncDocument<T> | undefined => {
    const entry = this.#entries.get(docKey);
    return entry === undefined || isTombstone(entry) ? undefined : (entry as SyncDocument<T>);
  };

  /** The version held for `docKey`, a tombstone's too. */
  versionOf(docKey: string): number | undefined {
    return this.#entries.get(docKey)?.docVersion;
  }

  /** Calls `listener` after every change of documents, watermark or caught-up state; returns the way to stop. */
  listen = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** @internal Applies a document if it is newer than the version held; returns whether it was. */
  applyDocument(docKey: string, docVersion: number, payload: unknown, payloadHash: string | undefined): boolean {
    if ((this.versionOf(docKey) ?? -1) >= docVersion) {
      return false;
    }
    this.#set({ topic: this.name, docKey, docVersion, payload: this.#parse(payload), payloadHash });
    return true;
  }

  /** @internal Removes a document, remembering its version; returns whether anything changed. */
  applyTombstone(docKey: string, docVersion: number): boolean {
    if ((this.versionOf(docKey) ?? -1) >= docVersion) {
      return false;
    }
    this.#set({ topic: this.name, docKey, docVersion, deleted: true });
    return true;
  }

  /** @internal Replaces every entry, as a re-hydration does. */
  replace(documents: readonly { docKey: string; docVersion: number; payload: unknown; payloadHash: string | undefined }[]): void {
    this.#entries.clear();
    for (const document of documents) {
      this.#entries.set(document.docKey, { topic: this.name, ...document, payload: this.#parse(document.payload) });
    }
    this.#snapshot = undefined;
  }

  /** @internal Restores entries saved by {@link entries}. */
  restore(entries: readonly CacheEntry[], watermark: number, epoch: string | undefined): void {
    for (const entry of entries) {
      this.#entries.set(entry.docKey, entry);
    }
    this.#watermark = watermark;
    this.#epoch = epoch;
    this.#snapshot = undefined;
  }

  /** @internal Every entry, tombstones included, for saving. */
  entries(): CacheEntry[] {
    return [...this.#entries.values()];
  }

  /** @internal */
  setWatermark(watermark: number, epoch?: string): boolean {
    const changed = watermark !== this.#watermark || (epoch !== undefined && epoch !== this.#epoch);
    this.#watermark = watermark;
    this.#epoch = epoch ?? this.#epoch;
    return changed;
  }

  /** @internal */
  setCaughtUp(caughtUp: boolean): void {
    this.#caughtUp = caughtUp;
  }

  /** @internal Tells listeners that something changed. */
  notify(): void {
    for (const listener of this.#listeners) {
      listener();
    }
  }

  #set(entry: CacheEntry): void {
    this.#entries.set(entry.docKey, entry);
    this.#snapshot = undefined;
  }
}
