import { afterEach, expect, it } from "vitest";
import type { SyncClient } from "../src/index.js";
import { newClient, sharedRelay } from "./support/fixture.js";
import { freePort, waitFor } from "./support/relay.js";

const clients: SyncClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.stop()));
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
