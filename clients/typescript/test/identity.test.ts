import { readFileSync, writeFileSync } from "node:fs";
import { expect, it } from "vitest";
import type { Topic } from "../src/index.js";
import { createTopic, fileStoreClients, mintToken, newClient, publish, sharedRelay, until, type TokenRequest } from "./support/fixture.js";

interface Owned {
  readonly owner: string;
}

const { store, client } = fileStoreClients("khala-identity-");

/**
 * A topic where org-2's document is older than org-1's: resuming from org-1's watermark would pass over it. Doc keys
 * are unique across topics: each carries the topic's name, which {@link keys} leaves out.
 */
async function twoOrganisations(name: string): Promise<string> {
  const relay = sharedRelay();
  const topic = await createTopic(relay, name);
  await publish(relay, topic, `org2-doc-${topic}`, { owner: "org-2" }, "org-2");
  await publish(relay, topic, `org1-doc-${topic}`, { owner: "org-1" }, "org-1");
  return topic;
}

/** The documents held, by owner: `org1-doc` and `org2-doc`. */
function keys(topic: Topic<Owned>): string[] {
  return topic.documents().map((document) => document.docKey.replace(`-${topic.name}`, ""));
}

function savedIdentity(): unknown {
  return (JSON.parse(readFileSync(store.path, "utf8")) as { identity?: unknown }).identity;
}

/** org-1's user, caught up on the topic with the store at `store.path`. */
async function firstSession(topic: string, options: Parameters<typeof newClient>[1] = {}) {
  const made = client(options);
  const held = made.client.subscribe<Owned>(topic);
  await made.client.start();
  await until(held, (t) => t.caughtUp && t.watermark === 2 && keys(t).join() === "org1-doc", "org-1's document");
  return { ...made, held };
}

it.each([
  { saved: "another organisation", next: { org: "org-2" }, older: false, expected: ["org2-doc"], identity: { org: "org-2", subject: "ts-test" } },
  { saved: "another subject", next: { subject: "someone-else" }, older: false, expected: ["org1-doc"], identity: { org: "org-1", subject: "someone-else" } },
  { saved: "no identity (an older client)", next: {}, older: true, expected: ["org1-doc"], identity: { org: "org-1", subject: "ts-test" } },
])("at start, discards a state saved for $saved and hydrates afresh", async ({ next, older, expected, identity }) => {
  const topic = await twoOrganisations("shared_store");
  const first = await firstSession(topic);
  await first.client.stop();
  if (older) {
    const saved = JSON.parse(readFileSync(store.path, "utf8")) as Record<string, unknown>;
    delete saved.identity;
    writeFileSync(store.path, JSON.stringify(saved));
  }

  const { client: second, errors } = client(next);
  const after = second.subscribe<Owned>(topic);
  await second.start();
  expect(keys(after)).toEqual([]);
  expect(after.watermark).toBe(0);
  await until(after, (t) => t.caughtUp && keys(t).join() === expected.join(), "the new user's own documents");

  expect(keys(after)).toEqual(expected);
  expect(savedIdentity()).toEqual(identity);
  expect(errors).toEqual([]);
});

it("keeps the saved state of the same organisation and subject", async () => {
  const topic = await twoOrganisations("same_user");
  const first = await firstSession(topic);
  await first.client.stop();

  const { client: second } = client({});
  const after = second.subscribe<Owned>(topic);
  await second.start();

  expect(keys(after)).toEqual(["org1-doc"]);
  expect(after.watermark).toBe(2);
  expect(savedIdentity()).toEqual({ org: "org-1", subject: "ts-test" });
});

it.each([
  { switched: "organisation", next: { org: "org-2" }, expected: ["org2-doc"], identity: { org: "org-2", subject: "ts-test" } },
  { switched: "subject", next: { subject: "someone-else" }, expected: ["org1-doc"], identity: { org: "org-1", subject: "someone-else" } },
])("when a fresh token names another $switched, drops what it holds and hydrates for the new identity", async ({ next, expected, identity }) => {
  const relay = sharedRelay();
  const topic = await twoOrganisations("switch");
  // Short-lived tokens: the next one is fetched within 2 s, in band.
  let request: TokenRequest = { ttl: 4 };
  const { held, errors } = await firstSession(topic, { token: () => mintToken(relay, request) });
  const seen: string[][] = [];
  held.listen(() => seen.push(keys(held)));

  // The user switches: the application's token provider now speaks for someone else.
  request = { ...next, ttl: 3600 };
  await until(held, (t) => t.caughtUp && seen.some((k) => k.length === 0) && keys(t).join() === expected.join(),
    "the new identity's own documents, after the old ones were dropped");

  const sinceDropped = seen.slice(seen.findIndex((k) => k.length === 0));
  expect(new Set(sinceDropped.flat())).toEqual(new Set(expected));
  expect(keys(held)).toEqual(expected);
  expect(savedIdentity()).toEqual(identity);
  expect(errors).toEqual([]);
});
