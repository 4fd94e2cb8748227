import { base64Decode } from "@bufbuild/protobuf/wire";
import { defaultBackoff, delayBound } from "./backoff.js";
import { IntegrityError, type ListenerError } from "./errors.js";
import { hashMatches } from "./hash.js";
import type { HydratedDocument, Hydrator } from "./http.js";
import type { TopicScopes } from "./scopes.js";
import { checkState, sameIdentity, type StoredTopic, type SyncIdentity, type SyncState, type SyncStore } from "./store.js";
import type { Topic } from "./topic.js";
import type { WireBatch, WireUpdate, WireWatermarks } from "./wire.js";

/** How many omitted payloads of a batch are fetched at once. */
const payloadFetchesAhead = 4;

/**
 * The document side of a client: applies batches and heartbeats to its topics (WS_MAPPING §5.3), fetches omitted
 * payloads, checks hashes, re-hydrates a topic over HTTP, and saves every topic's documents and watermark in one
 * store write, under the identity (org and subject) they were received for. The client calls it one step at a time,
 * in the order frames arrived.
 *
 * Saves are coalesced: a change is shown at once and saved in the background, at once when the last save is older
 * than `saveIntervalMs`, otherwise when it is that old, with every change made meanwhile. A save writes every document
 * held, so one per batch would hold a client with many documents far below its relay's rate. Each save is a snapshot
 * of what is held at one moment (JavaScript runs nothing else while it is taken), so it never has a watermark beside
 * fewer documents than it implies; a crash loses at most an interval's progress, which the relay sends again.
 *
 * A store that can merge (`update`) may be shared with other clients, the tabs of a page: each save then keeps, of
 * every topic, the copy that resumes further (see {@link merged}), and so never undoes what another client saved since
 * this one loaded. A store without `update` is given the whole state, as this client holds it.
 *
 * Once `stopped` is aborted, a batch in progress stops between two updates, the payload fetches in flight are
 * abandoned, and no listener is told any more: what is left comes again with the next start, from the watermark saved
 * before the batch.
 */
export class Delivery {
  readonly #topics: ReadonlyMap<string, Topic<unknown>>;
  readonly #store: SyncStore;
  readonly #hydrator: Hydrator;
  readonly #verifyHashes: boolean;
  readonly #report: (error: Error) => void;
  readonly #tokenIdentity: () => SyncIdentity | undefined;
  readonly #saveIntervalMs: number;
  readonly #stopped: AbortSignal;
  readonly #connection: () => AbortSignal;
  #saved: Readonly<Record<string, StoredTopic>> = {};
  /**
   * The topics whose saved copy the next save replaces with this client's, or removes, whatever their resume points:
   * emptied, re-hydrated, or dropped at load for the token's scopes.
   */
  #replaced = new Set<string>();
  /** The store's state as this client last read or wrote it: what a save as the page goes away merges with. */
  #known: SyncState | undefined;
  /** Whether the next save is one made as the page goes away, which cannot wait for a read. */
  #leaving = false;
  #identity: SyncIdentity | undefined;
  /** Whether something changed since the last save began. */
  #unsaved = false;
  /** The save loop, the last one started: one at a time, so saves reach the store in order. */
  #saving: Promise<void> = Promise.resolve();
  #savingRuns = false;
  #lastSaveAt = Number.NEGATIVE_INFINITY;
  #wake: (() => void) | undefined;
  /** Saves failed in a row, for the delay before the next try. */
  #failedSaves = 0;

  /**
   * `tokenIdentity` gives the identity of the token in force: a state is saved only while it is the state's.
   * `connection` gives the signal of the connection in force, which its HTTP requests are abandoned with.
   */
  constructor(topics: ReadonlyMap<string, Topic<unknown>>, store: SyncStore, hydrator: Hydrator, verifyHashes: boolean,
    report: (error: Error) => void, tokenIdentity: () => SyncIdentity | undefined, saveIntervalMs: number, stopped: AbortSignal,
    connection: () => AbortSignal) {
    this.#saveIntervalMs = saveIntervalMs;
    this.#stopped = stopped;
    this.#connection = connection;
    this.#topics = topics;
    this.#store = store;
    this.#hydrator = hydrator;
    this.#verifyHashes = verifyHashes;
    this.#report = report;
    this.#tokenIdentity = tokenIdentity;
  }

