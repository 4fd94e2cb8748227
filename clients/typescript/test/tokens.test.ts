import { afterEach, describe, expect, it } from "vitest";
import { SyncRelayError, TokenError, type SyncClient } from "../src/index.js";
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
    const token = () => {
      calls++;
      // The in-band refresh fails (the auth service is down); later calls work again.
      return calls === 2 ? Promise.reject(new Error("auth service unavailable")) : mintToken(relay, { ttl: calls === 1 ? 5 : 3600 });
    };
    const { client, errors } = newClient(relay, { token });
    clients.push(client);
    const runs = client.subscribe(topic);
    await client.start();
    await until(runs, (t) => t.caughtUp, "caught up");

    await waitFor(() => client.stats.reconnects >= 1 && client.state === "connected", 30_000, "the reconnection after expiry");
    await publish(relay, topic, "expiry-1", { n: 1 });
    await until(runs, (t) => t.get("expiry-1") !== undefined, "a live update after expiry");

    expect(client.stats.reconnects).toBe(1);
    expect(calls).toBe(3);
    expect(errors.map((e) => (e instanceof SyncRelayError ? e.code : e.message))).toEqual(["auth service unavailable", "UNAUTHORIZED"]);
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
    expect(errors.every((e) => e instanceof TokenError)).toBe(true);
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
