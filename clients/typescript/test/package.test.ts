import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

interface LockEntry {
  readonly dev?: boolean;
  readonly engines?: { readonly node?: string } | readonly string[];
}

const read = <T>(file: string): T => JSON.parse(readFileSync(new URL(`../${file}`, import.meta.url), "utf8")) as T;
const manifest = read<{ engines: { node: string } }>("package.json");
const lock = read<{ packages: Record<string, LockEntry> }>("package-lock.json");

/** The version of a lower bound such as `>=20.19` or `>= 18.0.0`; null for any other form of range. */
function lowerBound(range: string): number[] | null {
  const match = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(range.trim());
  return match ? [...match[1]!.split(".").map(Number), 0, 0].slice(0, 3) : null;
}

function compare(left: readonly number[], right: readonly number[]): number {
  return left.map((part, i) => part - right[i]!).find((difference) => difference !== 0) ?? 0;
}

const oldest = lowerBound(manifest.engines.node);
const runtime = Object.entries(lock.packages).flatMap(([path, entry]) =>
  path !== "" && !entry.dev && entry.engines && !Array.isArray(entry.engines) && "node" in entry.engines && entry.engines.node
    ? [[path, entry.engines.node] as const]
    : [],
);

describe("installing on the oldest Node the package supports", () => {
  it("the package names its oldest Node as a lower bound", () => {
    expect(oldest, `package.json engines.node is "${manifest.engines.node}"`).not.toBeNull();
  });

  // npm warns (EBADENGINE) on every install whose Node is below a dependency's bound.
  it.each(runtime)("%s (node %s) asks for no newer Node", (path, range) => {
    const bound = lowerBound(range);
    expect(bound, `${path} declares node "${range}": teach this test that form of range`).not.toBeNull();
    expect(compare(bound!, oldest!), `${path} needs node ${range}, the package promises ${manifest.engines.node}`).toBeLessThanOrEqual(0);
  });
});
