import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalJson, payloadHash } from "../src/index.js";
import { parseUpdateBatch } from "../src/wire.js";
import { hashMatches } from "../src/hash.js";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { repositoryRoot } from "./support/relay.js";

interface Case {
  readonly name: string;
  readonly json: string;
  readonly canonical: string;
  readonly sha256: string;
}

const fixtures = join(repositoryRoot, "fixtures");
const cases = JSON.parse(readFileSync(join(fixtures, "jcs/cases.json"), "utf8")) as Case[];
const invalid = JSON.parse(readFileSync(join(fixtures, "jcs/invalid.json"), "utf8")) as Omit<Case, "canonical" | "sha256">[];

describe("payload_hash: RFC 8785 + SHA-256 against the shared fixtures", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const value: unknown = JSON.parse(c.json);

    expect(canonicalJson(value)).toBe(c.canonical);
    expect(Buffer.from(await payloadHash(value)).toString("hex")).toBe(c.sha256);
  });

  it.each(invalid.map((c) => [c.name, c] as const))("refuses %s", (_name, c) => {
    expect(() => canonicalJson(JSON.parse(c.json))).toThrow();
  });

  it("verifies the golden replay frame, whose payload holds an integer above 2^53", async () => {
    const frame = JSON.parse(readFileSync(join(fixtures, "protocol/server/update-batch-replay.phoenix.json"), "utf8")) as unknown[];
    const [update] = parseUpdateBatch(frame[4]).updates;

    expect(update?.payload).toEqual({ steps: 3, run_id: "run_01", status: "running", cost_micros: 155627012252807600 });
    expect(await hashMatches(update?.payload, base64Decode(update?.payloadHash ?? ""))).toBe(true);
    expect(await hashMatches({ ...(update?.payload as object), steps: 4 }, base64Decode(update?.payloadHash ?? ""))).toBe(false);
  });
});
