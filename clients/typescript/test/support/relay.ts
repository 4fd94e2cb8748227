import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The repository root, from clients/typescript/test/support. */
export const repositoryRoot = resolve(import.meta.dirname, "../../../..");
const relayDll = join(repositoryRoot, "Relay.Host/bin/Debug/net10.0/relay.dll");
const pgCtl = "/usr/lib/postgresql/15/bin/pg_ctl";

/** What a test needs to reach a relay started with `relay up`. */
export interface RelayEndpoint {
  readonly url: string;
  readonly dataDirectory: string;
  readonly database: { host: string; port: number; user: string; database: string };
}

/** Builds Relay.Host once per test run (warnings are errors, as in CI). */
export function buildRelay(): void {
  const build = spawnSync("dotnet", ["build", join(repositoryRoot, "Relay.Host"), "-v", "q", "-nologo"], { encoding: "utf8" });
  if (build.status !== 0) {
    throw new Error(`dotnet build Relay.Host failed:\n${build.stdout}\n${build.stderr}`);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolvePort(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * A real relay: `dotnet relay.dll up` on a data directory of its own (an embedded PostgreSQL cluster under it), which a
 * test can kill and start again on the same directory and port.
 */
export class RelayProcess {
  readonly dataDirectory: string;
  #port = 0;
  #process: ChildProcess | undefined;
  #endpoint: RelayEndpoint | undefined;

  readonly #clockSkew: string;
  readonly #settings: Readonly<Record<string, string>>;

  /**
   * @param clockSkew the relay's `Relay:Auth:ClockSkew`; 0 by default, so that a token's exp is its deadline.
   * @param settings more of the relay's settings, as environment variables (`Relay__Sync__MaxTopicsPerSubscribe`).
   */
  constructor(dataDirectory = mkdtempSync(join(tmpdir(), "khala-ts-")), clockSkew = "00:00:00", settings: Readonly<Record<string, string>> = {}) {
    this.dataDirectory = dataDirectory;
    this.#clockSkew = clockSkew;
    this.#settings = settings;
    // The cluster runs as the postgres user when we are root: it must be able to reach the directory.
    chmodSync(dataDirectory, 0o755);
  }

  get endpoint(): RelayEndpoint {
    if (this.#endpoint === undefined) {
      throw new Error("the relay has not started");
    }
    return this.#endpoint;
  }

  /** Starts `relay up` and resolves once it prints its database and answers /readyz. */
  async start(): Promise<RelayEndpoint> {
    this.#port ||= await freePort();
    const url = `http://127.0.0.1:${this.#port}`;
    const child = spawn("dotnet", [relayDll, "up", "--urls", url], {
      cwd: this.dataDirectory,
      env: {
        ...process.env,
        Relay__DataDirectory: this.dataDirectory,
        // Expiry tests need the token's exp to be the deadline, not exp + 30 s.
        Relay__Auth__ClockSkew: this.#clockSkew,
        // Quiet topics move the client's cursor with heartbeats: keep them frequent.
        Relay__Sync__HeartbeatInterval: "00:00:02",
        ...this.#settings,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#process = child;
    let output = "";
    const database = await new Promise<RelayEndpoint["database"]>((resolveDatabase, reject) => {
      const timer = setTimeout(() => reject(new Error(`relay up printed no database in 120 s:\n${output}`)), 120_000);
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Host=([^;\s]+);Port=(\d+);Username=([^;\s]+);Database=([^;\s]+)/.exec(output);
        if (match !== null) {
          clearTimeout(timer);
          resolveDatabase({ host: match[1] as string, port: Number(match[2]), user: match[3] as string, database: match[4] as string });
        }
      };
      child.stdout?.on("data", read);
      child.stderr?.on("data", read);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`relay up exited with ${code}:\n${output}`));
      });
    });
    await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok === true, 60_000, "the relay to be ready");
    this.#endpoint = { url, dataDirectory: this.dataDirectory, database };
    return this.#endpoint;
  }

  /** Kills the relay process (SIGKILL, as a crash would); its PostgreSQL cluster keeps running. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    const exited = new Promise((resolveExit) => child.once("exit", resolveExit));
    child.kill("SIGKILL");
    await exited;
  }

  /** Stops the relay and its cluster and deletes the data directory. */
  async dispose(): Promise<void> {
    const child = this.#process;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolveExit) => child.once("exit", resolveExit));
      child.kill("SIGTERM");
      await exited;
    }
    // A relay started on a running cluster (after a kill) leaves it running: stop it here.
    const data = join(this.dataDirectory, "postgres/data");
    if (existsSync(join(data, "postmaster.pid"))) {
      const command = [pgCtl, "stop", "-D", data, "-m", "fast", "-w"];
      const asRoot = process.getuid?.() === 0;
      spawnSync(asRoot ? "runuser" : pgCtl, asRoot ? ["-u", "postgres", "--", ...command] : command.slice(1));
    }
    rmSync(this.dataDirectory, { recursive: true, force: true });
  }
}

/** The development key `relay up` signs its tokens with. */
export function devKey(dataDirectory: string): { kid: string; secret: Uint8Array } {
  const file = JSON.parse(readFileSync(join(dataDirectory, "dev-key.json"), "utf8")) as { kid: string; secret: string };
  return { kid: file.kid, secret: Buffer.from(file.secret, "base64") };
}

/** Resolves once `condition` holds, checking every 100 ms; rejects naming `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolveTick) => setTimeout(resolveTick, 100));
  }
}
