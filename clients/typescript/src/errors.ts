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

/**
 * A listener threw: a `listen` callback of `topic`, or, with no topic, an `onStateChange` listener. The other listeners
 * were called all the same. `cause` is what the first one threw.
 */
export class ListenerError extends Error {
  override readonly name = "ListenerError";
  readonly topic: string | undefined;

  constructor(topic: string | undefined, cause: unknown, others = 0) {
    const what = cause instanceof Error ? cause.message : String(cause);
    super(`${topic === undefined ? "a state listener" : `a listener of ${topic}`} threw: ${what}${others > 0 ? ` (and ${others} more of its listeners)` : ""}`, { cause });
    this.topic = topic;
  }
}

/**
 * A connection to the relay that failed before it opened; the client reconnects after backoff. `detail` is what the
 * runtime said (Node's ws names the HTTP status of a refused upgrade); a browser says nothing of why.
 */
export class ConnectionError extends Error {
  override readonly name = "ConnectionError";
  readonly endpoint: string;

  constructor(endpoint: string, detail: string | undefined) {
    super(detail === undefined
      ? `could not connect to ${endpoint}, for a reason the runtime does not tell (browsers never do): the relay is down or unreachable, the url's path is wrong, or the relay refused the token (401); reconnecting after backoff`
      : `could not connect to ${endpoint}: ${detail}; reconnecting after backoff`);
    this.endpoint = endpoint;
  }
}

/** What a WebSocket's error event says, if anything: ws gives a message, a browser's plain Event none. */
export function describeConnectionError(event: unknown): string | undefined {
  const { message, error } = (event ?? {}) as { message?: unknown; error?: { message?: unknown } };
  const text = typeof message === "string" && message.length > 0 ? message : error?.message;
  return typeof text === "string" && text.length > 0 ? text : undefined;
}
