const topicName = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/** Whether `name` is a topic name (CONTRACT §2): lowercase words joined by dots, at most 128 characters. */
export function isTopicName(name: string): boolean {
  return name.length <= 128 && topicName.test(name);
}

/**
 * The topics a token may subscribe to, from its `oa_sync_scopes` claim, by the relay's rules (docs/auth.md §3,
 * `Relay.Protocol/TopicScopes.cs`): an exact topic name covers that topic; `prefix.*` covers every topic under
 * `prefix.` at any depth, but neither `prefix` itself nor `prefixfoo`. No entry covers every topic.
 */
export class TopicScopes {
  readonly #exact: ReadonlySet<string>;
  readonly #prefixes: readonly string[];

  private constructor(exact: ReadonlySet<string>, prefixes: readonly string[]) {
    this.#exact = exact;
    this.#prefixes = prefixes;
  }

  /**
   * Reads the claim as the relay does: a JSON array of strings, or one string of entries separated by spaces (or
   * commas). Throws a `TypeError` naming what the relay would refuse the token for: an entry that is neither a topic
   * name nor `prefix.*`, or a claim of another type. An empty list is valid and covers nothing.
   */
  static fromClaim(claim: unknown): TopicScopes {
    const entries = typeof claim === "string" ? claim.split(/[ ,]/).filter((entry) => entry !== "") : claim;
    if (!Array.isArray(entries)) {
      throw new TypeError("oa_sync_scopes is neither an array of strings nor a string");
    }
    const exact = new Set<string>();
    const prefixes: string[] = [];
    for (const entry of entries as unknown[]) {
      if (typeof entry === "string" && entry.endsWith(".*") && isTopicName(entry.slice(0, -2))) {
        // The dot stays, so that runtime.* covers runtime.x and not runtimex.
        prefixes.push(entry.slice(0, -1));
      } else if (typeof entry === "string" && isTopicName(entry)) {
        exact.add(entry);
      } else {
        throw new TypeError(`oa_sync_scopes: ${JSON.stringify(entry)} is neither a topic name nor 'prefix.*'`);
      }
    }
    return new TopicScopes(exact, prefixes);
  }

  /** Whether an exact entry or a `prefix.*` entry covers `topic`. */
  allows(topic: string): boolean {
    return this.#exact.has(topic) || this.#prefixes.some((prefix) => topic.length > prefix.length && topic.startsWith(prefix));
  }
}
