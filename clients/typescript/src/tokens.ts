import { jwtDecode } from "jwt-decode";
import { within } from "./deadline.js";
import { TopicScopes } from "./scopes.js";
import { sameIdentity, type SyncIdentity } from "./store.js";

/** Returns a bearer token (a JWT); called at start, ahead of expiry, and before reconnecting after expiry or a 401. */
export type TokenProvider = () => Promise<string>;

/** The token provider returned something the relay cannot take. */
export class TokenError extends Error {
  override readonly name = "TokenError";
}

/**
 * How long the provider may take before the client reports it and tries again later; a refresh, at most until the
 * token in force expires (and at least 1 s), so that the request made after the expiry is a new one.
 */
const providerTimeoutMs = 30_000;

/**
 * How long the keeper waits to ask the provider again when it gave no fresher token than the one in force, its refresh
 * being due (it has none yet: a file another process rotates later, a cache): as the C# client's `TokenRetryDelay`.
 */
export const sameTokenRetryMs = 5_000;

interface Claims {
  readonly exp?: number;
  readonly iat?: number;
  readonly sub?: unknown;
  readonly oa_org_id?: unknown;
  readonly oa_sync_scopes?: unknown;
}

/**
 * Holds the current token and asks the provider for a fresh one `marginMs` before it expires (at most half its
 * lifetime before, so short-lived tokens do not refresh in a loop), handing each refreshed token to `onRefreshed`. A
 * provider that gives no fresher token is asked again every {@link sameTokenRetryMs} while the token in force is valid.
 * A token that names another organisation or subject than the one before it goes to `onIdentityChanged` first,
 * before whoever asked for it gets it.
 */
export class TokenKeeper {
  readonly #provider: TokenProvider;
  readonly #marginMs: number;
  readonly #onRefreshed: (token: string) => void;
  readonly #onError: (error: Error) => void;
  readonly #onIdentityChanged: (identity: SyncIdentity) => void;
  #token: string | undefined;
  #identity: SyncIdentity | undefined;
  #scopes: TopicScopes | undefined;
  #expiresAt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pending: Promise<string> | undefined;
  #stopped = false;

  constructor(provider: TokenProvider, marginMs: number, onRefreshed: (token: string) => void, onError: (error: Error) => void,
    onIdentityChanged: (identity: SyncIdentity) => void) {
    this.#provider = provider;
    this.#marginMs = marginMs;
    this.#onRefreshed = onRefreshed;
    this.#onError = onError;
    this.#onIdentityChanged = onIdentityChanged;
  }

  /** The token in force, or undefined before the first. */
  get current(): string | undefined {
    return this.#token;
  }

  /** The organisation and subject of the token in force, or undefined before the first. */
  get identity(): SyncIdentity | undefined {
    return this.#identity;
  }

  /** The topics the token in force may subscribe to, or undefined before the first. */
  get scopes(): TopicScopes | undefined {
    return this.#scopes;
  }

  /** Whether the token expires within `ms` (or there is none). */
  expiresWithin(ms: number): boolean {
    return this.#token === undefined || this.#expiresAt - Date.now() <= ms;
  }

  /** Asks the provider for a fresh token (one request at a time) and schedules its refresh. */
  fresh(): Promise<string> {
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** The current token, or a fresh one when it expires within `ms`. */
  async valid(ms = 5_000): Promise<string> {
    return this.expiresWithin(ms) ? this.fresh() : (this.#token as string);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #fetch(): Promise<string> {
    const remaining = this.#expiresAt - Date.now();
    const timeoutMs = this.#token === undefined || remaining <= 0 ? providerTimeoutMs : Math.min(providerTimeoutMs, Math.max(1_000, remaining));
    const answered = await within(this.#provider(), timeoutMs);
    if (answered === undefined) {
      throw new TokenError(`the token provider did not answer within ${timeoutMs / 1000} s`);
    }
    const token = answered.value;
    if (typeof token !== "string") {
      throw new TokenError(`the token provider returned ${typeof token}, not a JWT string`);
    }
    let claims: Claims;
    try {
      claims = jwtDecode<Claims>(token);
    } catch (cause) {
      throw new TokenError(`the token provider returned something that is not a JWT: ${(cause as Error).message}`, { cause });
    }
    if (typeof claims.exp !== "number") {
      throw new TokenError("the token provider returned a JWT without exp; the relay requires one");
    }
    if (typeof claims.oa_org_id !== "string" || typeof claims.sub !== "string") {
      throw new TokenError("the token provider returned a JWT without oa_org_id or sub; the relay requires both");
    }
    if (claims.oa_sync_scopes === undefined || claims.oa_sync_scopes === null) {
      throw new TokenError("the token provider returned a JWT without oa_sync_scopes; the relay requires it");
    }
    let scopes: TopicScopes;
    try {
      scopes = TopicScopes.fromClaim(claims.oa_sync_scopes);
    } catch (cause) {
      throw new TokenError(`the token provider returned a JWT the relay refuses: ${(cause as Error).message}`, { cause });
    }
    const identity: SyncIdentity = { org: claims.oa_org_id, subject: claims.sub };
    const switched = this.#identity !== undefined && !sameIdentity(this.#identity, identity);
    const expiresAt = claims.exp * 1000;
    const previous = this.#expiresAt;
    this.#token = token;
    this.#identity = identity;
    this.#scopes = scopes;
    this.#expiresAt = expiresAt;
    clearTimeout(this.#timer);
    if (switched) {
      this.#onIdentityChanged(identity);
    }
    if (this.#stopped) {
      return token;
    }
    if (expiresAt <= Date.now()) {
      this.#onError(new TokenError("the token provider returned an expired token; asking again before the next connection"));
      return token;
    }
    const lifetime = expiresAt - (typeof claims.iat === "number" ? claims.iat * 1000 : Date.now());
    const due = Math.max(0, expiresAt - Math.min(this.#marginMs, lifetime / 2) - Date.now());
    // A provider that caches its token returns the same one when asked before a reconnect: fine, its refresh is not
    // due yet.
    if (expiresAt > previous || due > 0) {
      this.#scheduleRefresh(due);
      return token;
    }
    // Asked for the refresh, it has nothing fresher yet (a file a sidecar rotates later): ask again in a while, neither
    // at once, in a loop, nor never (the relay would end the connection at the token's expiry). Past the expiry,
    // reconnecting asks it.
    if (Date.now() + sameTokenRetryMs < expiresAt) {
      this.#scheduleRefresh(sameTokenRetryMs);
    }
    return token;
  }

  /**
   * Refreshes in `ms`; the token is handed on only if it is not the one in force. A refresh that fails is reported and
   * tried again while the token in force is still valid, after a quarter of what remains of it (1 to 30 s,
   * jittered): one failure of the token service must not end the connection at expiry.
   */
  #scheduleRefresh(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const before = this.#token;
      this.fresh().then((token) => {
        if (token !== before) {
          this.#onRefreshed(token);
        }
      }, (error: Error) => {
        this.#onError(error);
        const remaining = this.#expiresAt - Date.now();
        if (!this.#stopped && remaining > 0) {
          this.#scheduleRefresh(Math.min(30_000, Math.max(1_000, remaining / 4)) * (0.5 + Math.random() / 2));
        }
      });
    }, ms);
  }
}
