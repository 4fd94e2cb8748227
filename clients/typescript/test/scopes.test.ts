import { readFileSync } from "node:fs";
import { UnsecuredJWT } from "jose";
import { expect, it } from "vitest";
import { SyncRelayError, TokenError, type SyncState, type Topic, type TokenProvider } from "../src/index.js";
import { TopicScopes } from "../src/scopes.js";
import { createTopic, fileStoreClients, mintToken, publish, sharedRelay, until } from "./support/fixture.js";

const { store, client } = fileStoreClients("khala-scopes-");

/** Two topics with a document each: the token will stop covering the first. */
async function twoTopics() {
  const relay = sharedRelay();
  const revoked = await createTopic(relay, "revoked");
  const kept = await createTopic(relay, "kept");
  await publish(relay, revoked, `secret-${revoked}`, { secret: true });
  await publish(relay, kept, `kept-${kept}`, { secret: false });
  return { revoked, kept };
}

/** The doc keys the store holds for `topic`, tombstones included. */
function saved(topic: string): string[] {
  const state = JSON.parse(readFileSync(store.path, "utf8")) as SyncState;
  return (state.topics[topic]?.entries ?? []).map((entry) => entry.docKey);
}

function keys(topic: Topic<unknown>): string[] {
  return topic.documents().map((document) => document.docKey);
}

it.each([
  {
    when: "a refreshed token drops its scope (the relay's push)",
    // Short-lived tokens, refreshed in band within 2 s: the narrowed one comes with the next refresh.
    tokens: (narrowed: () => boolean, kept: string): TokenProvider => () =>
      mintToken(sharedRelay(), { ttl: 4, scopes: narrowed() ? [kept] : ["tsclient.*"] }),
  },
  {
    when: "the token fetched to reconnect after expiry does not cover it (the reply to subscribe)",
    // Once narrowed, the in-band refresh fails, the token expires, and the one fetched before reconnecting is narrowed.
    tokens: (narrowed: () => boolean, kept: string): TokenProvider => {
      let refreshFailed = false;
      return () => {
        if (!narrowed()) {
          return mintToken(sharedRelay(), { ttl: 5 });
        }
        if (!refreshFailed) {
          refreshFailed = true;
          return Promise.reject(new Error("auth service unavailable"));
        }
        return mintToken(sharedRelay(), { ttl: 3600, scopes: [kept] });
      };
    },
  },
])("when $when, empties the topic in memory and in the store and keeps the others", async ({ tokens }) => {
  const relay = sharedRelay();
  const { revoked, kept } = await twoTopics();
  let narrowed = false;
  const { client: sync, errors } = client({ token: tokens(() => narrowed, kept) });
  const secrets = sync.subscribe(revoked);
  const others = sync.subscribe(kept);
  await sync.start();
  await until(secrets, (t) => t.caughtUp && t.documents().length === 1, "the topic's document");
  await until(others, (t) => t.caughtUp && t.documents().length === 1, "the other topic's document");
  const seen: string[][] = [];
  secrets.listen(() => seen.push(keys(secrets)));

  narrowed = true;
  await until(secrets, (t) => t.documents().length === 0, "the topic emptied", 60_000);
  await publish(relay, kept, `later-${kept}`, { secret: false });
  await until(others, (t) => t.get(`later-${kept}`) !== undefined, "a live update of the other topic");

  expect(seen).toContainEqual([]);
  expect(secrets.watermark).toBe(0);
  expect(saved(revoked)).toEqual([]);
  // A topic shows an update as soon as it is applied, and saves it a moment later.
  await expect.poll(() => saved(kept)).toEqual([`kept-${kept}`, `later-${kept}`]);
  expect(keys(others)).toEqual([`kept-${kept}`, `later-${kept}`]);
  expect(errors.filter((e) => e instanceof SyncRelayError && e.code === "FORBIDDEN_TOPIC").map((e) => (e as SyncRelayError).topic))
    .toEqual([revoked]);
});

