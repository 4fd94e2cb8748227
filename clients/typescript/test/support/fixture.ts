import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import pg from "pg";
import { afterEach, beforeEach, inject } from "vitest";
import WebSocket from "ws";
import { SyncClient, type SyncClientOptions, type Topic } from "../../src/index.js";
import { FileStore } from "../../src/node/index.js";
import { devKey, type RelayEndpoint } from "./relay.js";

declare module "vitest" {
  export interface ProvidedContext {
    relay: RelayEndpoint;
  }
}

/** The relay the run's globalSetup started. */
export function sharedRelay(): RelayEndpoint {
  return inject("relay");
}

export interface TokenRequest {
  readonly org?: string;
  /** The `sub` claim. Default `ts-test`. */
  readonly subject?: string;
  readonly scopes?: readonly string[];
  /** Seconds from now; negative for an expired token. Default 1 hour. */
  readonly ttl?: number;
  /** The `iat` claim, in seconds from now (negative: issued that long ago). Default now, or a minute before an expired token's exp. */
  readonly issuedAt?: number;
}

/** A JWT signed with the relay's development key: what an application's auth service would hand a client. */
export async function mintToken(relay: RelayEndpoint, request: TokenRequest = {}): Promise<string> {
  const key = devKey(relay.dataDirectory);
  const now = Math.floor(Date.now() / 1000);
  const ttl = request.ttl ?? 3600;
  return new SignJWT({ oa_org_id: request.org ?? "org-1", oa_sync_scopes: request.scopes ?? ["tsclient.*"], oa_claims_version: 1 })
    .setProtectedHeader({ alg: "HS256", kid: key.kid })
    .setSubject(request.subject ?? "ts-test")
    .setJti(randomUUID())
    .setIssuedAt(request.issuedAt !== undefined ? now + request.issuedAt : ttl > 0 ? now : now + ttl - 60)
    .setNotBefore(ttl > 0 ? now : now + ttl - 60)
    .setExpirationTime(now + ttl)
    .sign(key.secret);
}

/** Runs SQL against the relay's embedded PostgreSQL: how the application publishes. */
export async function sql<Row extends pg.QueryResultRow = pg.QueryResultRow>(
  relay: RelayEndpoint, text: string, values: unknown[] = [],
): Promise<Row[]> {
  const client = new pg.Client({ ...relay.database });
  await client.connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A fresh topic of this test's own (org required), under the scope tokens get by default. */
export async function createTopic(relay: RelayEndpoint, name: string): Promise<string> {
  const topic = `tsclient.${name}_${randomUUID().slice(0, 8)}`;
  await sql(relay, "SELECT relay.create_topic($1, 'inline', '7 days', true)", [topic]);
  return topic;
}

export async function publish(relay: RelayEndpoint, topic: string, docKey: string, payload: unknown, org = "org-1"): Promise<void> {
  await sql(relay, "SELECT relay.publish($1, $2, $3::jsonb, $4)", [topic, docKey, JSON.stringify(payload), org]);
}

/** A client on `relay` over `ws`, with tokens minted for `org`; errors are collected for the test to look at. */
export function newClient(relay: RelayEndpoint, options: Partial<SyncClientOptions> & TokenRequest = {}): { client: SyncClient; errors: Error[] } {
  const errors: Error[] = [];
  const client = new SyncClient({
    url: relay.url,
    transport: WebSocket,
    token: () => mintToken(relay, options),
    onError: (error) => errors.push(error),
    ...options,
  });
  return { client, errors };
}

/** Resolves once `condition` holds for `topic`, checked on every change of it; rejects after `timeoutMs`. */
export function until<T>(topic: Topic<T>, condition: (topic: Topic<T>) => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (condition(topic)) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} on ${topic.name}`));
    }, timeoutMs);
    const stop = topic.listen(() => {
      if (condition(topic)) {
        clearTimeout(timer);
        stop();
        resolve();
      }
    });
  });
}

/**
 * Clients of the shared relay over one FileStore per test, in a folder of its own: `store.path` is the file. Every
 * client made is stopped, and the folder removed, after each test.
 */
export function fileStoreClients(prefix: string) {
  const made: SyncClient[] = [];
  const store = { path: "" };
  beforeEach(() => {
    store.path = join(mkdtempSync(join(tmpdir(), prefix)), "sync.json");
  });
  afterEach(async () => {
    await Promise.all(made.splice(0).map((client) => client.stop()));
    rmSync(join(store.path, ".."), { recursive: true, force: true });
  });
  const client = (options: Parameters<typeof newClient>[1]) => {
    const created = newClient(sharedRelay(), { store: new FileStore(store.path), ...options });
    made.push(created.client);
    return created;
  };
  return { store, client };
}
