import { create, fromJson, toJson, type JsonObject } from "@bufbuild/protobuf";
import { base64Encode } from "@bufbuild/protobuf/wire";
import { RefreshAuthSchema, SubscribeSchema } from "./gen/openagents/sync/v1/client_pb.js";
import { ErrorCode, ErrorSchema } from "./gen/openagents/sync/v1/error_pb.js";
import { HeartbeatSchema, SubscribedSchema, UpdateBatchSchema, type UpdateBatch } from "./gen/openagents/sync/v1/server_pb.js";

/**
 * Reading and writing the payloads of the Phoenix events of channel `sync:v1` (docs/protocol/WS_MAPPING.md §3.3):
 * each is the JSON mapping of the proto message of the same name, read with the generated schemas. The one
 * departure a generic proto3 JSON reader cannot take, the inline `payload` of an update, is taken out first.
 */

/** An `Error` as the relay sends it; `code` is its name, and a code this client does not know reads as `INTERNAL`. */
export interface RelayError {
  readonly code: keyof typeof ErrorCode;
  readonly message: string;
  readonly retryAfterMs: number;
  readonly topic: string | undefined;
}

/** One update of a batch: the generated message's fields as numbers, the payload as sent (inline JSON). */
export interface WireUpdate {
  readonly topic: string;
  readonly docKey: string;
  readonly docVersion: number;
  readonly watermark: number;
  readonly tombstone: boolean;
  readonly payloadOmitted: boolean;
  readonly payloadHash: string | undefined;
  readonly payload: unknown;
}

export interface WireBatch {
  readonly updates: readonly WireUpdate[];
  readonly caughtUpTopics: readonly string[];
  readonly watermarks: Readonly<Record<string, number>>;
}

/** Watermarks of `Subscribed` or `Heartbeat`, and topic epochs when the relay sends them (CONTRACT §3). */
export interface WireWatermarks {
  readonly watermarks: Readonly<Record<string, number>>;
  readonly epochs: Readonly<Record<string, string>>;
}

/** A frame that does not follow the wire mapping. */
export class WireFormatError extends Error {
  override readonly name = "WireFormatError";
}

const read = { ignoreUnknownFields: true } as const;

function asObject(raw: unknown, what: string): JsonObject {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new WireFormatError(`${what}: expected a JSON object, got ${JSON.stringify(raw)}`);
  }
  return raw as JsonObject;
}

function numbers(map: Record<string, bigint>): Record<string, number> {
  return Object.fromEntries(Object.entries(map).map(([topic, value]) => [topic, Number(value)]));
}

/**
 * Topic epochs, if the relay sends them: a map `epochs` of topic to epoch beside the watermarks. Relays that do not
 * send epochs yet leave it out, and the client then stores none.
 */
function epochs(raw: JsonObject): Record<string, string> {
  const value = raw["epochs"];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {};
  }
  return Object.fromEntries(Object.entries(value).flatMap(([topic, epoch]) =>
    typeof epoch === "string" || typeof epoch === "number" ? [[topic, String(epoch)]] : []));
}

export function parseUpdateBatch(raw: unknown): WireBatch {
  const object = asObject(raw, "update_batch");
  const rawUpdates = Array.isArray(object["updates"]) ? object["updates"] : [];
  const payloads = rawUpdates.map((update) => asObject(update, "update")["payload"]);
  const stripped: JsonObject = {
    ...object,
    updates: rawUpdates.map((update) => {
      const { payload: _payload, ...rest } = asObject(update, "update");
      return rest;
    }),
  };
  let batch: UpdateBatch;
  try {
    batch = fromJson(UpdateBatchSchema, stripped, read);
  } catch (cause) {
    throw new WireFormatError(`update_batch: ${(cause as Error).message}`, { cause });
  }
  return {
    updates: batch.updates.map((update, i) => ({
      topic: update.topic,
      docKey: update.docKey,
      docVersion: Number(update.docVersion),
      watermark: Number(update.watermark),
      tombstone: update.tombstone,
      payloadOmitted: update.payloadOmitted,
      payloadHash: update.payloadHash.length > 0 ? base64Encode(update.payloadHash) : undefined,
      payload: payloads[i],
    })),
    caughtUpTopics: batch.caughtUpTopics,
    watermarks: numbers(batch.watermarks),
  };
}

export function parseSubscribed(raw: unknown): WireWatermarks {
  const object = asObject(raw, "subscribed");
  return { watermarks: numbers(fromJson(SubscribedSchema, object, read).currentWatermarks), epochs: epochs(object) };
}

export function parseHeartbeat(raw: unknown): WireWatermarks {
  const object = asObject(raw, "heartbeat");
  return { watermarks: numbers(fromJson(HeartbeatSchema, object, read).watermarks), epochs: epochs(object) };
}

export function parseError(raw: unknown): RelayError {
  const error = fromJson(ErrorSchema, asObject(raw, "error"), read);
  const name = ErrorCode[error.code] as keyof typeof ErrorCode | undefined;
  return {
    code: name === undefined || error.code === ErrorCode.ERROR_CODE_UNSPECIFIED ? "INTERNAL" : name,
    message: error.message,
    retryAfterMs: error.retryAfterMs,
    topic: error.topic.length > 0 ? error.topic : undefined,
  };
}

/**
 * The `subscribe` payload: `topics` and `resumeAfter` from the stored watermarks, plus `resumeEpochs` for the topics
 * whose epoch the client stored (sent only once a relay has given epochs).
 */
export function subscribePayload(
  topics: readonly string[], watermarks: Readonly<Record<string, number>>, storedEpochs: Readonly<Record<string, string>>,
): JsonObject {
  const resumeAfter = Object.fromEntries(topics.map((topic) => [topic, BigInt(watermarks[topic] ?? 0)]));
  const json = toJson(SubscribeSchema, create(SubscribeSchema, { topics: [...topics], resumeAfter })) as JsonObject;
  const resumeEpochs = Object.fromEntries(topics.flatMap((topic) => storedEpochs[topic] === undefined ? [] : [[topic, storedEpochs[topic]]]));
  return Object.keys(resumeEpochs).length > 0 ? { ...json, resumeEpochs } : json;
}

export function refreshAuthPayload(token: string): JsonObject {
  return toJson(RefreshAuthSchema, create(RefreshAuthSchema, { token })) as JsonObject;
}