  /**
   * Reads the saved state and restores every topic subscribed so far, if the state is `identity`'s. One saved for
   * another org or subject, or without an identity, is neither shown nor resumed from: it is replaced by an empty one.
   * Of the topics saved, those `scopes` do not cover are neither shown nor kept: the state is saved without them. A
   * state that is damaged (whatever the store) throws a `StoredStateError` before anything of it is shown. A listener
   * that throws is reported: the topic's listeners are told again once it is caught up.
   */
  async load(identity: SyncIdentity, scopes: TopicScopes): Promise<void> {
    const loaded = await this.#store.load();
    const state = loaded === undefined ? undefined : checkState(loaded, "the store's saved state");
    this.#known = state;
    if (state !== undefined && !sameIdentity(identity, state.identity)) {
      return this.reset(identity);
    }
    this.#identity = identity;
    const saved = Object.entries(state?.topics ?? {});
    const covered = saved.filter(([name]) => scopes.allows(name));
    this.#saved = Object.fromEntries(covered);
    for (const [name] of saved.filter(([name]) => !scopes.allows(name))) {
      this.#replaced.add(name);
    }
    for (const topic of this.#topics.values()) {
      this.restore(topic);
    }
    try {
      this.#notify(this.#topics.values());
    } catch (error) {
      this.#report(error as ListenerError);
    }
    if (covered.length < saved.length) {
      this.#commit(new Set());
      await this.flush();
    }
  }

  /**
   * Drops every document, watermark and epoch held, of topics subscribed or only saved, for they were received for
   * another identity; saves the empty state as `identity`'s and tells every topic's listeners.
   */
  async reset(identity: SyncIdentity): Promise<void> {
    this.#identity = identity;
    this.#saved = {};
    for (const topic of this.#topics.values()) {
      topic.replace([], 0);
    }
    this.#commit(new Set(this.#topics.values()));
    await this.flush();
  }

  /**
   * Empties `topic` (documents, watermark, epoch) in memory and in the store, and tells its listeners: the token no
   * longer covers it (`FORBIDDEN_TOPIC`).
   */
  async forget(topic: Topic<unknown>): Promise<void> {
    topic.replace([], 0);
    this.#replaced.add(topic.name);
    this.#commit(new Set([topic]));
    await this.flush();
  }

  /** Gives `topic` its saved documents, watermark and epoch, if any. */
  restore(topic: Topic<unknown>): void {
    const saved = this.#saved[topic.name];
    if (saved !== undefined) {
      topic.restore(saved.entries, saved.watermark, saved.epoch);
    }
  }

