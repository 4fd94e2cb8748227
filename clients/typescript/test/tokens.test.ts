import { afterEach, describe, expect, it } from "vitest";
import { ConnectionError, SyncRelayError, TokenError, type SyncClient } from "../src/index.js";
import { TokenKeeper } from "../src/tokens.js";
import { createTopic, mintToken, newClient, publish, sharedRelay, until } from "./support/fixture.js";
import { waitFor } from "./support/relay.js";

describe("tokens", () => {
  const clients: SyncClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.stop()));
  });

  it("refreshes short-lived tokens in band, without reconnecting", async () => {
    const relay = sharedRelay();
    const topic = await createTopic(relay, "refresh");
    const { client, errors } = newClient(relay, { ttl: 6 });
    clients.push(client);
    const runs = client.subscribe(topic);
    await client.start();
    await until(runs, (t) => t.caughtUp, "caught up");

    // Three refreshes take the connection well past the first token's 6 s.
    await waitFor(() => client.stats.tokenRefreshes >= 3, 30_000, "three in-band refreshes");
    await publish(relay, topic, "refresh-1", { n: 1 });
    await until(runs, (t) => t.get("refresh-1") !== undefined, "a live update on the refreshed connection");

    expect(client.stats.reconnects).toBe(0);
    expect(errors).toEqual([]);
  });

  it("after expiry, gets a fresh token before reconnecting and resumes", async () => {
    const relay = sharedRelay();
    const topic = await createTopic(relay, "expiry");
    let calls = 0;
    let expires = Number.POSITIVE_INFINITY;
    const token = () => {
      calls++;
      if (calls === 1) {
        expires = Date.now() + 5_000;
        return mintToken(relay, { ttl: 5 });
      }
      // Every in-band refresh fails (the auth service is down until 2 s after the first token expired); then it works again.
      return Date.now() < expires + 2_000 ? Promise.reject(new Error("auth service unavailable")) : mintToken(relay, { ttl: 3600 });
    };
    const { client, errors } = newClient(relay, { token });
    clients.push(client);
    const runs = client.subscribe(topic);
    await client.start();
    await until(runs, (t) => t.caughtUp, "caught up");

    await waitFor(() => client.stats.reconnects >= 1 && client.state === "connected", 30_000, "the reconnection after expiry");
    await publish(relay, topic, "expiry-1", { n: 1 });
    await until(runs, (t) => t.get("expiry-1") !== undefined, "a live update after expiry");

    const reported = errors.map((e) => (e instanceof SyncRelayError ? e.code : e.message));
    // The refresh is tried again while the token lasts (1 to 30 s apart), the relay ends the connection at its expiry,
    // and the client asks again, after backoff, until the service answers.
    const refreshes = reported.indexOf("UNAUTHORIZED");
    expect(refreshes).toBeGreaterThanOrEqual(2);
    expect(new Set(reported.filter((code) => code !== "UNAUTHORIZED"))).toEqual(new Set(["auth service unavailable"]));
    expect(calls).toBe(reported.length + 1);
  });

  it("gives up a refresh that hangs when the token in force expires, and asks again for the reconnection", async () => {
    // Before, a hanging refresh was waited for 30 s whatever the token's lifetime: the relay ended the connection at the
    // expiry and the reconnection waited on the same request until then (TS client review T5).
    const relay = sharedRelay();
    const topic = await createTopic(relay, "refresh_hangs");
    let calls = 0;
    const token = () => {
      calls++;
      return calls === 2 ? new Promise<string>(() => undefined) : mintToken(relay, { ttl: calls === 1 ? 4 : 3600 });
    };
    const { client, errors } = newClient(relay, { token });
    clients.push(client);
    const runs = client.subscribe(topic);
    await client.start();
    await until(runs, (t) => t.caughtUp, "caught up");

    await waitFor(() => calls >= 3 && client.state === "connected", 15_000, "a new request after the hanging one's token expired");
    await publish(relay, topic, "refresh-hangs-1", { n: 1 });
    await until(runs, (t) => t.get("refresh-hangs-1") !== undefined, "a live update after the reconnection");
    expect(errors.map((e) => e.message)).toContainEqual(expect.stringMatching(/^the token provider did not answer within [1-4](\.\d+)? s$/));
  });

  it("backs off with jitter while every token is refused: a handful of attempts in 30 s, not hundreds", async () => {
    const relay = sharedRelay();
    const topic = await createTopic(relay, "storm");
    await publish(relay, topic, "storm-1", { n: 1 });
    const refuseUntil = Date.now() + 30_000;
    let calls = 0;
    const token = () => {
      calls++;
      return mintToken(relay, { ttl: Date.now() < refuseUntil ? -60 : 3600 });
    };
    const { client, errors } = newClient(relay, { token });
    clients.push(client);
    const runs = client.subscribe(topic);
    await client.start();

    await waitFor(() => Date.now() >= refuseUntil, 40_000, "30 s of refused tokens");
    const attemptsIn30s = client.stats.reconnects;
    await until(runs, (t) => t.get("storm-1") !== undefined, "the document once tokens are valid again", 60_000);

    expect(attemptsIn30s).toBeGreaterThanOrEqual(3);
    expect(attemptsIn30s).toBeLessThanOrEqual(15);
    expect(calls).toBeLessThanOrEqual(attemptsIn30s + 3);
    // The expired tokens, and the upgrades the relay refused for them, with its reason.
    expect(errors.every((e) => e instanceof TokenError || (e instanceof ConnectionError && e.message.includes("the relay refused the token (expired)"))))
      .toBe(true);
  });

  it("tries a refresh that failed again while the token is valid, without reconnecting", async () => {
    const relay = sharedRelay();
    const topic = await createTopic(relay, "refresh_retry");
    await publish(relay, topic, "retry-1", { n: 1 });
    let calls = 0;
    // 8 s tokens, refreshed halfway; the token service fails the first refresh only.
    const token = () => (++calls === 2 ? Promise.reject(new Error("token service blip")) : mintToken(relay, { ttl: 8 }));
    const { client, errors } = newClient(relay, { token });
    clients.push(client);
    const runs = client.subscribe(topic);
    await client.start();
    await until(runs, (t) => t.get("retry-1") !== undefined, "the document");

    await waitFor(() => client.stats.tokenRefreshes >= 1, 15_000, "a refresh after the failed one");
    await publish(relay, topic, "retry-2", { n: 2 });
    await until(runs, (t) => t.get("retry-2") !== undefined, "a live update on the same connection");

    expect(client.stats.reconnects).toBe(0);
    expect(errors.map((e) => e.message)).toEqual(["token service blip"]);
  });

  it("takes the same cached token again before a reconnect without reporting an error", async () => {
    const relay = sharedRelay();
    const cached = await mintToken(relay, { ttl: 3600 });
    const errors: Error[] = [];
    const keeper = new TokenKeeper(() => Promise.resolve(cached), 60_000, () => undefined, (error) => errors.push(error), () => undefined);

    const first = await keeper.fresh();
    const again = await keeper.fresh();
    keeper.stop();

    expect([first, again]).toEqual([cached, cached]);
    expect(errors).toEqual([]);
  });
});
