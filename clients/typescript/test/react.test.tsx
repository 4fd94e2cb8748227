// @vitest-environment happy-dom
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { afterEach, expect, it } from "vitest";
import { LocalStorageStore, type SyncClient } from "../src/index.js";
import { SyncProvider, useConnectionState, useDocument, useTopic } from "../src/react/index.js";
import { createTopic, newClient, publish, sharedRelay, sql } from "./support/fixture.js";

interface RunSummary {
  readonly status: string;
}

function RunList({ topic }: { topic: string }) {
  const runs = useTopic<RunSummary>(topic);
  const state = useConnectionState();
  return (
    <div>
      <p>{state}</p>
      <ul>{runs.map((run) => <li key={run.docKey}>{`${run.docKey}: ${run.payload.status}`}</li>)}</ul>
    </div>
  );
}

function RunDetail({ topic, docKey }: { topic: string; docKey: string }) {
  const run = useDocument<RunSummary>(topic, docKey);
  return <p>{run === undefined ? `${docKey} missing` : `${docKey} is ${run.payload.status} (v${run.docVersion})`}</p>;
}

const clients: SyncClient[] = [];

afterEach(async () => {
  cleanup();
  await Promise.all(clients.splice(0).map((client) => client.stop()));
});

it("useTopic and useDocument re-render on live updates and deletions", async () => {
  const relay = sharedRelay();
  const topic = await createTopic(relay, "react");
  await publish(relay, topic, "react-1", { status: "queued" });
  // happy-dom's fetch is a browser's: the relay's CORS (relay up allows localhost) lets its origin in.
  const { client, errors } = newClient(relay, { store: new LocalStorageStore("khala-test"), fetch: globalThis.fetch });
  clients.push(client);
  render(
    <SyncProvider client={client}>
      <RunList topic={topic} />
      <RunDetail topic={topic} docKey="react-2" />
    </SyncProvider>,
  );
  await client.start();

  expect(await screen.findByText("react-1: queued", undefined, { timeout: 30_000 })).toBeDefined();
  await screen.findByText("connected");
  await publish(relay, topic, "react-2", { status: "running" });
  await screen.findByText("react-2 is running (v1)", undefined, { timeout: 30_000 });
  await publish(relay, topic, "react-2", { status: "done", log: "w".repeat(300 * 1024) });
  await screen.findByText("react-2 is done (v2)", undefined, { timeout: 30_000 });
  await sql(relay, "SELECT relay.delete($1, 'react-1')", [topic]);
  await waitFor(() => expect(screen.getAllByRole("listitem").map((item) => item.textContent)).toEqual(["react-2: done"]), { timeout: 30_000 });

  // Shown at once, saved within a second (saveIntervalMs).
  const saved = () => (JSON.parse(localStorage.getItem("khala-test") ?? "null") as { topics: Record<string, { watermark: number }> }).topics[topic];
  await expect.poll(() => saved()?.watermark, { timeout: 5_000 }).toBe(4);
  expect(errors).toEqual([]);
});

it("useTopic without a provider says what is missing", () => {
  expect(() => render(<RunList topic="runtime.run_summaries" />)).toThrow("need a <SyncProvider client={…}> above them");
});