  async applyBatch(batch: WireBatch): Promise<void> {
    const connection = this.#connection();
    const changed = new Set<Topic<unknown>>();
    // Omitted payloads come over HTTP, a round trip each: the next few are fetched while one is awaited, and applied in
    // order. One the batch stops before is abandoned with its connection.
    const omitted = batch.updates.filter((update) => update.payloadOmitted && !update.tombstone
      && (this.#topics.get(update.topic)?.versionOf(update.docKey) ?? -1) < update.docVersion);
    const fetches = new Map<WireUpdate, Promise<HydratedDocument | undefined>>();
    const fetched = (update: WireUpdate) => {
      const from = omitted.indexOf(update);
      const wanted = from < 0 ? [update] : omitted.slice(from, from + payloadFetchesAhead);
      for (const ahead of wanted.filter((next) => !fetches.has(next))) {
        const fetching = this.#hydrator.document(ahead.topic, ahead.docKey, connection);
        fetching.catch(() => undefined);
        fetches.set(ahead, fetching);
      }
      return fetches.get(update) as Promise<HydratedDocument | undefined>;
    };
    for (const update of batch.updates) {
      if (this.#stopped.aborted) {
        // Neither shown nor saved as done: the watermarks stay before the batch.
        return;
      }
      const topic = this.#topics.get(update.topic);
      if (topic === undefined || (topic.versionOf(update.docKey) ?? -1) >= update.docVersion) {
        continue;
      }
      if (update.tombstone) {
        topic.applyTombstone(update.docKey, update.docVersion, update.watermark);
        changed.add(topic);
        continue;
      }
      const document = update.payloadOmitted ? await fetched(update) : update;
      // An omitted payload is used only if at least as new; a 404 means it was deleted since (the tombstone follows).
      if (document !== undefined && document.docVersion >= update.docVersion && await this.#verified(topic.name, document)
        && topic.applyDocument(document.docKey, document.docVersion, document.payload, document.payloadHash)) {
        changed.add(topic);
      }
    }
    if (this.#stopped.aborted) {
      return;
    }
    for (const [name, watermark] of Object.entries(batch.watermarks)) {
      const topic = this.#topics.get(name);
      if (topic?.setWatermark(watermark)) {
        changed.add(topic);
      }
    }
    for (const name of batch.caughtUpTopics) {
      const topic = this.#topics.get(name);
      if (topic !== undefined) {
        topic.setCaughtUp(true);
        changed.add(topic);
      }
    }
    this.#commit(changed);
  }

  /** Heartbeats move cursors (and carry epochs); `Subscribed` carries epochs only. */
  async applyWatermarks(received: WireWatermarks, moveCursors: boolean): Promise<void> {
    const moved = [...this.#topics.values()].filter((topic) => {
      const watermark = moveCursors ? received.watermarks[topic.name] : undefined;
      const epoch = received.epochs[topic.name];
      return (watermark !== undefined || epoch !== undefined) && topic.setWatermark(watermark ?? topic.watermark, epoch);
    });
    if (moved.length > 0) {
      this.#commit(new Set(moved));
    }
  }

  /** Replaces `topic`'s documents with every page of `/sync/v1/list` and returns the list's watermark to subscribe from. */
  async rehydrate(topic: Topic<unknown>): Promise<number> {
    const connection = this.#connection();
    const { watermark, documents } = await this.#hydrator.list(topic.name, connection);
    const verified: HydratedDocument[] = [];
    for (const document of documents) {
      if (await this.#verified(topic.name, document)) {
        verified.push(document);
      }
    }
    connection.throwIfAborted();
    topic.replace(verified, watermark);
    // What the relay has now: newer than any copy saved, whose epoch may be one the relay no longer has.
    this.#replaced.add(topic.name);
    this.#commit(new Set([topic]));
    return watermark;
  }

  async #verified(topic: string, document: HydratedDocument): Promise<boolean> {
    if (!this.#verifyHashes || document.payloadHash === undefined
      || await hashMatches(document.payload, base64Decode(document.payloadHash))) {
      return true;
    }
    this.#report(new IntegrityError(`${topic} ${document.docKey} v${document.docVersion}: payload_hash does not match the payload; not applied`));
    return false;
  }

  /**
   * Saves what changed now, whatever the interval, and waits for it and for a save in progress. A failure is reported
   * (`onError`), not thrown, and the save is tried again after backoff (1 s doubling to 30 s) until the client stops.
   * `leaving` (the page goes away): a store that merges is not read first, as the page would be gone before the read
   * came back; what it held when this client last read or wrote it is merged with instead, so a save another client
   * made since can be undone.
   */
  async flush(leaving = false): Promise<void> {
    this.#leaving = leaving && this.#unsaved;
    this.#lastSaveAt = Number.NEGATIVE_INFINITY;
    this.#wake?.();
    await (this.#unsaved ? this.#startSaving() : this.#saving);
  }

  /**
   * Tells the changed topics' listeners, who see what is held at once, and has it saved (see the class remarks). A
   * listener that throws is thrown after every listener was told: the client reports it and reconnects.
   */
  #commit(changed: ReadonlySet<Topic<unknown>>): void {
    this.#unsaved = true;
    void this.#startSaving();
    this.#notify(changed);
  }

  /** Tells each topic's listeners; the first {@link ListenerError} is thrown once every topic's listeners were told. */
  #notify(topics: Iterable<Topic<unknown>>): void {
    let failure: unknown;
    for (const topic of topics) {
      try {
        topic.notify();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) {
      throw failure;
    }
  }

