import { createContext, useContext, useMemo, useSyncExternalStore, type ReactNode } from "react";
import type { ConnectionState, SyncClient } from "../client.js";
import type { SyncDocument } from "../document.js";
import type { PayloadParser, Topic } from "../topic.js";

const SyncContext = createContext<SyncClient | null>(null);

/** Makes `client` available to {@link useTopic}, {@link useDocument} and {@link useConnectionState} below it. */
export function SyncProvider({ client, children }: { client: SyncClient; children?: ReactNode }): ReactNode {
  return <SyncContext.Provider value={client}>{children}</SyncContext.Provider>;
}

/** The client of the nearest {@link SyncProvider}; throws when there is none. */
export function useSyncClient(): SyncClient {
  const client = useContext(SyncContext);
  if (client === null) {
    throw new Error("useTopic, useDocument and useConnectionState need a <SyncProvider client={…}> above them");
  }
  return client;
}

function useSubscription<T>(topic: string, parse?: PayloadParser<T>): Topic<T> {
  const client = useSyncClient();
  // The parser is read when the topic is first subscribed; a new function on each render does not resubscribe.
  return useMemo(() => client.subscribe<T>(topic, parse), [client, topic]);
}

/** The documents of `topic`, ordered by doc_key, re-rendering on every change. Subscribes on first use. */
export function useTopic<T>(topic: string, parse?: PayloadParser<T>): readonly SyncDocument<T>[] {
  const handle = useSubscription(topic, parse);
  return useSyncExternalStore(handle.listen, handle.documents, handle.documents);
}

/** One document of `topic`, or undefined while it is not held (or after it was deleted). */
export function useDocument<T>(topic: string, docKey: string, parse?: PayloadParser<T>): SyncDocument<T> | undefined {
  const handle = useSubscription(topic, parse);
  const get = () => handle.get(docKey);
  return useSyncExternalStore(handle.listen, get, get);
}

/** The client's connection state. */
export function useConnectionState(): ConnectionState {
  const client = useSyncClient();
  const get = () => client.state;
  return useSyncExternalStore(client.onStateChange, get, get);
}
