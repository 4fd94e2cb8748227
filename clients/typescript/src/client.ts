import { Socket, type Channel } from "phoenix";
import { defaultBackoff, jitteredDelay, type BackoffOptions } from "./backoff.js";
import { within } from "./deadline.js";
import { Delivery } from "./delivery.js";
import { ConnectionError, describeConnectionError, explainingRefusals, ListenerError, SyncRelayError } from "./errors.js";
import { Hydrator } from "./http.js";
import { isTopicName, type TopicScopes } from "./scopes.js";
import { MemoryStore, type SyncIdentity, type SyncStore } from "./store.js";
import { TokenKeeper, type TokenProvider } from "./tokens.js";
import { Topic, type PayloadParser } from "./topic.js";
import {
  parseError, parseHeartbeat, parseSubscribed, parseUpdateBatch, refreshAuthPayload, subscribePayload,
  type RelayError,
} from "./wire.js";

/** A WebSocket class: the browser's, or `WebSocket` of the `ws` package in Node 20. */
export type WebSocketClass = new (url: string, protocols?: string | string[]) => object;

export interface SyncClientOptions {
  /** The relay's HTTP base address, e.g. `http://127.0.0.1:8080`; the WebSocket address is derived from it. */
  readonly url: string;
  /** Returns a JWT; called at start, before expiry (sent in band) and before reconnecting after expiry or a 401. */
  readonly token: TokenProvider;
  /**
   * Where documents and watermarks are kept, together, with the org and subject of the tokens they came with: a state
   * of another org or subject is not shown, and dropped, and so are the topics the token's scopes do not cover.
   * Default: {@link MemoryStore}.
   */
  readonly store?: SyncStore;
  /**
   * The least time between two saves: changes are shown at once and saved together in the background, every
   * document held in each save (a crash loses at most this long's progress, which the relay sends again). `stop()`
   * saves what is left. Default 1000 ms.
   */
  readonly saveIntervalMs?: number;
  /** The WebSocket class. Default: `globalThis.WebSocket` (browsers, Node 22+). */
  readonly transport?: WebSocketClass;
  /** Check every payload against its `payload_hash` (RFC 8785 + SHA-256) and refuse mismatches. Default true. */
  readonly verifyHashes?: boolean;
  /** Called after a topic was re-hydrated over HTTP on `STALE_CURSOR`, with the list's watermark. */
  readonly onStaleCursor?: (topic: string, watermark: number) => void;
  /**
   * Called with every failure the client handled by itself: connections that failed, relay errors, refused hashes,
   * token, HTTP and store failures, listeners that threw. Default: `console.error`, so that nothing fails unseen. What
   * it throws itself is written to the console and otherwise ignored: it cannot stop the client.
   */
  readonly onError?: (error: Error) => void;
  /** Reconnect delays. Default: full jitter from 1 s doubling to 30 s, reset after 60 s connected. */
  readonly backoff?: Partial<BackoffOptions>;
  /**
   * How long before the token's `exp` a fresh one is sent in band (at most half its lifetime). A provider that gives
   * the token in force again is asked again every 5 s while that token is valid. Default 60 s.
   */
  readonly tokenRefreshMarginMs?: number;
  /**
   * With no frame from the relay for this long, the client closes the connection and reconnects (WS_MAPPING §6; the
   * relay sends a heartbeat every 15 s). Default 45 s.
   */
  readonly serverSilenceTimeoutMs?: number;
  /**
   * A connection the relay has not accepted within this long (a host that takes the TCP connection and never answers
   * the upgrade) is given up and retried after backoff. Default 10 s, as the C# client's `ConnectTimeout`.
   */
  readonly connectTimeoutMs?: number;
  /**
   * An HTTP hydration request (a payload too large to come inline, a page of a re-hydration) that has not answered
   * within this long is given up, and the client reconnects after backoff: the relay sends what it was for again. A
   * request is also given up when its connection is dropped. Default 30 s.
   */
  readonly httpTimeoutMs?: number;
  /** The fetch function for hydration. Default: `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
}

export type ConnectionState = "idle" | "connecting" | "connected" | "stopped";

/** Counters, for tests and dashboards. */
export interface SyncClientStats {
  /** Connection attempts after the first, whatever their cause. */
  reconnects: number;
  /** Tokens sent in band with `refresh_auth`. */
  tokenRefreshes: number;
}

const staleAgainWithinMs = 10_000;
/** Most topics named in one subscribe: the relay's default limit per request; more are sent in several. */
const MAX_TOPICS_PER_SUBSCRIBE = 64;
/** The most topics one connection may follow: the relay's default `Relay:Sync:MaxTopicsPerConnection`. */
const MAX_TOPICS_PER_CONNECTION = 256;

/**
 * A live, resumable copy of a relay's topics over the stock phoenix client (channel `sync:v1`,
 * docs/protocol/WS_MAPPING.md). Every join subscribes each topic from its stored watermark; updates are applied by
 * `(doc_key, doc_version)`; documents and watermarks are saved together, at most once a second (`saveIntervalMs`).
 * They belong to the token's org and subject: a token of another drops them, and the client hydrates afresh. A topic
 * the token's scopes do not cover is emptied too (at start, and on `FORBIDDEN_TOPIC`).
 */
export class SyncClient {
  readonly stats: SyncClientStats = { reconnects: 0, tokenRefreshes: 0 };
  readonly #options: SyncClientOptions;
  readonly #backoff: BackoffOptions;
  readonly #silenceTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #tokens: TokenKeeper;
  readonly #delivery: Delivery;
  readonly #socket: Socket;
  readonly #channel: Channel;
  readonly #topics = new Map<string, Topic<unknown>>();
  /** Topics the relay refused, with the token in force for a `FORBIDDEN_TOPIC` (undefined for `UNKNOWN_TOPIC`). */
  readonly #refused = new Map<string, string | undefined>();
  readonly #lastStale = new Map<string, number>();
  readonly #stateListeners = new Set<(state: ConnectionState) => void>();
  readonly #stop = new AbortController();
  /**
   * Aborted when the connection is dropped (with a {@link ConnectionDropped}) or the client stops: what a connection's
   * work waits on over HTTP is not waited for once the connection it was for is gone, so the next one's work, and an
   * identity's reset, are never held behind a request that may not come back.
   */
  #connection = new AbortController();
  #queue: Promise<void> = Promise.resolve();
  #generation = 0;
  #started: Promise<void> | undefined;
  #state: ConnectionState = "idle";
  #joined = false;
  #openedAt: number | undefined;
  #heardAt = 0;
  #silenceTimer: ReturnType<typeof setTimeout> | undefined;
  #attempts = 0;
  #retryAfterMs = 0;
  #tokenRefused = false;
  #reconnecting = false;
  #connectionError: string | undefined;
  readonly #endpoint: string;

