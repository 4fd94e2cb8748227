import { createServer, type AddressInfo, type Socket } from "node:net";
import WebSocket from "ws";
import { afterEach, expect, it } from "vitest";
import { ConnectionError, type SyncClient } from "../src/index.js";
import { createTopic, mintToken, newClient, publish, sharedRelay, until } from "./support/fixture.js";
import { TcpProxy } from "./support/proxy.js";
import { freePort, waitFor } from "./support/relay.js";

const clients: SyncClient[] = [];
const proxies: TcpProxy[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.stop()));
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

it("retries a closed port many times without piling up listeners on its stop signal", async () => {
  const warnings: Error[] = [];
  const warned = (warning: Error) => warnings.push(warning);
  process.on("warning", warned);
  try {
    // Nothing listens there: every attempt is refused at once, and the backoff allows a few milliseconds between them.
    const { client } = newClient(sharedRelay(), { url: `http://127.0.0.1:${await freePort()}`, backoff: { initialDelayMs: 1, maxDelayMs: 5 } });
    clients.push(client);
    await client.start();
    await waitFor(() => client.stats.reconnects >= 30, 60_000, "30 reconnection attempts");
    await client.stop();
    // Node emits a warning on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("warning", warned);
  }

  expect(warnings.map((warning) => `${warning.name}: ${warning.message}`)).toEqual([]);
});

it("gives up a connection whose upgrade is never answered, and tries again", async () => {
  // A host that takes the TCP connection and never answers: phoenix.js alone would wait for ever.
  const hung: Socket[] = [];
  const server = createServer((socket) => hung.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const { client, errors } = newClient(sharedRelay(), { url: `http://127.0.0.1:${port}`, connectTimeoutMs: 500, backoff: { initialDelayMs: 1, maxDelayMs: 5 } });
    clients.push(client);
    await client.start();

    await waitFor(() => client.stats.reconnects >= 2, 30_000, "two attempts given up");
    expect(errors.map((error) => error.message)).toContain("the relay did not accept the connection within 0.5 s; reconnecting");
    expect(client.state).toBe("connecting");
  } finally {
    hung.forEach((socket) => socket.destroy());
    await new Promise((resolve) => server.close(resolve));
  }
});

it("closes a connection the relay has gone silent on, reconnects and resumes where it was", async () => {
  const relay = sharedRelay();
  const topic = await createTopic(relay, "silence");
  await publish(relay, topic, "silence-1", { n: 1 });
  const proxy = await TcpProxy.start(relay.url);
  proxies.push(proxy);
  // Above the test relay's 2 s heartbeat, so that only the black hole makes the relay silent for that long.
  const { client, errors } = newClient(relay, { url: proxy.url, serverSilenceTimeoutMs: 3_000 });
  clients.push(client);
  const runs = client.subscribe<{ n: number }>(topic);
  await client.start();
  await until(runs, (t) => t.caughtUp && t.get("silence-1") !== undefined, "the first document");
  const reconnects = client.stats.reconnects;

  proxy.blackHole();
  await publish(relay, topic, "silence-2", { n: 2 });
  // phoenix.js alone notices only when its own heartbeat (every 30 s) goes unanswered for 30 s more.
  await waitFor(() => client.stats.reconnects > reconnects && client.state === "connected", 20_000,
    "a reconnection, well before phoenix.js's heartbeat would notice");
  await until(runs, (t) => t.get("silence-2") !== undefined, "the document published into the black hole");
  await publish(relay, topic, "silence-3", { n: 3 });
  await until(runs, (t) => t.get("silence-3") !== undefined, "a live update after the reconnection");

  expect(proxy.accepted).toBe(2);
  expect(runs.documents().map((d) => d.payload.n)).toEqual([1, 2, 3]);
  expect(errors.map((e) => e.message)).toEqual(["no frame from the relay for 3 s; reconnecting"]);
});

it("stopped while start() waits for its first token, opens no connection and leaves nothing running", async () => {
  const relay = sharedRelay();
  let sockets = 0;
  // Counts the connections the client opens.
  class Counted extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      sockets++;
    }
  }
  const { client } = newClient(relay, {
    transport: Counted,
    token: () => new Promise((resolve) => setTimeout(() => resolve(mintToken(relay)), 300)),
  });

  // What React's StrictMode does to an effect that starts a client and stops it on cleanup.
  const starting = client.start();
  await client.stop();
  await starting;
  await new Promise((resolve) => setTimeout(resolve, 1_000));

  expect([sockets, client.state]).toEqual([0, "stopped"]);
  await expect(client.start()).rejects.toThrow("start() after stop(): a SyncClient starts once; create a new one");
});

it("asks a token provider that fails at start again after backoff, saying so, and starts once it answers", async () => {
  const relay = sharedRelay();
  const topic = await createTopic(relay, "provider_down");
  await publish(relay, topic, "provider-1", { n: 1 });
  let calls = 0;
  const token = () => (++calls <= 2 ? Promise.reject(new Error("token service down")) : mintToken(relay));
  const { client, errors } = newClient(relay, { token, backoff: { initialDelayMs: 10, maxDelayMs: 50 } });
  clients.push(client);
  const held = client.subscribe(topic);

  await client.start();
  await until(held, (t) => t.get("provider-1") !== undefined, "the document");

  expect(calls).toBe(3);
  expect(errors.map((error) => error.message)).toEqual(["token service down", "token service down"]);
});

it.each([
  { refused: "a port nothing listens on", url: async () => `http://127.0.0.1:${await freePort()}`, token: false, detail: "ECONNREFUSED" },
  { refused: "a token whose signature is wrong", url: async () => sharedRelay().url, token: true,
    detail: "the relay refused the token (bad_signature): the token provider returns a token the relay's keys do not verify" },
])("reports each connection that fails before it opens, to $refused, with what the runtime said", async ({ url, token, detail }) => {
  const relay = sharedRelay();
  const forged = async () => `${(await mintToken(relay)).slice(0, -4)}AAAA`;
  const { client, errors } = newClient(relay, { url: await url(), backoff: { initialDelayMs: 10, maxDelayMs: 50 }, ...(token ? { token: forged } : {}) });
  clients.push(client);
  await client.start();

  await waitFor(() => errors.length >= 2, 30_000, "two failed connections reported");
  expect(errors[0]).toBeInstanceOf(ConnectionError);
  expect(errors[0]?.message).toMatch(/^could not connect to ws:\/\/127\.0\.0\.1:\d+\/socket\/websocket: /);
  expect(errors[0]?.message).toContain(detail);
  expect(errors[0]?.message).not.toContain("token=");
  expect(errors[0]?.message).not.toContain("Unexpected server response");
  expect(client.state).toBe("connecting");
});
