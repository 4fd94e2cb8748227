/** A document as the client holds it: the newest version it has applied of `docKey`. */
export interface SyncDocument<T> {
  readonly topic: string;
  readonly docKey: string;
  readonly docVersion: number;
  readonly payload: T;
  /** SHA-256 of the payload's canonical JSON (RFC 8785), base64, as the relay sent it. */
  readonly payloadHash: string | undefined;
}

/** A deleted document, kept with its version so that an older update arriving later cannot bring it back. */
export interface Tombstone {
  readonly topic: string;
  readonly docKey: string;
  readonly docVersion: number;
  readonly deleted: true;
}

export type CacheEntry = SyncDocument<unknown> | Tombstone;

export function isTombstone(entry: CacheEntry): entry is Tombstone {
  return "deleted" in entry;
}
