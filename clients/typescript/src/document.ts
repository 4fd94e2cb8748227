/** A document as the client holds it: the newest version it has applied of `docKey`. */
export interface SyncDocument<T> {
  readonly topic: string;
  readonly docKey: string;
  readonly docVersion: number;
  readonly payload: T;
  /** SHA-256 of the payload's canonical JSON (RFC 8785), base64, as the relay sent it. */
  readonly payloadHash: string | undefined;
}

/**
 * A deleted document, kept with its version so that an older update arriving later cannot bring it back, until the
 * topic's watermark reaches the deletion's: no older update can come from there on (a topic's events arrive in
 * watermark order, and a resume starts after the watermark), so it is dropped then, and deletions do not pile up.
 */
export interface Tombstone {
  readonly topic: string;
  readonly docKey: string;
  readonly docVersion: number;
  readonly deleted: true;
  /** The watermark of the deletion; absent in states saved before 2026-12-03 (dropped when restored). */
  readonly watermark?: number;
}

export type CacheEntry = SyncDocument<unknown> | Tombstone;

export function isTombstone(entry: CacheEntry): entry is Tombstone {
  return "deleted" in entry;
}
