import type { TestProject } from "vitest/node";
import { buildRelay, RelayProcess } from "./relay.js";

/** Builds this repository's relay and starts one `relay up` for the run's tests. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  buildRelay();
  const relay = new RelayProcess();
  project.provide("relay", await relay.start());
  return () => relay.dispose();
}
