import { open, readFile, rename } from "node:fs/promises";
import { resolve } from "node:path";
import { parseState, type SyncState, type SyncStore } from "../store.js";

/** The last update begun on each file by this process: updates of one file run one at a time, whatever its FileStore. */
const updating = new Map<string, Promise<void>>();

/**
 * The state in a JSON file. Every save writes a temporary file beside it, flushes it to disk and renames it over the
 * old one, so a crash leaves either the old state or the new one. Clients of one process may share the file (an
 * update reads, merges and writes it while no other update of it runs); clients of several processes may not: each
 * would undo the others' saves, as nothing locks the file between processes.
 */
export class FileStore implements SyncStore {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  async load(): Promise<SyncState | undefined> {
    let text: string;
    try {
      text = await readFile(this.#path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        return undefined;
      }
      throw error;
    }
    return parseState(text, this.#path);
  }

  async save(state: SyncState): Promise<void> {
    const temporary = `${this.#path}.tmp`;
    const file = await open(temporary, "w");
    try {
      await file.writeFile(JSON.stringify(state));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, this.#path);
  }

  async update(merge: (saved: SyncState | undefined) => SyncState): Promise<void> {
    const file = resolve(this.#path);
    const done = (updating.get(file) ?? Promise.resolve()).then(async () => this.save(merge(await this.load())));
    const settled = done.catch(() => undefined);
    updating.set(file, settled);
    try {
      await done;
    } finally {
      if (updating.get(file) === settled) {
        updating.delete(file);
      }
    }
  }
}
