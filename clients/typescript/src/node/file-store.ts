import { open, readFile, rename } from "node:fs/promises";
import { parseState, type SyncState, type SyncStore } from "../store.js";

/**
 * The state in a JSON file. Every save writes a temporary file beside it, flushes it to disk and renames it over the
 * old one, so a crash leaves either the old state or the new one.
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
}
