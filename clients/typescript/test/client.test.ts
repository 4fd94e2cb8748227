import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HydrationError, IntegrityError, PayloadError, SyncRelayError, TokenError, type SyncClient, type SyncState, type SyncStore } from "../src/index.js";
import { FileStore } from "../src/node/index.js";
import { createTopic, newClient, publish, sharedRelay, sql, until } from "./support/fixture.js";

interface RunSummary {
  readonly status: string;
  readonly steps?: number;
}

describe("SyncClient against a real relay", () => {
  const clients: SyncClient[] = [];
  const directories: string[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.stop()));
    directories.splice(0).forEach((directory) => rmSync(directory, { recursive: true, force: true }));
  });

  function client(options: Parameters<typeof newClient>[1] = {}) {
    const made = newClient(sharedRelay(), options);
    clients.push(made.client);
    return made;
  }

  function storePath(): string {
    const directory = mkdtempSync(join(tmpdir(), "khala-store-"));
    directories.push(directory);
    return join(directory, "sync.json");
  }

  it("replays, then applies live updates and tombstones by doc_version", async () => {
    const relay = sharedRelay();
    const topic = await createTopic(relay, "live");
    await publish(relay, topic, "live-1", { status: "queued" });
    const { client: sync, errors } = client();
    const runs = sync.subscribe<RunSummary>(topic);
    await sync.start();
    await until(runs, (t) => t.caughtUp && t.documents().length === 1, "replay");

    await publish(relay, topic, "live-2", { status: "running", steps: 2 });
    await publish(relay, topic, "live-1", { status: "done" });
    await until(runs, (t) => t.get("live-1")?.payload.status === "done" && t.get("live-2") !== undefined, "live updates");
    await sql(relay, "SELECT relay.delete($1, 'live-2')", [topic]);
    await until(runs, (t) => t.get("live-2") === undefined, "the tombstone");

    expect(runs.documents().map((d) => [d.docKey, d.docVersion, d.payload])).toEqual([["live-1", 2, { status: "done" }]]);
    expect(runs.watermark).toBe(4);
    // The deletion is not remembered once the watermark has passed it: no older update can come from there on.
    expect(runs.versionOf("live-2")).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it("does not keep deletions once its watermark has passed them, in memory or in the store", async () => {
    const relay = sharedRelay();
    const topic = await createTopic(relay, "churn");
    const path = storePath();
    const { client: sync, errors } = client({ store: new FileStore(path) });
    const runs = sync.subscribe<RunSummary>(topic);
    await sync.start();
    await until(runs, (t) => t.caughtUp, "caught up");

    // Notifications created and dismissed: before, every one stayed as a tombstone, for the client's life.
    await sql(relay, "SELECT relay.publish_batch($1, (SELECT jsonb_agg(jsonb_build_object('doc_key', $1 || ':' || n, 'org_id', 'org-1', 'payload', '{\"status\":\"new\"}'::jsonb)) FROM generate_series(1, 200) n))", [topic]);
    await sql(relay, "SELECT relay.delete($1, $1 || ':' || n) FROM generate_series(1, 200) n", [topic]);
    await publish(relay, topic, "churn-kept", { status: "kept" });
    await until(runs, (t) => t.get("churn-kept") !== undefined, "the last document");
    await sync.stop();

    const saved = JSON.parse(readFileSync(path, "utf8")) as SyncState;
    expect(runs.documents().map((d) => d.docKey)).toEqual(["churn-kept"]);
    expect(runs.versionOf(`${topic}:1`)).toBeUndefined();
    expect(saved.topics[topic]?.entries.map((entry) => entry.docKey)).toEqual(["churn-kept"]);
    expect(errors).toEqual([]);
  });

  it("fetches a payload over 256 KiB over HTTP and checks its hash", async () => {
    const relay = sharedRelay();
    const topic = await createTopic(relay, "omitted");
    const big = { status: "done", log: "x".repeat(300 * 1024) };
    const { client: sync, errors } = client();
    const runs = sync.subscribe<typeof big>(topic);
    await sync.start();
    await until(runs, (t) => t.caughtUp, "caught up");

    await publish(relay, topic, "run-big", big);
    await until(runs, (t) => t.get("run-big") !== undefined, "the omitted payload");

    expect(runs.get("run-big")?.payload.log.length).toBe(300 * 1024);
    expect(runs.get("run-big")?.payloadHash).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(errors).toEqual([]);
  });

  it("says, when a payload cannot be fetched for want of an answer, that a relay refusing the page's origin looks the same", async () => {
    const relay = sharedRelay();
    const topic = await createTopic(relay, "unreachable");
    // What fetch does when the network fails, or when the relay's CORS refuses the page's origin: a bare TypeError.
    const refused: typeof fetch = () => Promise.reject(new TypeError("Failed to fetch"));
    const { client: sync, errors } = client({ fetch: refused });
    const runs = sync.subscribe(topic);
    await sync.start();
    await until(runs, (t) => t.caughtUp, "caught up");

    await publish(relay, topic, "unreachable-big", { log: "x".repeat(300 * 1024) });
    await expect.poll(() => errors.length, { timeout: 10_000 }).toBeGreaterThan(0);

    expect(errors[0]).toBeInstanceOf(HydrationError);
    expect(errors[0]?.message).toMatch(/^GET \/sync\/v1\/doc\/unreachable-big\?topic=.*: Failed to fetch \(no answer: is the relay up at http:\/\/127\.0\.0\.1:\d+\? From a web page, a relay whose Relay:Cors:Origins does not list the page's origin looks the same\)$/);
  });

  it("keeps organizations apart: a client never holds another org's documents", async () => {
    const relay = sharedRelay();
    const topic = await createTopic(relay, "tenancy");
    await publish(relay, topic, "org1-doc", { status: "mine" }, "org-1");
    await publish(relay, topic, "org2-doc", { status: "theirs" }, "org-2");
    const { client: one } = client({ org: "org-1" });
    const { client: two } = client({ org: "org-2" });
    const ones = one.subscribe<RunSummary>(topic);
    const twos = two.subscribe<RunSummary>(topic);
    await Promise.all([one.start(), two.start()]);
    await until(ones, (t) => t.caughtUp, "org-1 caught up");
    await until(twos, (t) => t.caughtUp, "org-2 caught up");

    await publish(relay, topic, "org2-later", { status: "theirs", log: "y".repeat(300 * 1024) }, "org-2");
    await publish(relay, topic, "org1-later", { status: "mine" }, "org-1");
    await until(ones, (t) => t.get("org1-later") !== undefined, "org-1's live update");
    await until(twos, (t) => t.get("org2-later") !== undefined, "org-2's omitted payload");

    expect(ones.documents().map((d) => d.docKey)).toEqual(["org1-doc", "org1-later"]);
    expect(twos.documents().map((d) => d.docKey)).toEqual(["org2-doc", "org2-later"]);
  });

  it("saves documents and watermarks together, so a restarted client resumes with both", async () => {
    const relay = sharedRelay();
    const topic = await createTopic(relay, "resume");
    const path = storePath();
    await publish(relay, topic, "resume-1", { status: "queued" });
    const first = client({ store: new FileStore(path) }).client;
    const before = first.subscribe<RunSummary>(topic);
    await first.start();
    await until(before, (t) => t.caughtUp && t.get("resume-1") !== undefined, "the first document");
    await first.stop();

    await publish(relay, topic, "resume-2", { status: "queued" });
    const { client: second } = client({ store: new FileStore(path) });
    const after = second.subscribe<RunSummary>(topic);
    const restored = after.documents().map((d) => d.docKey);
    await second.start();
    const held = after.documents().map((d) => d.docKey);
    await until(after, (t) => t.get("resume-2") !== undefined, "the document published while stopped");

    expect(restored).toEqual([]);
    expect(held).toEqual(["resume-1"]);
    expect(after.watermark).toBe(2);
  });

  it("shows each update at once and saves them together, at most once per saveIntervalMs, and what is left on stop", async () => {
    const relay = sharedRelay();
    const topic = await createTopic(relay, "coalesced");
    await publish(relay, topic, "coalesced-0", { status: "queued" });
    const saves: SyncState[] = [];
    const store: SyncStore = { load: () => Promise.resolve(undefined), save: (state) => Promise.resolve(void saves.push(state)) };
    const { client: sync, errors } = client({ store, saveIntervalMs: 60_000 });
    const runs = sync.subscribe<RunSummary>(topic);
    await sync.start();
    await until(runs, (t) => t.caughtUp && t.get("coalesced-0") !== undefined, "the first document");
    await expect.poll(() => saves.length, { message: "the first change is saved at once" }).toBeGreaterThan(0);
    const before = saves.length;

    for (let i = 1; i <= 20; i++) {
      await publish(relay, topic, `coalesced-${i}`, { status: "running", steps: i });
    }
    await until(runs, (t) => t.documents().length === 21 && t.watermark === 21, "every update shown");

    expect(saves.length, "no save within the interval").toBe(before);
    await sync.stop();
    const last = saves.at(-1)?.topics[topic];
    expect(saves.length).toBe(before + 1);
    expect([last?.watermark, last?.entries.length]).toEqual([21, 21]);
    expect(errors).toEqual([]);
  });

  it("refuses a payload whose hash does not match, and says so", async () => {
    const relay = sharedRelay();
    const topic = await createTopic(relay, "integrity");
    // Between the client and the relay, something alters the documents fetched over HTTP.
    const tampering: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const document = (await response.json()) as { payload: { status: string } };
      document.payload.status = "tampered";
      return new Response(JSON.stringify(document), { status: response.status, headers: response.headers });
    };
    const { client: sync, errors } = client({ fetch: tampering });
    const runs = sync.subscribe<RunSummary>(topic);
    await sync.start();
    await until(runs, (t) => t.caughtUp, "caught up");

    await publish(relay, topic, "integrity-1", { status: "done", log: "z".repeat(300 * 1024) });
    await publish(relay, topic, "integrity-2", { status: "queued" });
    await until(runs, (t) => t.get("integrity-2") !== undefined, "the next document");

    expect(runs.documents().map((d) => d.docKey)).toEqual(["integrity-2"]);
    expect(errors.filter((e) => e instanceof IntegrityError).map((e) => e.message)).toEqual([
      `${topic} integrity-1 v1: payload_hash does not match the payload; not applied`,
    ]);
  });

  it("types payloads with the topic's parser, which may refuse one", async () => {
    const relay = sharedRelay();
    const topic = await createTopic(relay, "parsed");
    await publish(relay, topic, "parsed-1", { status: 42 });
    await publish(relay, topic, "parsed-2", { status: "queued" });
    const { client: sync, errors } = client();
    const runs = sync.subscribe<RunSummary>(topic, (payload) => {
      const status = (payload as { status?: unknown }).status;
      if (typeof status !== "string") {
        throw new TypeError("status must be a string");
      }
      return { status };
    });
    await sync.start();
    await until(runs, (t) => t.caughtUp, "caught up");

    expect(runs.documents().map((d) => [d.docKey, d.payload])).toEqual([["parsed-2", { status: "queued" }]]);
    expect(errors.filter((e) => e instanceof PayloadError).map((e) => e.message)).toEqual([
      `${topic} parsed-1 v1: refused by the topic's parser: status must be a string`,
    ]);
  });

  it("follows more topics than one subscribe may name (64), in several", async () => {
    const relay = sharedRelay();
    const names: string[] = [];
    for (let i = 0; i < 65; i++) {
      names.push(await createTopic(relay, "many"));
      await publish(relay, names[i] as string, `many-${i}`, { status: "queued" });
    }
    const { client: sync, errors } = client();
    const topics = names.map((name) => sync.subscribe<RunSummary>(name));
    await sync.start();

    await Promise.all(topics.map((t) => until(t, (held) => held.caughtUp && held.documents().length === 1, "its document")));
    expect(errors).toEqual([]);
  });

  it("reports a topic outside the token's scopes and goes on with the others", async () => {
    const relay = sharedRelay();
    const topic = await createTopic(relay, "scoped");
    await publish(relay, topic, "scoped-1", { status: "queued" });
    const { client: sync, errors } = client();
    const runs = sync.subscribe<RunSummary>(topic);
    sync.subscribe("runtime.notifications");
    await sync.start();
    await until(runs, (t) => t.caughtUp && t.documents().length === 1, "the allowed topic");

    expect(errors.filter((e) => e instanceof SyncRelayError).map((e) => (e as SyncRelayError).code)).toContain("FORBIDDEN_TOPIC");
  });

  it("refuses bad input with a clear error", () => {
    const relay = sharedRelay();
    expect(() => newClient(relay, { url: "127.0.0.1:8080" })).toThrow("is not an absolute http(s) URL");
    expect(() => newClient(relay, { url: "ftp://127.0.0.1" })).toThrow("must start with http:// or https://");
    expect(() => client().client.subscribe("Runtime Runs")).toThrow("is not a topic name");
    // More than a connection may follow: before, the relay refused them all with BAD_REQUEST and nothing said so.
    const many = client().client;
    for (let i = 0; i < 256; i++) {
      many.subscribe(`tsclient.many.t${i}`);
    }
    expect(() => many.subscribe("tsclient.many.t256")).toThrow("a client follows at most 256 topics");
  });

  it("reports a token provider that gives something that is not a JWT, and asks it again after backoff", async () => {
    // An auth endpoint that answers with an error page, for a while.
    const { client: sync, errors } = client({ token: () => Promise.resolve("not-a-token"), backoff: { initialDelayMs: 10, maxDelayMs: 50 } });
    void sync.start();

    await expect.poll(() => errors.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    expect(errors.every((error) => error instanceof TokenError && error.message.startsWith("the token provider returned something that is not a JWT"))).toBe(true);
    expect(sync.state).toBe("connecting");
  });
});
