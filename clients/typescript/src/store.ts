import type { CacheEntry } from "./document.js";

/** What a client persists for one topic: its resume point and the documents it holds, tombstones included. */
export interface StoredTopic {
  readonly watermark: number;
  /** The topic's epoch, once the relay has sent one (CONTRACT §3); resumed with, beside the watermark. */
  readonly epoch?: string;
  readonly entries: readonly CacheEntry[];
}

/** Whom a state belongs to: the `oa_org_id` and `sub` of the tokens its documents were received with (CONTRACT §4). */
export interface SyncIdentity {
  readonly org: string;
  readonly subject: string;
}

/** Whether `b` names the same organisation and subject as `a`. */
export function sameIdentity(a: SyncIdentity, b: SyncIdentity | undefined): boolean {
  return a.org === b?.org && a.subject === b.subject;
}

/**
 * Everything a client persists, saved as one value so that watermarks and documents can never disagree: a client
 * restarted from it never resumes past documents it no longer holds.
 */
export interface SyncState {
  readonly version: 1;
  /**
   * Whose documents these are. A client started with a token of another organisation or subject discards the state,
   * as it does one without an identity (saved before states recorded theirs), and hydrates afresh.
   */
  readonly identity?: SyncIdentity;
  readonly topics: Readonly<Record<string, StoredTopic>>;
}

/**
 * Where a client keeps its {@link SyncState}. `save` must replace the whole state atomically (one `setItem`, one
 * IndexedDB `put`, a file renamed into place): a crash leaves the old state or the new one, never a mix. React
 * Native implements it with AsyncStorage (`setItem` of `JSON.stringify(state)`) or one SQLite row.
 */
export interface SyncStore {
  /** The saved state, or undefined when nothing was saved yet. */
  load(): Promise<SyncState | undefined>;
  save(state: SyncState): Promise<void>;
  /**
   * Replaces the saved state with what `merge` returns for it (undefined when nothing was saved yet), atomically
   * against every other writer of the same storage: nothing is written between the read and the write (one IndexedDB
   * transaction). `merge` is synchronous. With it, several clients on one store (the tabs of a page) each keep what the
   * others saved; a client uses it instead of `save` when the store has it. A store without it is one client's.
   */
  update?(merge: (saved: SyncState | undefined) => SyncState): Promise<void>;
}

/** A stored state that cannot be read back. */
export class StoredStateError extends Error {
  override readonly name = "StoredStateError";
}

/** A watermark or a doc_version as the relay sends them: an integer, not negative. */
function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

/**
 * Whether `value` is a saved entry: a document (its payload may be left out, as JSON leaves out `undefined`) or a
 * tombstone, whose `watermark` states saved before 2026-12-03 lack.
 */
function isEntry(value: unknown): boolean {
  const entry = value as { docKey?: unknown; docVersion?: unknown; deleted?: unknown; watermark?: unknown; payloadHash?: unknown } | null;
  if (typeof entry !== "object" || entry === null || typeof entry.docKey !== "string" || !isCount(entry.docVersion)) {
    return false;
  }
  return "deleted" in entry
    ? entry.deleted === true && (entry.watermark === undefined || isCount(entry.watermark))
    : entry.payloadHash === undefined || entry.payloadHash === null || typeof entry.payloadHash === "string";
}

/**
 * Checks the shape of a state read back from storage, every entry included, before anything of it is used: a damaged
 * store fails at start with its reason, and shows none of it.
 */
export function checkState(value: unknown, where: string): SyncState {
  const state = value as Partial<SyncState> | null;
  if (typeof state !== "object" || state === null || state.version !== 1 || typeof state.topics !== "object" || state.topics === null) {
    throw new StoredStateError(`${where}: not a saved sync state (version 1); delete it to start over`);
  }
  if (state.identity !== undefined && (typeof state.identity?.org !== "string" || typeof state.identity.subject !== "string")) {
    throw new StoredStateError(`${where}: its identity is not an org and a subject; delete it to start over`);
  }
  for (const [topic, stored] of Object.entries(state.topics)) {
    if (!isCount(stored?.watermark) || !Array.isArray(stored.entries)) {
      throw new StoredStateError(`${where}: topic ${topic} has no watermark or entries; delete it to start over`);
    }
    if (stored.epoch !== undefined && typeof stored.epoch !== "string") {
      throw new StoredStateError(`${where}: the epoch of topic ${topic} is not a string; delete it to start over`);
    }
    const damaged = stored.entries.findIndex((entry) => !isEntry(entry));
    if (damaged >= 0) {
      throw new StoredStateError(`${where}: entry ${damaged} of topic ${topic} is not a document or a tombstone; delete it to start over`);
    }
  }
  return state as SyncState;
}

/** Reads a state saved as JSON text (a file, a `localStorage` item) and checks it: a store cut short fails the same way. */
export function parseState(text: string, where: string): SyncState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new StoredStateError(`${where}: not a saved sync state: it is not JSON (${(cause as Error).message}), cut short perhaps; delete it to start over`, { cause });
  }
  return checkState(value, where);
}

/**
 * Keeps the state in memory only: a restarted client starts from scratch. The default. Clients given the same instance
 * share it as tabs share an IndexedDB store.
 */
export class MemoryStore implements SyncStore {
  #state: SyncState | undefined;

  load(): Promise<SyncState | undefined> {
    return Promise.resolve(this.#state);
  }

  save(state: SyncState): Promise<void> {
    this.#state = structuredClone(state);
    return Promise.resolve();
  }

  update(merge: (saved: SyncState | undefined) => SyncState): Promise<void> {
    try {
      this.#state = structuredClone(merge(this.#state));
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }
}
