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
}

/** A stored state that cannot be read back. */
export class StoredStateError extends Error {
  override readonly name = "StoredStateError";
}

/** Checks the shape of a state read back from storage, so that a damaged store fails at start with its reason. */
export function checkState(value: unknown, where: string): SyncState {
  const state = value as Partial<SyncState> | null;
  if (typeof state !== "object" || state === null || state.version !== 1 || typeof state.topics !== "object" || state.topics === null) {
    throw new StoredStateError(`${where}: not a saved sync state (version 1); delete it to start over`);
  }
  if (state.identity !== undefined && (typeof state.identity?.org !== "string" || typeof state.identity.subject !== "string")) {
    throw new StoredStateError(`${where}: its identity is not an org and a subject; delete it to start over`);
  }
  for (const [topic, stored] of Object.entries(state.topics)) {
    if (typeof stored?.watermark !== "number" || !Array.isArray(stored.entries)) {
      throw new StoredStateError(`${where}: topic ${topic} has no watermark or entries; delete it to start over`);
    }
  }
  return state as SyncState;
}

/** Keeps the state in memory only: a restarted client starts from scratch. The default. */
export class MemoryStore implements SyncStore {
  #state: SyncState | undefined;

  load(): Promise<SyncState | undefined> {
    return Promise.resolve(this.#state);
  }

  save(state: SyncState): Promise<void> {
    this.#state = structuredClone(state);
    return Promise.resolve();
  }
}
