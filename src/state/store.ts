// Where the state lives between runs. The engine's callers get a store handed in, so every store is tested on
// its own and the rest runs with the in-memory one.
import { parseState, serializeState, type State } from "./state.js";

export interface StateStore {
  /** The stored state, or undefined when none was ever saved. A corrupt or foreign state throws. */
  load(): Promise<State | undefined>;
  /** Store the whole state; throws when it could not be stored (the next run would start from old watermarks). */
  save(state: State): Promise<void>;
  /** Where the state lives, for logs and errors ("the file .table-sync/state.json"). */
  describe(): string;
}

/** Keeps the serialized state in memory: the same validation and size limit as the real stores. */
export class MemoryStateStore implements StateStore {
  /** Every serialized state saved, oldest first. */
  readonly saved: string[] = [];

  constructor(initial?: State | string) {
    if (initial !== undefined)
      this.saved.push(typeof initial === "string" ? initial : serializeState(initial));
  }

  async load(): Promise<State | undefined> {
    const last = this.saved.at(-1);
    return last === undefined ? undefined : parseState(last, this.describe());
  }

  async save(state: State): Promise<void> {
    this.saved.push(serializeState(state));
  }

  describe(): string {
    return "memory";
  }
}
