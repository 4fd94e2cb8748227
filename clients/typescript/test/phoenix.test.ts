import { Socket, type Channel } from "phoenix";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createTopic, mintToken, publish, sharedRelay } from "./support/fixture.js";
import { RelayProcess } from "./support/relay.js";

interface Update {
  readonly docKey: string;
  readonly docVersion: number;
  readonly payload: unknown;
}

describe("stock phoenix.js, no wrapper", () => {
  let socket: Socket | undefined;

  afterEach(() => socket?.disconnect());

  it("joins sync:v1, subscribes from a watermark and receives replay and live updates", async () => {
    const relay = sharedRelay();
    const topic = await createTopic(relay, "phoenix");
    await publish(relay, topic, "phx-1", { status: "queued" });
    await publish(relay, topic, "phx-2", { status: "queued" });
    const token = await mintToken(relay);
    socket = new Socket(`${relay.url.replace("http", "ws")}/socket`, { transport: WebSocket, params: { token } });
    socket.connect();
    const channel: Channel = socket.channel("sync:v1", { token });
    const updates: Update[] = [];
    let caughtUp!: () => void;
    const caughtUpOnce = new Promise<void>((resolve) => (caughtUp = resolve));
    channel.on("update_batch", (batch: { updates?: Update[]; caughtUpTopics?: string[] }) => {
      updates.push(...(batch.updates ?? []));
      if (batch.caughtUpTopics?.includes(topic)) {
        caughtUp();
      }
    });
    await new Promise((resolve, reject) => channel.join().receive("ok", resolve).receive("error", reject));

    const subscribed = await new Promise<{ currentWatermarks: Record<string, number> }>((resolve, reject) =>
      channel.push("subscribe", { topics: [topic], resumeAfter: { [topic]: 1 } }).receive("ok", resolve).receive("error", reject));
    await caughtUpOnce;
    const live = new Promise<void>((resolve) => channel.on("update_batch", (batch: { updates?: Update[] }) => {
      if (batch.updates?.some((u) => u.docKey === "phx-3")) {
        resolve();
      }
    }));
    await publish(relay, topic, "phx-3", { status: "running", cost_micros: 155627012252807600 });
    await live;

    expect(subscribed.currentWatermarks[topic]).toBe(2);
    expect(updates.map((u) => [u.docKey, u.docVersion, u.payload])).toEqual([
      ["phx-2", 1, { status: "queued" }],
      ["phx-3", 1, { status: "running", cost_micros: 155627012252807600 }],
    ]);
  });

  // A token is served until its deadline, then the connection is closed (UNAUTHORIZED, 1008) and every upgrade with
  // it is refused (401), which stock phoenix.js paces with its reconnect schedule. A token accepted and then closed at
  // once (the old skew mismatch) made it reconnect about 50 times a second, forever.
  it("with a token that expires makes a handful of attempts in 30 s, not hundreds", async () => {
    const relay = sharedRelay();
    const token = await mintToken(relay, { ttl: 3 });
    let attempts = 0;
    let opened = 0;
    socket = new Socket(`${relay.url.replace("http", "ws")}/socket`, { transport: WebSocket, params: { token } });
    socket.onError(() => {
      attempts++;
    });
    socket.onOpen(() => {
      opened++;
    });
    socket.connect();

    await new Promise((resolve) => setTimeout(resolve, 30_000));
    socket.disconnect();

    expect(opened).toBe(1);
    expect(attempts).toBeGreaterThan(0);
    expect(attempts).toBeLessThan(25);
  }, 60_000);

  // The other half of the same rule: a token the upgrade accepts within the relay's clock skew is served until exp plus
  // that skew, not closed at once (which made stock phoenix.js reconnect in a tight loop).
  it("with a token just past exp but within the relay's clock skew connects once and stays", async () => {
    const skewed = new RelayProcess(undefined, "00:00:30");
    try {
      const relay = await skewed.start();
      const token = await mintToken(relay, { ttl: -5 });
      let opened = 0;
      let closed = 0;
      socket = new Socket(`${relay.url.replace("http", "ws")}/socket`, { transport: WebSocket, params: { token } });
      socket.onOpen(() => {
        opened++;
      });
      socket.onClose(() => {
        closed++;
      });
      socket.connect();

      await new Promise((resolve) => setTimeout(resolve, 10_000));
      socket.disconnect();

      expect([opened, closed]).toEqual([1, 0]);
    } finally {
      await skewed.dispose();
    }
  }, 180_000);
});