it("at start, drops what it saved of topics the token's scopes no longer cover, before showing anything", async () => {
  const { revoked, kept } = await twoTopics();
  const first = client({});
  const before = first.client.subscribe(revoked);
  const beforeOthers = first.client.subscribe(kept);
  await first.client.start();
  await until(before, (t) => t.caughtUp && t.documents().length === 1, "the topic's document");
  await until(beforeOthers, (t) => t.caughtUp && t.documents().length === 1, "the other topic's document");
  await first.client.stop();
  expect([saved(revoked), saved(kept)]).toEqual([[`secret-${revoked}`], [`kept-${kept}`]]);

  // An exact entry for the other topic, and a wildcard that covers neither.
  const { client: second, errors } = client({ scopes: [kept, "tsclient.elsewhere.*"] });
  const secrets = second.subscribe(revoked);
  const others = second.subscribe(kept);
  const seen: string[][] = [];
  secrets.listen(() => seen.push(keys(secrets)));
  await second.start();
  const shownAtStart = { secrets: keys(secrets), watermark: secrets.watermark, others: keys(others), saved: saved(revoked) };
  await until(others, (t) => t.caughtUp, "the other topic caught up");

  expect(shownAtStart).toEqual({ secrets: [], watermark: 0, others: [`kept-${kept}`], saved: [] });
  expect(seen.flat()).toEqual([]);
  expect(saved(kept)).toEqual([`kept-${kept}`]);
  expect(errors.filter((e) => e instanceof SyncRelayError).map((e) => [(e as SyncRelayError).code, (e as SyncRelayError).topic]))
    .toEqual([["FORBIDDEN_TOPIC", revoked]]);
});

it("reads oa_sync_scopes as the relay does: exact names and prefix.* at any depth, in an array or a string", () => {
  const topics = ["runtime.run_summaries", "runtime.audit.events", "runtime", "runtimefoo.x", "billing.invoices", "billing.invoices.x", "ops.x"];
  const covered = (claim: unknown) => topics.filter((topic) => TopicScopes.fromClaim(claim).allows(topic));

  expect(covered(["runtime.*", "billing.invoices"])).toEqual(["runtime.run_summaries", "runtime.audit.events", "billing.invoices"]);
  expect(covered("runtime.*  billing.invoices,ops.x")).toEqual(["runtime.run_summaries", "runtime.audit.events", "billing.invoices", "ops.x"]);
  expect(covered([])).toEqual([]);
  for (const refused of [["*"], ["runtime*"], ["Runtime.x"], ["runtime.*.x"], ["runtime."], [3], "runtime.* *", 42]) {
    expect(() => TopicScopes.fromClaim(refused), JSON.stringify(refused)).toThrow(TypeError);
  }
});

it.each([
  { claim: undefined, message: "the token provider returned a JWT without oa_sync_scopes; the relay requires it" },
  { claim: ["runtime*"], message: "the token provider returned a JWT the relay refuses: oa_sync_scopes: \"runtime*\" is neither a topic name nor 'prefix.*'" },
])("reports a token whose oa_sync_scopes is $claim, as the relay would refuse it, and asks again instead of connecting", async ({ claim, message }) => {
  const token = new UnsecuredJWT({ oa_org_id: "org-1", ...(claim === undefined ? {} : { oa_sync_scopes: claim }) })
    .setSubject("ts-test").setExpirationTime("1h").encode();
  const { client: sync, errors } = client({ token: () => Promise.resolve(token), backoff: { initialDelayMs: 10, maxDelayMs: 50 } });
  void sync.start();

  await expect.poll(() => errors.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
  expect(errors.slice(0, 2)).toEqual([new TokenError(message), new TokenError(message)]);
  expect(sync.state).toBe("connecting");
});

it("subscribes again by itself to a topic refused as forbidden once a refreshed token covers it", async () => {
  const relay = sharedRelay();
  const { revoked: granted, kept } = await twoTopics();
  let widened = false;
  // Short-lived tokens, refreshed in band within 2 s: the widened one comes with the next refresh.
  const { client: sync, errors } = client({
    token: () => mintToken(relay, { ttl: 4, scopes: widened ? ["tsclient.*"] : [kept] }),
  });
  const later = sync.subscribe(granted);
  const others = sync.subscribe(kept);
  await sync.start();
  await until(others, (t) => t.caughtUp && t.documents().length === 1, "the covered topic's document");
  await expect.poll(() => errors.some((e) => e instanceof SyncRelayError && e.code === "FORBIDDEN_TOPIC" && e.topic === granted))
    .toBe(true);

  // Before, the topic stayed refused until the application subscribed to it again.
  widened = true;
  await until(later, (t) => t.caughtUp && t.get(`secret-${granted}`) !== undefined, "the topic's document once covered", 60_000);
  await publish(relay, granted, `live-${granted}`, { secret: true });
  await until(later, (t) => t.get(`live-${granted}`) !== undefined, "a live update of the topic");
});
