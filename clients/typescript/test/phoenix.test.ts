import { Socket, type Channel } from "phoenix";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createTopic, mintToken, publish, sharedRelay } from "./support/fixture.js";

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
});
