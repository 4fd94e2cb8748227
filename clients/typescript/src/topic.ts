import { isTombstone, type CacheEntry, type SyncDocument } from "./document.js";
import { ListenerError, PayloadError } from "./errors.js";

const refusedPayload = Symbol("refused");

/** Turns a payload as received into the topic's document type; throw to refuse it. */
export type PayloadParser<T> = (payload: unknown) => T;

/**
 * One topic's documents, applied monotonically by `(doc_key, doc_version)` (WS_MAPPING §5.3), and its resume point.
 * `documents()` and `get()` return the same objects until something changes, as `useSyncExternalStore` requires.
 */
export class Topic<T> {
  readonly name: string;
  readonly #entries = new Map<string, CacheEntry>();
  /** The doc_keys whose entry is a tombstone, so that dropping them does not walk every document. */
  readonly #tombstones = new Set<string>();
  /**
   * The payloads as received of the documents whose parser returned another value: what is saved, so that a restart
   * parses what the relay sent, not the parser's own output.
   */
  readonly #received = new Map<string, unknown>();
  readonly #listeners = new Set<() => void>();
  readonly #parse: PayloadParser<T>;
  readonly #refused: (error: PayloadError) => void;
  #snapshot: readonly SyncDocument<T>[] | undefined;
  #watermark = 0;
  #epoch: string | undefined;
  #caughtUp = false;

  /** `refused` hears of every payload the parser threw on; such a document is not held. */
  constructor(name: string, parse: PayloadParser<T>, refused: (error: PayloadError) => void) {
    this.name = name;
    this.#parse = parse;
    this.#refused = refused;
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

  /**
   * Calls `listener` after every change of documents, watermark or caught-up state; returns the way to stop. A listener
   * that throws keeps no other from being called; the client reports it and calls them all again (see the README).
   */
  listen = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** @internal Applies a document if it is newer than the version held; returns whether it was. */
  applyDocument(docKey: string, docVersion: number, payload: unknown, payloadHash: string | undefined): boolean {
    if ((this.versionOf(docKey) ?? -1) >= docVersion) {
      return false;
    }
    const parsed = this.#parsed(docKey, docVersion, payload);
    if (parsed === refusedPayload) {
      return false;
    }
    this.#set({ topic: this.name, docKey, docVersion, payload: parsed, payloadHash }, payload);
    return true;
  }

  /**
   * @internal Removes a document, remembering its version until the topic's watermark reaches `watermark` (see
   * {@link Tombstone}); returns whether anything changed.
   */
  applyTombstone(docKey: string, docVersion: number, watermark: number): boolean {
    if ((this.versionOf(docKey) ?? -1) >= docVersion) {
      return false;
    }
    this.#set({ topic: this.name, docKey, docVersion, deleted: true, watermark });
    this.#tombstones.add(docKey);
    return true;
  }

  /**
   * @internal Replaces every entry and the resume point, as a re-hydration does. The documents are of the topic's
   * current epoch, which the next Subscribed names: the topic resumes without one, and is not caught up until then.
   */
  replace(documents: readonly { docKey: string; docVersion: number; payload: unknown; payloadHash: string | undefined }[], watermark: number): void {
    this.#entries.clear();
    this.#tombstones.clear();
    this.#received.clear();
    for (const document of documents) {
      const payload = this.#parsed(document.docKey, document.docVersion, document.payload);
      if (payload !== refusedPayload) {
        this.#set({ topic: this.name, ...document, payload }, document.payload);
      }
    }
    this.#watermark = watermark;
    this.#epoch = undefined;
    this.#caughtUp = false;
    this.#snapshot = undefined;
  }

  /** @internal Restores entries saved by {@link entries}; their payloads go through the parser again. */
  restore(entries: readonly CacheEntry[], watermark: number, epoch: string | undefined): void {
    for (const entry of entries) {
      if (isTombstone(entry)) {
        this.#entries.set(entry.docKey, entry);
        this.#tombstones.add(entry.docKey);
        continue;
      }
      const payload = this.#parsed(entry.docKey, entry.docVersion, entry.payload);
      if (payload !== refusedPayload) {
        this.#set({ ...entry, payload }, entry.payload);
      }
    }
    this.#watermark = watermark;
    this.#epoch = epoch;
    this.#snapshot = undefined;
    this.#dropTombstonesThrough(watermark);
  }

  /** @internal Every entry, tombstones included, for saving: each document with its payload as received. */
  entries(): CacheEntry[] {
    return [...this.#entries.values()].map((entry) =>
      this.#received.has(entry.docKey) ? { ...entry, payload: this.#received.get(entry.docKey) } : entry);
  }

  /** @internal */
  setWatermark(watermark: number, epoch?: string): boolean {
    const changed = watermark !== this.#watermark || (epoch !== undefined && epoch !== this.#epoch);
    this.#watermark = watermark;
    this.#epoch = epoch ?? this.#epoch;
    this.#dropTombstonesThrough(watermark);
    return changed;
  }

  /** Forgets the deletions at or below `watermark`: no older update of them can come any more. */
  #dropTombstonesThrough(watermark: number): void {
    for (const docKey of this.#tombstones) {
      const entry = this.#entries.get(docKey);
      if (entry === undefined || !isTombstone(entry)) {
        this.#tombstones.delete(docKey);
      } else if ((entry.watermark ?? 0) <= watermark) {
        this.#entries.delete(docKey);
        this.#tombstones.delete(docKey);
      }
    }
  }

  /** @internal */
  setCaughtUp(caughtUp: boolean): void {
    this.#caughtUp = caughtUp;
  }

  /**
   * @internal Tells listeners that something changed: every one, whatever the others throw; then throws a
   * {@link ListenerError} for the first that threw.
   */
  notify(): void {
    let failure: unknown;
    let failures = 0;
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (error) {
        if (failures++ === 0) {
          failure = error;
        }
      }
    }
    if (failures > 0) {
      throw new ListenerError(this.name, failure, failures - 1);
    }
  }

  #parsed(docKey: string, docVersion: number, payload: unknown): T | typeof refusedPayload {
    try {
      return this.#parse(payload);
    } catch (cause) {
      this.#refused(new PayloadError(`${this.name} ${docKey} v${docVersion}: refused by the topic's parser: ${(cause as Error).message}`, { cause }));
      return refusedPayload;
    }
  }

  /** Holds `entry`; for a document, `received` is its payload as received, kept when the parser returned another value. */
  #set(entry: CacheEntry, received?: unknown): void {
    this.#entries.set(entry.docKey, entry);
    if (!isTombstone(entry) && received !== entry.payload) {
      this.#received.set(entry.docKey, received);
    } else {
      this.#received.delete(entry.docKey);
    }
    this.#snapshot = undefined;
  }
}
