import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { IndexedDbStore, SyncClient } from "@khala/relay-client";
import { SyncProvider, useConnectionState, useTopic } from "@khala/relay-client/react";

/** The run summary documents the runtime publishes to runtime.run_summaries. */
interface RunSummary {
  readonly status: string;
  readonly steps?: number;
}

// A real application gets the relay's address from its config and tokens from its own backend;
// this example takes both from the page's address: ?relay=http://127.0.0.1:8080&token=…
const params = new URLSearchParams(location.search);
const relay = params.get("relay") ?? "http://127.0.0.1:8080";
const token = params.get("token");
if (token === null) {
  throw new Error("open this page with ?token=… (the token relay up prints)");
}

const client = new SyncClient({
  url: relay,
  token: () => Promise.resolve(token),
  store: new IndexedDbStore("live-list"),
  onError: (error) => console.warn(error.message),
});

function RunSummaries() {
  const runs = useTopic<RunSummary>("runtime.run_summaries");
  const state = useConnectionState();
  return (
    <main>
      <h1>Runs</h1>
      <p className={`state ${state}`} data-testid="state">{state}</p>
      <ul>
        {runs.map((run) => (
          <li key={run.docKey} data-testid="run">
            <strong>{run.docKey}</strong> · {run.payload.status}
            {run.payload.steps === undefined ? "" : ` · ${run.payload.steps} steps`}
            <small> v{run.docVersion}</small>
          </li>
        ))}
      </ul>
    </main>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <SyncProvider client={client}>
      <RunSummaries />
    </SyncProvider>
  </StrictMode>,
);
void client.start();
