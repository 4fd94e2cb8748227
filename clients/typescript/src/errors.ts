import type { RelayError } from "./wire.js";

/** An `Error` the relay sent (WS_MAPPING §8); the client has already reacted to it as that table says. */
export class SyncRelayError extends Error {
  override readonly name = "SyncRelayError";
  readonly code: RelayError["code"];
  readonly topic: string | undefined;
  readonly retryAfterMs: number;

  constructor(error: RelayError, context: string) {
    super(`${context}: ${error.code}${error.topic === undefined ? "" : ` (${error.topic})`}: ${error.message}`);
    this.code = error.code;
    this.topic = error.topic;
    this.retryAfterMs = error.retryAfterMs;
  }
}

/** A payload whose canonical SHA-256 differs from the `payload_hash` sent with it; it was not applied. */
export class IntegrityError extends Error {
  override readonly name = "IntegrityError";
}

/** A payload the topic's parser refused (it threw); the document was not applied. */
export class PayloadError extends Error {
  override readonly name = "PayloadError";
}
