// The state as a JSON file (self-hosted runners, the CLI). Writes go to a temporary file in the same directory
// and are renamed over the target, so a reader or a crash never sees half a state.
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { parseState, serializeState, StateError, type State } from "./state.js";
import type { StateStore } from "./store.js";

export const DEFAULT_STATE_FILE = ".table-sync/state.json";

function errorCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err
    ? String((err as { code: unknown }).code)
    : undefined;
}

/** Write `text` to `path` atomically: temp file in the same directory, fsync, rename; creates the directory. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}

export class FileStateStore implements StateStore {
  readonly path: string;

  constructor(path: string = DEFAULT_STATE_FILE) {
    this.path = resolve(path);
  }

  async load(): Promise<State | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if (errorCode(err) === "ENOENT") return undefined;
      throw new StateError(
        `The state file ${this.path} could not be read (${errorCode(err) ?? String(err)}).`,
      );
    }
    return parseState(text, this.describe());
  }

  async save(state: State): Promise<void> {
    const text = serializeState(state);
    try {
      await writeFileAtomic(this.path, text);
    } catch (err) {
      throw new StateError(
        `The state file ${this.path} could not be written (${errorCode(err) ?? String(err)}); ` +
          `the watermarks of this run are not saved.`,
      );
    }
  }

  describe(): string {
    return `the file ${this.path}`;
  }
}
