import { readFileSync } from "node:fs";
import { minVersion, satisfies, subset } from "semver";
import { describe, expect, it } from "vitest";

interface LockEntry {
  readonly dev?: boolean;
  readonly engines?: { readonly node?: string } | readonly string[];
}

const read = <T>(file: string): T => JSON.parse(readFileSync(new URL(`../${file}`, import.meta.url), "utf8")) as T;
const manifest = read<{ engines: { node: string } }>("package.json");
const lock = read<{ packages: Record<string, LockEntry> }>("package-lock.json");

const supported = manifest.engines.node;
const oldest = minVersion(supported);
/** Each package of the lock, runtime or build-and-test, whose engines.node range the given check refuses. */
const refused = (dev: boolean, takes: (range: string) => boolean) =>
  Object.entries(lock.packages).flatMap(([path, entry]) => {
    const node = entry.engines && !Array.isArray(entry.engines) ? (entry.engines as { readonly node?: string }).node : undefined;
    return path !== "" && !!entry.dev === dev && node && !takes(node) ? [`${path} (node ${node})`] : [];
  });

// npm warns (EBADENGINE) on every install whose Node is outside a package's range.
describe("installing on the Nodes the package supports", () => {
  it("the package names the Nodes it supports", () => {
    expect(oldest, `package.json engines.node is "${supported}"`).not.toBeNull();
  });

  it("a user's install: every Node the package promises takes every runtime dependency", () => {
    expect(refused(false, (range) => subset(supported, range))).toEqual([]);
  });

  it("a contributor's npm ci: the oldest Node the package promises takes every build and test tool", () => {
    expect(refused(true, (range) => satisfies(oldest!, range))).toEqual([]);
  });
});