  #startSaving(): Promise<void> {
    if (!this.#savingRuns) {
      this.#savingRuns = true;
      this.#saving = this.#saveWhileChanged();
    }
    return this.#saving;
  }

  /**
   * Saves while there are changes, no sooner than the interval after the last save; a failure is reported and tried
   * again after backoff, until the client stops. It says it no longer runs in the same step as its last look at
   * `#unsaved` (no await between), so a change made after that starts another.
   */
  async #saveWhileChanged(): Promise<void> {
    try {
      while (this.#unsaved) {
        const wait = this.#lastSaveAt + this.#saveIntervalMs - Date.now();
        if (wait > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, wait);
            this.#wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.#wake = undefined;
        }
        try {
          await this.#save();
          this.#failedSaves = 0;
        } catch (error) {
          this.#report(error as Error);
          if (this.#stopped.aborted) {
            return;
          }
          // Tried again after 1 s, doubling to 30 s (sooner on a flush): a quiet topic brings no change that would,
          // and its saved state stayed behind until the next one.
          this.#failedSaves++;
          this.#lastSaveAt = Date.now() + delayBound(this.#failedSaves, defaultBackoff) - this.#saveIntervalMs;
        }
      }
    } finally {
      this.#savingRuns = false;
    }
  }

  /**
   * Saves the whole state in one write, merged with what the store holds if it can merge. Work begun under the previous
   * identity's token is not saved: the reset queued behind it replaces it. On failure the state stays unsaved, for the
   * next save.
   */
  async #save(): Promise<void> {
    this.#unsaved = false;
    this.#lastSaveAt = Date.now();
    const identity = this.#identity;
    if (identity === undefined || !sameIdentity(identity, this.#tokenIdentity())) {
      return;
    }
    const held: Record<string, StoredTopic> = {};
    for (const topic of this.#topics.values()) {
      held[topic.name] = { watermark: topic.watermark, ...(topic.epoch === undefined ? {} : { epoch: topic.epoch }), entries: topic.entries() };
    }
    const state: SyncState = { version: 1, identity, topics: { ...this.#saved, ...held } };
    const replaced = this.#replaced;
    this.#replaced = new Set();
    const leaving = this.#leaving;
    this.#leaving = false;
    const merge = (saved: SyncState | undefined) => {
      this.#known = merged(saved, state, held, replaced);
      return this.#known;
    };
    try {
      await (this.#store.update === undefined ? this.#store.save(state)
        : leaving ? this.#store.save(merge(this.#known))
          : this.#store.update((saved) => merge(saved === undefined ? undefined : checkState(saved, "the store's saved state"))));
    } catch (error) {
      this.#unsaved = true;
      for (const name of replaced) {
        this.#replaced.add(name);
      }
      throw error;
    }
  }
}

/**
 * What a client saves into a store that other clients may have written since it loaded. A `saved` state of another
 * identity, or none, is replaced by the client's `whole` state: nothing of another org or subject is kept or mixed in.
 * Of one of the same identity, every topic is kept but the `replaced` ones (removed), and each topic the client
 * `holds` is written over it if it resumes as far or further: of the same epoch, a watermark at least as high; of
 * another, the client's, as epochs have no order (one the relay no longer has costs a re-hydration, never a wrong
 * document). The topics the client only loaded and does not follow are the saved state's: the client knows nothing
 * newer of them.
 */
function merged(saved: SyncState | undefined, whole: SyncState, holds: Readonly<Record<string, StoredTopic>>,
  replaced: ReadonlySet<string>): SyncState {
  if (saved === undefined || whole.identity === undefined || !sameIdentity(whole.identity, saved.identity)) {
    return whole;
  }
  const topics = { ...saved.topics };
  for (const name of replaced) {
    delete topics[name];
  }
  for (const [name, mine] of Object.entries(holds)) {
    const theirs = topics[name];
    if (theirs === undefined || mine.watermark >= theirs.watermark
      || (mine.epoch !== undefined && theirs.epoch !== undefined && mine.epoch !== theirs.epoch)) {
      topics[name] = mine;
    }
  }
  return { ...whole, topics };
}
