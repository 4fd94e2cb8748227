import canonicalize from "canonicalize";

/** The canonical JSON text of a value per RFC 8785 (JCS); throws on values JCS refuses (NaN, Infinity, lone surrogates). */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) {
    throw new TypeError("a payload must be a JSON value; undefined has no canonical form");
  }
  return text;
}

/** SHA-256 of the canonical JSON of `value`: the relay's `payload_hash` (docs/protocol/WS_MAPPING.md §5.7). */
export async function payloadHash(value: unknown): Promise<Uint8Array> {
  const bytes = new TextEncoder().encode(canonicalJson(value));
  return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes));
}

/** Whether `expected` is the `payload_hash` of `value`. */
export async function hashMatches(value: unknown, expected: Uint8Array): Promise<boolean> {
  const actual = await payloadHash(value);
  return actual.length === expected.length && actual.every((byte, i) => byte === expected[i]);
}
