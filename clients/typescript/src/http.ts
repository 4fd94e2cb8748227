import type { TokenKeeper } from "./tokens.js";

/** A document as `GET /sync/v1/doc` and `/sync/v1/list` return it. */
export interface HydratedDocument {
  readonly docKey: string;
  readonly docVersion: number;
  readonly payload: unknown;
  readonly payloadHash: string | undefined;
}

/** An HTTP hydration request failed; `status` is the HTTP status (0 when no answer came). */
export class HydrationError extends Error {
  override readonly name = "HydrationError";
  readonly status: number;

  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

interface ListPage {
  readonly watermark: number;
  readonly documents: readonly HydratedDocument[];
  readonly next: string | null;
}

/** Documents per list page asked for; the relay caps pages at 500. */
const pageSize = 500;

/**
 * HTTP hydration (WS_MAPPING §5.4, §5.6) with the client's token in `Authorization`. A 401 gets one retry with a
 * fresh token; any other failure throws a {@link HydrationError} naming the request and the relay's answer, and so
 * does a request with no answer within `timeoutMs` (fetch has no deadline of its own in a browser, and a network that
 * died without a close leaves a request waiting for good). A request whose `signal` is aborted (its connection was
 * dropped, or the client stopped) is abandoned, and throws the signal's reason.
 */
export class Hydrator {
  readonly #base: string;
  readonly #tokens: TokenKeeper;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(base: string, tokens: TokenKeeper, fetchImpl: typeof fetch, timeoutMs: number) {
    this.#base = base.replace(/\/+$/, "");
    this.#tokens = tokens;
    this.#fetch = fetchImpl;
    this.#timeoutMs = timeoutMs;
  }

  /** The document, or undefined when the relay answers 404 (deleted since, or not visible to this token). */
  async document(topic: string, docKey: string, signal?: AbortSignal): Promise<HydratedDocument | undefined> {
    const path = `/sync/v1/doc/${encodeURIComponent(docKey)}?topic=${encodeURIComponent(topic)}`;
    return (await this.#get(path, true, signal)) as HydratedDocument | undefined;
  }

  /**
   * Every document of `topic`, page by page, and the first page's watermark: subscribing after it replays every
   * change made while the later pages were read.
   */
  async list(topic: string, signal?: AbortSignal): Promise<{ watermark: number; documents: HydratedDocument[] }> {
    let watermark: number | undefined;
    const documents: HydratedDocument[] = [];
    let after: string | null = "";
    while (after !== null) {
      const path = `/sync/v1/list/${encodeURIComponent(topic)}?limit=${pageSize}&after=${encodeURIComponent(after)}`;
      const page = (await this.#get(path, false, signal)) as ListPage;
      watermark ??= page.watermark;
      documents.push(...page.documents);
      after = page.next;
    }
    return { watermark: watermark ?? 0, documents };
  }

  async #get(path: string, notFoundIsEmpty: boolean, signal: AbortSignal | undefined): Promise<unknown> {
    try {
      let response = await this.#send(path, await this.#tokens.valid(), signal);
      if (response.status === 401) {
        response = await this.#send(path, await this.#tokens.fresh(), signal);
      }
      if (response.status === 404 && notFoundIsEmpty) {
        return undefined;
      }
      if (!response.ok) {
        throw new HydrationError(`GET ${path}: ${response.status} ${await response.text()}`, response.status);
      }
      return await response.json();
    } catch (error) {
      // Abandoned, not failed: whatever the request was at, the caller learns why.
      throw signal?.aborted === true ? signal.reason : error;
    }
  }

  async #send(path: string, token: string, signal: AbortSignal | undefined): Promise<Response> {
    signal?.throwIfAborted();
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    try {
      return await this.#fetch(`${this.#base}${path}`, {
        headers: { Authorization: `Bearer ${token}` },
        signal: signal === undefined ? deadline : AbortSignal.any([signal, deadline]),
      });
    } catch (cause) {
      if (signal?.aborted !== true && deadline.aborted) {
        throw new HydrationError(`GET ${path}: no answer within ${this.#timeoutMs / 1000} s (a network that died?); reconnecting`, 0, { cause });
      }
      // fetch rejects with a TypeError for any network failure, a CORS refusal included, and says no more.
      const hint = cause instanceof TypeError
        ? ` (no answer: is the relay up at ${this.#base}? From a web page, a relay whose Relay:Cors:Origins does not list the page's origin looks the same)`
        : "";
      throw new HydrationError(`GET ${path}: ${(cause as Error).message}${hint}`, 0, { cause });
    }
  }
}
