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
 * runtime said (in Node, the HTTP status of a refused upgrade, or for a 401 the relay's reason and what to do); a
 * browser says nothing of why.
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

/** What to do about each reason class the relay refuses a token for (docs/auth.md §4). */
const refusalAdvice: Readonly<Record<string, string>> = {
  missing: "the token provider gave no token",
  malformed: "the token provider returns something the relay cannot read as a JWT",
  expired: "the token provider returns an expired token; a fresh one is asked for before the next attempt",
  not_yet_valid: "the token's nbf is ahead of the relay's clock: check the clocks of the issuer and the relay",
  unknown_key: "no key of the relay has the token's kid: the issuer and the relay's Relay:Auth keys disagree",
  bad_signature: "the token provider returns a token the relay's keys do not verify (forged, damaged, or signed with another key)",
  algorithm_not_allowed: "the token is signed with an algorithm its key does not allow: fix the issuer",
  missing_claim: "the token lacks a claim the relay requires: fix the issuer",
  invalid_claim: "a claim of the token has the wrong type or value (a scope entry such as *): fix the issuer",
  unknown_claims_version: "the relay does not accept the token's oa_claims_version: upgrade the relay, or mint an older version",
  wrong_issuer: "the token's iss is not the relay's Relay:Auth:Issuer: fix one or the other",
  wrong_audience: "the token's aud lacks the relay's Relay:Auth:Audience: fix one or the other",
};

/** The `error_description` of a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3): the relay's reason class. */
function refusalReason(challenge: unknown): string | undefined {
  return typeof challenge === "string" ? /error_description="([a-z_]{1,64})"/.exec(challenge)?.[1] : undefined;
}

/** What a refused upgrade's status and `WWW-Authenticate` challenge say, as one line. */
export function describeRefusal(status: number | undefined, challenge: unknown): string {
  const reason = refusalReason(challenge);
  if (status !== 401 || reason === undefined) {
    return `Unexpected server response: ${status}`;
  }
  return `the relay refused the token (${reason}): ${refusalAdvice[reason] ?? "see docs/auth.md §4"}`;
}

/** A `ws` client request and response, as far as {@link explainingRefusals} reads them. */
interface Upgrade {
  destroy(error: Error): void;
}
interface Refusal {
  readonly statusCode?: number;
  readonly headers: Readonly<Record<string, unknown>>;
}

/**
 * `transport`, whose sockets fail a refused upgrade with the relay's reason when they are `ws`'s (Node): ws says only
 * "Unexpected server response: 401" by itself, but lets an `unexpected-response` listener read the answer, which must
 * then end the request. A browser's WebSocket tells nothing of a refused upgrade, and is left as it is.
 */
export function explainingRefusals(transport: new (url: string, protocols?: string | string[]) => object): typeof transport {
  return class extends transport {
    constructor(...args: [url: string, protocols?: string | string[]]) {
      super(...args);
      const socket = this as { on?: (event: string, listener: (request: Upgrade, response: Refusal) => void) => void };
      if (typeof socket.on === "function") {
        socket.on("unexpected-response", (request, response) => {
          request.destroy(new Error(describeRefusal(response.statusCode, response.headers["www-authenticate"])));
        });
      }
    }
  };
}