  constructor(options: SyncClientOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new TypeError(`url: '${options.url}' is not an absolute http(s) URL such as http://127.0.0.1:8080`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`url: '${options.url}' must start with http:// or https://`);
    }
    const transport = options.transport ?? (globalThis.WebSocket as WebSocketClass | undefined);
    if (transport === undefined) {
      throw new TypeError("no WebSocket in this runtime: pass transport (in Node 20, WebSocket from the ws package)");
    }
    this.#options = options;
    this.#backoff = { ...defaultBackoff, ...options.backoff };
    this.#silenceTimeoutMs = options.serverSilenceTimeoutMs ?? 45_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#tokens = new TokenKeeper(options.token, options.tokenRefreshMarginMs ?? 60_000,
      (token) => this.#refreshInBand(token), (error) => this.#report(error), (identity) => this.#onIdentityChanged(identity));
    const hydrator = new Hydrator(url.href, this.#tokens, options.fetch ?? globalThis.fetch.bind(globalThis), options.httpTimeoutMs ?? 30_000);
    this.#delivery = new Delivery(this.#topics, options.store ?? new MemoryStore(), hydrator,
      options.verifyHashes !== false, (error) => this.#report(error), () => this.#tokens.identity, options.saveIntervalMs ?? 1000,
      this.#stop.signal, () => this.#connection.signal);
    const base = url.href.replace(/^http/, "ws").replace(/\/+$/, "");
    this.#endpoint = `${base}/socket/websocket`;
    this.#socket = new Socket(`${base}/socket`, {
      transport: explainingRefusals(transport),
      params: () => ({ token: this.#tokens.current ?? "" }),
      reconnectAfterMs: (tries) => jitteredDelay(tries, this.#backoff),
      rejoinAfterMs: (tries) => jitteredDelay(tries, this.#backoff),
    });
    this.#socket.onOpen(() => {
      this.#openedAt = Date.now();
      this.#heardAt = this.#openedAt;
      this.#watchSilence();
    });
    // Any frame will do, phoenix's heartbeat replies included; the watchdog reads the time when it fires.
    this.#socket.onMessage(() => {
      this.#heardAt = Date.now();
    });
    // What the transport said of a connection that failed (Node's ws: why the relay refused the token); browsers say nothing.
    this.#socket.onError((error) => {
      this.#connectionError = describeConnectionError(error);
    });
    this.#socket.onClose((event) => this.#onClose(event.code));
    // A function, so that every rejoin carries the token in force.
    this.#channel = this.#socket.channel("sync:v1", () => ({ token: this.#tokens.current }));
    this.#channel.on("update_batch", (raw) => this.#enqueue(() => this.#delivery.applyBatch(parseUpdateBatch(raw))));
    this.#channel.on("heartbeat", (raw) => this.#enqueue(() => this.#delivery.applyWatermarks(parseHeartbeat(raw), true)));
    this.#channel.on("error", (raw) => this.#enqueue(() => this.#onRelayError(parseError(raw), [])));
    this.#channel.onError(() => this.#onLeft());
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /**
   * Calls `listener` on every change of {@link state}; returns the way to stop. A listener that throws is reported to
   * `onError` (a {@link ListenerError}); it keeps neither the other listeners from being called nor the client from
   * reconnecting.
   */
  onStateChange = (listener: (state: ConnectionState) => void): (() => void) => {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  };

  /**
   * Gets a first token, loads the store (what it holds for the token's org and subject only, of the topics its scopes
   * cover) and connects; resolves once the store is loaded. A token provider that fails is reported to `onError` and
   * asked again after backoff, meanwhile `state` is `connecting` (offline, return the last token you have, even
   * expired: the saved state is shown with it). Rejects when the store cannot be read. Calling it again does nothing;
   * after `stop()` it rejects: a client starts once (create another).
   */
  start(): Promise<void> {
    if (this.#stop.signal.aborted) {
      return Promise.reject(new Error(
        "start() after stop(): a SyncClient starts once; create a new one (under React's StrictMode, which mounts a component twice, create the client outside the component)"));
    }
    this.#started ??= this.#start();
    return this.#started;
  }

  /**
   * Follows `topic` from its stored watermark, now if joined or with the next join, and returns its documents.
   * `parse` turns each payload into `T` (and may throw to refuse one); by default payloads are taken as `T`.
   */
  subscribe<T>(topic: string, parse?: PayloadParser<T>): Topic<T> {
    if (!isTopicName(topic)) {
      throw new TypeError(`'${topic}' is not a topic name (lowercase words joined by dots, e.g. runtime.run_summaries)`);
    }
    const existing = this.#topics.get(topic);
    if (existing !== undefined) {
      return existing as Topic<T>;
    }
    if (this.#topics.size >= MAX_TOPICS_PER_CONNECTION) {
      // The relay would refuse the subscribe with BAD_REQUEST, naming no topic, on every connection.
      throw new RangeError(
        `a client follows at most ${MAX_TOPICS_PER_CONNECTION} topics (the relay's default Relay:Sync:MaxTopicsPerConnection); ` +
          `'${topic}' would be one more: use a second client for the rest`,
      );
    }
    const handle = new Topic<T>(topic, parse ?? ((payload) => payload as T), (error) => this.#report(error));
    this.#delivery.restore(handle as Topic<unknown>);
    this.#topics.set(topic, handle as Topic<unknown>);
    this.#refused.delete(topic);
    this.#enqueue(() => this.#sendSubscribe([topic]));
    return handle;
  }

  /**
   * Leaves the channel, closes the connection and stops reconnecting; saves what is not saved yet and waits for it, at
   * most {@link stopSaveWaitMs} (a store that does not answer is reported, and the next start resumes from the last
   * save that finished: the relay sends the rest again). A batch being applied stops between two updates and its
   * payload fetches in flight are abandoned: no topic listener is called once `stop()` is, and what is left of the
   * batch comes again with the next start.
   */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#connection.abort(this.#stop.signal.reason);
    clearTimeout(this.#silenceTimer);
    this.#tokens.stop();
    this.#channel.leave();
    await new Promise<void>((resolve) => this.#socket.disconnect(resolve, 1000));
    if (await within(this.#queue.then(() => this.#delivery.flush()), stopSaveWaitMs) === undefined) {
      this.#report(new Error(`the store did not finish saving within ${stopSaveWaitMs / 1000} s; stopped without waiting for it (the next start resumes from the last save that finished)`));
    }
    this.#setState("stopped");
  }

  async #start(): Promise<void> {
    this.#setState("connecting");
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#tokens.fresh();
        break;
      } catch (error) {
        this.#report(error as Error);
        if (!(await this.#sleep(jitteredDelay(attempt, this.#backoff)))) {
          return;
        }
      }
    }
    try {
      // The token says whose state may be shown, and of which topics.
      await this.#delivery.load(this.#tokens.identity as SyncIdentity, this.#tokens.scopes as TopicScopes);
    } catch (error) {
      this.#tokens.stop();
      throw error;
    }
    // Stopped meanwhile (an unmount while the provider answered): no connection.
    if (this.#stop.signal.aborted) {
      return;
    }
    this.#saveWhenHidden();
    this.#channel.join()
      .receive("ok", () => this.#onJoined())
      .receive("error", (raw) => this.#onJoinRefused(parseError(raw)));
    this.#connect();
  }

  /**
   * In a browser, saves what is not saved yet when the page is hidden or goes away (a reload, a closed tab, a phone
   * switching apps), so that the page shows it when opened again, offline too; otherwise a change made in the last
   * `saveIntervalMs` would be shown only once the relay sent it again. As the page goes, the save's store request is
   * made before it is gone: in the same task, after the event's listeners, without reading the store first.
   */
  #saveWhenHidden(): void {
    if (typeof document === "undefined") {
      return;
    }
    const signal = this.#stop.signal;
    document.addEventListener("visibilitychange", () => document.visibilityState === "hidden" && void this.#delivery.flush(), { signal });
    globalThis.addEventListener("pagehide", () => void this.#delivery.flush(true), { signal });
  }

  #onJoined(): void {
    this.#joined = true;
    this.#setState("connected");
    this.#enqueue(() => this.#sendSubscribe([...this.#topics.keys()]));
  }

  #onJoinRefused(error: RelayError): void {
    this.#report(new SyncRelayError(error, "join sync:v1"));
    if (error.code === "UNAUTHORIZED") {
      // phoenix rejoins after a jittered delay, with the join params read again: the fresh token.
      this.#tokens.fresh().catch((cause: Error) => this.#report(cause));
    }
  }

  #onLeft(): void {
    this.#joined = false;
    for (const topic of this.#topics.values()) {
      topic.setCaughtUp(false);
    }
  }

  #sendSubscribe(topics: readonly string[]): void {
    const wanted = topics.filter((topic) => this.#topics.has(topic) && !this.#stillRefused(topic));
    if (!this.#joined) {
      return;
    }
    // The relay takes at most 64 topics in one subscribe (its default, Relay:Sync:MaxTopicsPerSubscribe).
    for (let first = 0; first < wanted.length; first += MAX_TOPICS_PER_SUBSCRIBE) {
      this.#pushSubscribe(wanted.slice(first, first + MAX_TOPICS_PER_SUBSCRIBE));
    }
  }

  #pushSubscribe(wanted: readonly string[]): void {
    const watermarks: Record<string, number> = {};
    const epochs: Record<string, string> = {};
    for (const name of wanted) {
      const topic = this.#topics.get(name) as Topic<unknown>;
      watermarks[name] = topic.watermark;
      if (topic.epoch !== undefined) {
        epochs[name] = topic.epoch;
      }
    }
    const generation = this.#generation;
    this.#channel.push("subscribe", subscribePayload(wanted, watermarks, epochs))
      .receive("ok", (raw) => this.#enqueue(() => this.#delivery.applyWatermarks(parseSubscribed(raw), false), generation))
      .receive("error", (raw) => this.#enqueue(() => this.#onRelayError(parseError(raw), wanted), generation))
      .receive("timeout", () => {
        // phoenix.js gives a push up after 10 s, also one sent on a connection that has ended since: that one's topics
        // were subscribed again on the next, which it must not fail; nor is a stopped client's.
        if (generation === this.#generation && !this.#stop.signal.aborted) {
          this.#restart(new Error(`subscribe ${wanted.join(", ")}: no answer from the relay`));
        }
      });
  }

  async #onRelayError(error: RelayError, request: readonly string[]): Promise<void> {
    if (error.code !== "STALE_CURSOR") {
      // A stale cursor is no failure: a new client on a pruned topic meets one; onStaleCursor tells it.
      this.#report(new SyncRelayError(error, request.length > 0 ? `subscribe ${request.join(", ")}` : "relay"));
    }
    this.#retryAfterMs = Math.max(this.#retryAfterMs, error.retryAfterMs);
    switch (error.code) {
      case "STALE_CURSOR":
        if (error.topic !== undefined) {
          await this.#rehydrate(error.topic);
        }
        return;
      case "FORBIDDEN_TOPIC":
      case "UNKNOWN_TOPIC":
        // Not retried until subscribed again, or, forbidden, until a newer token covers it (#stillRefused); a refused
        // Subscribe is resent without the topic.
        if (error.topic !== undefined) {
          this.#refused.set(error.topic, error.code === "FORBIDDEN_TOPIC" ? this.#tokens.current ?? "" : undefined);
        }
        this.#sendSubscribe(request);
        if (error.code === "FORBIDDEN_TOPIC" && error.topic !== undefined && this.#topics.has(error.topic)) {
          // Nothing of a topic the token no longer covers stays on screen or in the store.
          await this.#delivery.forget(this.#topics.get(error.topic) as Topic<unknown>);
        }
        return;
      case "UNAUTHORIZED":
        // As a push, the token expired and a close follows: reconnect with a fresh one.
        this.#tokenRefused ||= request.length === 0;
        return;
      case "BAD_REQUEST":
        if (request.length > 0) {
          // A whole subscribe refused: subscribe() checks names and counts, so the relay's limits are lower than its
          // defaults. Its topics are not left unfollowed under a "connected" state: reconnect after backoff.
          this.#restart(new Error("the relay refused a whole subscribe (BAD_REQUEST); reconnecting"));
        }
        return;
      case "PAYLOAD_TOO_LARGE":
      case "SLOW_CONSUMER":
        return;
      default:
        if (request.length > 0 || error.topic !== undefined) {
          this.#restart(new Error(`a subscription failed with ${error.code}; reconnecting`));
        }
    }
  }

  /** STALE_CURSOR: re-read the topic over HTTP, replace its documents and subscribe from the list's watermark (§5.6). */
  async #rehydrate(name: string): Promise<void> {
    const topic = this.#topics.get(name);
    if (topic === undefined) {
      return;
    }
    const last = this.#lastStale.get(name);
    if (last !== undefined && Date.now() - last < staleAgainWithinMs) {
      this.#lastStale.delete(name);
      this.#restart(new Error(`the cursor of ${name} went stale again at once; reconnecting after backoff`));
      return;
    }
    this.#lastStale.set(name, Date.now());
    const watermark = await this.#delivery.rehydrate(topic);
    this.#options.onStaleCursor?.(name, watermark);
    this.#sendSubscribe([name]);
  }

  /**
   * A fresh token names another org or subject (a user switched organisation, or another one signed in): the
   * documents and watermarks held are not theirs. They are dropped, listeners see the topics empty, and the client
   * reconnects with the new token (the relay takes no other identity's in band) and hydrates from scratch.
   */
  #onIdentityChanged(identity: SyncIdentity): void {
    // What the previous identity was refused, this one may be allowed.
    this.#refused.clear();
    if (!this.#reconnecting && !this.#stop.signal.aborted) {
      this.#dropConnection(false);
    }
    // Queued whatever becomes of this connection: the previous identity's state must go before anything is resumed.
    this.#chain(() => this.#delivery.reset(identity));
  }

  #refreshInBand(token: string): void {
    if (this.#joined) {
      this.stats.tokenRefreshes++;
      const generation = this.#generation;
      this.#channel.push("refresh_auth", refreshAuthPayload(token))
        // Topics refused under the old token that this one covers are subscribed again.
        .receive("ok", () => this.#enqueue(() => this.#sendSubscribe([...this.#refused.keys()]), generation))
        .receive("error", (raw) => this.#report(new SyncRelayError(parseError(raw), "refresh_auth")));
    }
  }

  /**
   * Whether `topic` stays refused: an unknown topic until subscribed again, a forbidden one until a newer token's
   * scopes cover it (an application that gains access sees the topic fill without subscribing again).
   */
  #stillRefused(topic: string): boolean {
    if (!this.#refused.has(topic)) {
      return false;
    }
    const refusedUnder = this.#refused.get(topic);
    const current = this.#tokens.current;
    if (refusedUnder === undefined || current === undefined || current === refusedUnder || this.#tokens.scopes?.allows(topic) !== true) {
      return true;
    }
    this.#refused.delete(topic);
    return false;
  }

  /** Runs `work` after everything queued before it, unless the connection it belongs to has ended since. */
  #enqueue(work: () => void | Promise<void>, generation = this.#generation): void {
    this.#chain(() => (generation === this.#generation ? work() : undefined));
  }

  /**
   * Runs `work` after everything queued before it, unless the client stopped; a failure drops the connection (work
   * abandoned because the client stopped is no failure).
   */
  #chain(work: () => void | Promise<void>): void {
    this.#queue = this.#queue
      .then(() => (this.#stop.signal.aborted ? undefined : work()))
      .catch((error: unknown) => {
        // Work abandoned because the client stopped, or because its connection was dropped (which reconnects), is no failure.
        if ((!this.#stop.signal.aborted || error !== this.#stop.signal.reason) && !(error instanceof ConnectionDropped)) {
          this.#restart(error as Error);
        }
      });
  }

  /** Reports `error` and drops the connection, so that the client resumes from its saved state after backoff. */
  #restart(error: Error): void {
    this.#report(error);
    if (!this.#stop.signal.aborted && !this.#reconnecting) {
      this.#dropConnection(false);
    }
  }

  #onClose(code: number): void {
    if (!this.#stop.signal.aborted && !this.#reconnecting) {
      if (this.#openedAt === undefined) {
        this.#report(new ConnectionError(this.#endpoint, this.#connectionError));
      }
      this.#connectionError = undefined;
      // Never opened (an upgrade refused with 401 looks like this in a browser), or closed for an expired token.
      this.#dropConnection(this.#openedAt === undefined || code === 1008 || this.#tokenRefused);
    }
  }

  #dropConnection(needsToken: boolean): void {
    this.#reconnecting = true;
    clearTimeout(this.#silenceTimer);
    this.#generation++;
    this.#connection.abort(new ConnectionDropped());
    this.#connection = new AbortController();
    this.#onLeft();
    this.#setState("connecting");
    if (this.#openedAt !== undefined && Date.now() - this.#openedAt >= this.#backoff.resetAfterMs) {
      this.#attempts = 0;
    }
    this.#openedAt = undefined;
    // Phoenix would reconnect by itself, without a fresh token: take over.
    this.#socket.disconnect();
    void this.#reconnect(needsToken || this.#tokens.expiresWithin(5_000));
  }

  /**
   * Drops the connection once the relay has sent nothing for the silence timeout: a network that died without a close
   * (a laptop's sleep, a dropped Wi-Fi) leaves the socket open. Re-armed for what remains of the timeout.
   */
  #watchSilence(): void {
    const silentFor = Date.now() - this.#heardAt;
    if (silentFor >= this.#silenceTimeoutMs) {
      this.#restart(new Error(`no frame from the relay for ${this.#silenceTimeoutMs / 1000} s; reconnecting`));
      return;
    }
    clearTimeout(this.#silenceTimer);
    this.#silenceTimer = setTimeout(() => this.#watchSilence(), this.#silenceTimeoutMs - silentFor);
  }

  async #reconnect(needsToken: boolean): Promise<void> {
    this.#attempts++;
    this.stats.reconnects++;
    const delay = Math.max(this.#retryAfterMs, jitteredDelay(this.#attempts, this.#backoff));
    this.#retryAfterMs = 0;
    if (!(await this.#sleep(delay))) {
      return;
    }
    if (needsToken) {
      try {
        await this.#tokens.fresh();
      } catch (error) {
        this.#report(error as Error);
        return this.#reconnect(true);
      }
      if (this.#stop.signal.aborted) {
        return;
      }
    }
    this.#tokenRefused = false;
    this.#reconnecting = false;
    this.#connect();
  }

  /**
   * Connects, and gives the attempt up if the relay has not accepted it within the connect timeout: phoenix.js waits
   * for an upgrade forever. The silence watchdog takes the timer over once the connection is open.
   */
  #connect(): void {
    clearTimeout(this.#silenceTimer);
    this.#silenceTimer = setTimeout(() => {
      if (this.#openedAt === undefined) {
        this.#restart(new Error(`the relay did not accept the connection within ${this.#connectTimeoutMs / 1000} s; reconnecting`));
      }
    }, this.#connectTimeoutMs);
    this.#socket.connect();
  }

  /** Waits `ms`, or less if the client is stopped meanwhile; resolves whether it is still running. */
  async #sleep(ms: number): Promise<boolean> {
    await new Promise<void>((resolve) => {
      const stopped = () => {
        clearTimeout(timer);
        resolve();
      };
      // One listener at a time: each wait removes its own, or they would pile up for the client's life.
      const timer = setTimeout(() => {
        this.#stop.signal.removeEventListener("abort", stopped);
        resolve();
      }, ms);
      this.#stop.signal.addEventListener("abort", stopped, { once: true });
    });
    return !this.#stop.signal.aborted;
  }

  /** Sets {@link state} and tells its listeners; what one throws is reported, and stops neither the others nor the client. */
  #setState(state: ConnectionState): void {
    if (state !== this.#state) {
      this.#state = state;
      for (const listener of this.#stateListeners) {
        try {
          listener(state);
        } catch (error) {
          this.#report(new ListenerError(undefined, error));
        }
      }
    }
  }

  /** Reports `error` to `onError`; what that throws goes to the console, and the client goes on. */
  #report(error: Error): void {
    if (this.#options.onError === undefined) {
      console.error(`@khala/relay-client: ${error.name}: ${error.message}`);
      return;
    }
    try {
      this.#options.onError(error);
    } catch (thrown) {
      console.error(`@khala/relay-client: onError threw (${thrown instanceof Error ? thrown.message : String(thrown)}) on ${error.name}: ${error.message}`);
    }
  }
}

/** How long `stop()` waits for the store to take the last save. */
const stopSaveWaitMs = 5_000;

/** Why a dropped connection's HTTP requests were abandoned: the next connection is sent what they were for again. */
class ConnectionDropped extends Error {
  override readonly name = "ConnectionDropped";

  constructor() {
    super("the connection was dropped");
  }
}
