import { base64Decode } from "@bufbuild/protobuf/wire";
import { IntegrityError } from "./errors.js";
import { hashMatches } from "./hash.js";
import type { HydratedDocument, Hydrator } from "./http.js";
import type { TopicScopes } from "./scopes.js";
import { sameIdentity, type StoredTopic, type SyncIdentity, type SyncStore } from "./store.js";
import type { Topic } from "./topic.js";
import type { WireBatch, WireWatermarks } from "./wire.js";

/**
 * The document side of a client: applies batches and heartbeats to its topics (WS_MAPPING §5.3), fetches omitted
 * payloads, checks hashes, re-hydrates a topic over HTTP, and saves every topic's documents and watermark in one
 * store write, under the identity (org and subject) they were received for. The client calls it one step at a time,
 * in the order frames arrived.
 */
export class Delivery {
  readonly #topics: ReadonlyMap<string, Topic<unknown>>;
  readonly #store: SyncStore;
  readonly #hydrator: Hydrator;
  readonly #verifyHashes: boolean;
  readonly #report: (error: Error) => void;
  readonly #tokenIdentity: () => SyncIdentity | undefined;
  #saved: Readonly<Record<string, StoredTopic>> = {};
  #identity: SyncIdentity | undefined;

  /** `tokenIdentity` gives the identity of the token in force: a state is saved only while it is the state's. */
  constructor(topics: ReadonlyMap<string, Topic<unknown>>, store: SyncStore, hydrator: Hydrator, verifyHashes: boolean,
    report: (error: Error) => void, tokenIdentity: () => SyncIdentity | undefined) {
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
   * Of the topics saved, those `scopes` do not cover are neither shown nor kept: the state is saved without them.
   */
  async load(identity: SyncIdentity, scopes: TopicScopes): Promise<void> {
    const state = await this.#store.load();
    if (state !== undefined && !sameIdentity(identity, state.identity)) {
      return this.reset(identity);
    }
    this.#identity = identity;
    const saved = Object.entries(state?.topics ?? {});
    const covered = saved.filter(([name]) => scopes.allows(name));
    this.#saved = Object.fromEntries(covered);
    for (const topic of this.#topics.values()) {
      this.restore(topic);
      topic.notify();
    }
    if (covered.length < saved.length) {
      await this.#commit(new Set());
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
    await this.#commit(new Set(this.#topics.values()));
  }

  /**
   * Empties `topic` (documents, watermark, epoch) in memory and in the store, and tells its listeners: the token no
   * longer covers it (`FORBIDDEN_TOPIC`).
   */
  async forget(topic: Topic<unknown>): Promise<void> {
    topic.replace([], 0);
    await this.#commit(new Set([topic]));
  }

  /** Gives `topic` its saved documents, watermark and epoch, if any. */
  restore(topic: Topic<unknown>): void {
    const saved = this.#saved[topic.name];
    if (saved !== undefined) {
      topic.restore(saved.entries, saved.watermark, saved.epoch);
    }
  }

  async applyBatch(batch: WireBatch): Promise<void> {
    const changed = new Set<Topic<unknown>>();
    for (const update of batch.updates) {
      const topic = this.#topics.get(update.topic);
      if (topic === undefined || (topic.versionOf(update.docKey) ?? -1) >= update.docVersion) {
        continue;
      }
      if (update.tombstone) {
        topic.applyTombstone(update.docKey, update.docVersion);
        changed.add(topic);
        continue;
      }
      const document = update.payloadOmitted ? await this.#hydrator.document(update.topic, update.docKey) : update;
      // An omitted payload is used only if at least as new; a 404 means it was deleted since (the tombstone follows).
      if (document !== undefined && document.docVersion >= update.docVersion && await this.#verified(topic.name, document)
        && topic.applyDocument(document.docKey, document.docVersion, document.payload, document.payloadHash)) {
        changed.add(topic);
      }
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
    await this.#commit(changed);
  }

  /** Heartbeats move cursors (and carry epochs); `Subscribed` carries epochs only. */
  async applyWatermarks(received: WireWatermarks, moveCursors: boolean): Promise<void> {
    const moved = [...this.#topics.values()].filter((topic) => {
      const watermark = moveCursors ? received.watermarks[topic.name] : undefined;
      const epoch = received.epochs[topic.name];
      return (watermark !== undefined || epoch !== undefined) && topic.setWatermark(watermark ?? topic.watermark, epoch);
    });
    if (moved.length > 0) {
      await this.#commit(new Set(moved));
    }
  }

  /** Replaces `topic`'s documents with every page of `/sync/v1/list` and returns the list's watermark to subscribe from. */
  async rehydrate(topic: Topic<unknown>): Promise<number> {
    const { watermark, documents } = await this.#hydrator.list(topic.name);
    const verified: HydratedDocument[] = [];
    for (const document of documents) {
      if (await this.#verified(topic.name, document)) {
        verified.push(document);
      }
    }
    topic.replace(verified, watermark);
    await this.#commit(new Set([topic]));
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
   * Saves the whole state in one write, then tells the changed topics' listeners, who see what is held even when the
   * save failed. Work begun under the previous identity's token is not saved: the reset queued behind it replaces it.
   */
  async #commit(changed: ReadonlySet<Topic<unknown>>): Promise<void> {
    const identity = this.#identity;
    try {
      if (identity !== undefined && sameIdentity(identity, this.#tokenIdentity())) {
        const topics: Record<string, StoredTopic> = { ...this.#saved };
        for (const topic of this.#topics.values()) {
          topics[topic.name] = { watermark: topic.watermark, ...(topic.epoch === undefined ? {} : { epoch: topic.epoch }), entries: topic.entries() };
        }
        await this.#store.save({ version: 1, identity, topics });
      }
    } finally {
      changed.forEach((topic) => topic.notify());
    }
  }
}
