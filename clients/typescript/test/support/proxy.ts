import { connect, createServer, type Server, type Socket } from "node:net";

interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  forwarding: boolean;
}

/**
 * A TCP proxy in front of a relay that a test can turn into a black hole: the connections open at that moment stay
 * open but carry nothing more either way, as over a network that died without a close. Later connections are
 * forwarded.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #links = new Set<Link>();
  #accepted = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Listens on a free port of 127.0.0.1 and forwards every connection to `target`'s host and port. */
  static async start(target: string): Promise<TcpProxy> {
    const { hostname, port } = new URL(target);
    const server = createServer();
    const proxy = new TcpProxy(server);
    server.on("connection", (client) => proxy.#forward(client, connect(Number(port), hostname)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  /** The proxy's address, to use as a client's `url`. */
  get url(): string {
    const address = this.#server.address();
    if (typeof address !== "object" || address === null) {
      throw new Error("the proxy is not listening");
    }
    return `http://127.0.0.1:${address.port}`;
  }

  /** The connections accepted so far. */
  get accepted(): number {
    return this.#accepted;
  }

  /** Stops forwarding on every connection open now, and closes none of them. */
  blackHole(): void {
    for (const link of this.#links) {
      link.forwarding = false;
    }
  }

  /** Destroys every connection and stops listening. */
  async close(): Promise<void> {
    for (const link of this.#links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #forward(client: Socket, upstream: Socket): void {
    this.#accepted++;
    const link: Link = { client, upstream, forwarding: true };
    this.#links.add(link);
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      from.on("data", (chunk) => {
        if (link.forwarding) {
          to.write(chunk);
        }
      });
      // A black hole passes no close either: the other side learns nothing, and close() ends it.
      from.on("close", () => {
        if (link.forwarding) {
          to.destroy();
          this.#links.delete(link);
        }
      });
      // A reset or a write after the other side ended; the close that follows is handled above.
      from.on("error", () => undefined);
    }
  }
}
