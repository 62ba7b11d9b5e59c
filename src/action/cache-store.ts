// The state in the GitHub Actions cache. Cache keys are immutable, so every save makes a new entry
// `<state-key>-<run id>-<attempt>-<stamp><random>-<n>` and a load restores the newest entry under the prefix `<state-key>-`.
//
// @actions/cache treats caching as optional: a failed restore is a warning and a miss, a failed save returns -1.
// For us a lost state means a wrong next run, so this store turns both into errors: it checks the service and the
// runner's cache mode first, and watches what the library logs while it works to tell a miss from a failure.
import { randomBytes } from "node:crypto";
import * as cache from "@actions/cache";
import { readFileSync } from "node:fs";
import { mkdir, rm, readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { writeFileAtomic } from "../state/file-store.js";
import { parseState, serializeState, StateError, type State } from "../state/state.js";
import type { StateStore } from "../state/store.js";

/** The cache directory, relative to the working directory (the workspace on a runner). */
export const CACHE_DIR = ".table-sync-cache";
/** Cache keys may hold 512 characters; the suffix needs about 60. */
const STATE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export interface CacheStateStoreOptions {
  /** The `state-key` input: the key prefix. Letters, digits, `.`, `_`, `-`. */
  stateKey: string;
  /** Where GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT and ACTIONS_CACHE_MODE are read; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The one path cached, relative so the cache version (a hash of the path list) is the same on every runner.
 * It includes the state key: entries of another key that merely shares the prefix (`table-sync` vs
 * `table-sync-prod`) then have another version and are never restored in its place.
 */
export function cachePathFor(stateKey: string): string {
  return `${CACHE_DIR}/${stateKey}/state.json`;
}

export function validateStateKey(stateKey: string): void {
  if (!STATE_KEY.test(stateKey)) {
    throw new StateError(
      `Input 'state-key' is '${stateKey}'; for the cache store use 1–200 letters, digits, '.', '_' or '-', ` +
        `starting with a letter or digit (e.g. 'table-sync').`,
    );
  }
}

const NOT_AVAILABLE =
  "The GitHub Actions cache service is not available to this step (ACTIONS_RESULTS_URL / ACTIONS_CACHE_URL are " +
  "not set), so the state cannot be kept in the cache; run inside a GitHub Actions job, or use " +
  "state-store 'variable' (GHES without the cache service) or 'file' (self-hosted runners, the CLI).";

export class CacheStateStore implements StateStore {
  readonly stateKey: string;
  /** The cached file, relative to the working directory; identical on save and restore. */
  readonly relativePath: string;
  /** The entry the last `load` restored. */
  restoredKey: string | undefined;
  /** The keys this store saved, oldest first. */
  readonly savedKeys: string[] = [];
  private readonly env: NodeJS.ProcessEnv;
  // The jobs of a matrix share the run id and attempt (and may start in the same millisecond): a random part
  // keeps their entries apart, since a key that exists already cannot be saved again.
  private readonly stamp = `${Date.now()}${randomBytes(3).toString("hex")}`;
  private counter = 0;

  constructor(options: CacheStateStoreOptions) {
    validateStateKey(options.stateKey);
    this.stateKey = options.stateKey;
    this.env = options.env ?? process.env;
    this.relativePath = cachePathFor(options.stateKey);
  }

  /** The restore prefix, `<state-key>-`. */
  get prefix(): string {
    return `${this.stateKey}-`;
  }

  /** The absolute path of the cached file: @actions/glob roots relative paths at the working directory. */
  get filePath(): string {
    return resolve(this.relativePath);
  }

  describe(): string {
    return `the Actions cache (keys '${this.prefix}*')`;
  }

  async load(): Promise<State | undefined> {
    this.checkAvailable("read");
    // A file left by an earlier step must not pass for a restored one.
    await rm(this.filePath, { force: true });
    const { value: key, messages } = await watchLog(() =>
      cache.restoreCache([this.relativePath], this.prefix, [this.prefix]),
    );
    // restoreCache logs any failure as "Failed to restore: …" and reports a miss; a real miss logs no such line.
    const failure = messages.find((m) => m.startsWith("Failed to restore"));
    if (failure) {
      throw new StateError(
        `Restoring the state from ${this.describe()} failed: ${failure.replace(/^Failed to restore: /, "")}. Without it this run cannot know the ` +
          `watermarks; re-run the job once the cache service answers.`,
      );
    }
    this.restoredKey = key;
    if (key === undefined) return undefined;
    let text: string;
    try {
      text = await readFile(this.filePath, "utf8");
    } catch {
      throw new StateError(
        `The cache entry '${key}' was restored but holds no ${this.relativePath}; delete the entry ` +
          `(repository → Actions → Caches) or use another state-key.`,
      );
    }
    return parseState(text, `the cache entry '${key}'`);
  }

  async save(state: State): Promise<void> {
    const text = serializeState(state);
    this.checkAvailable("write");
    const key = this.nextKey();
    await mkdir(dirname(this.filePath), { recursive: true });
    // Keep the directory out of `git add -A` in later steps.
    await writeFile(resolve(CACHE_DIR, ".gitignore"), "*\n").catch(() => undefined);
    await writeFileAtomic(this.filePath, text);
    let id: number;
    let messages: string[];
    try {
      ({ value: id, messages } = await watchLog(() => cache.saveCache([this.relativePath], key)));
    } catch (err) {
      throw this.saveError(key, (err as Error).message ?? String(err));
    }
    if (typeof id !== "number" || id === -1) {
      throw this.saveError(key, pickReason(messages) ?? "the cache service did not accept the entry");
    }
    this.savedKeys.push(key);
  }

  private nextKey(): string {
    const runId = this.env.GITHUB_RUN_ID;
    if (!runId)
      throw new StateError(`GITHUB_RUN_ID is not set, so ${this.describe()} cannot name a new entry.`);
    const attempt = this.env.GITHUB_RUN_ATTEMPT || "1";
    // Unique per save: several saves per run (one per table) and several steps per job.
    return `${this.stateKey}-${runId}-${attempt}-${this.stamp}-${this.counter++}`;
  }

  private saveError(key: string, reason: string): StateError {
    return new StateError(
      `Saving the state to ${this.describe()} under '${key}' failed: ${reason}. The watermarks of this run are ` +
        `not stored, so the next run would start from older ones; fix the cause (cache service, cache quota, ` +
        `read-only cache for this event) or use state-store 'variable'.`,
    );
  }

  private checkAvailable(access: "read" | "write"): void {
    if (!cache.isFeatureAvailable()) throw new StateError(NOT_AVAILABLE);
    const mode = (this.env.ACTIONS_CACHE_MODE ?? "").trim().toLowerCase();
    const denied = access === "read" ? ["none", "write-only"] : ["none", "read"];
    if (denied.includes(mode)) {
      throw new StateError(
        `The runner's cache mode for this run is '${mode}', which does not allow the state to be ${
          access === "read" ? "read from" : "written to"
        } the Actions cache (runs from untrusted events get a restricted cache); use state-store 'variable'.`,
      );
    }
  }
}

/** Known reasons @actions/cache logs on a failed save, most specific first. */
function pickReason(messages: string[]): string | undefined {
  const patterns = [
    /^Failed to reserve cache: /,
    /^Cache reservation failed: /,
    /^uploadCacheArchiveSDK: /,
    /^Failed to save: /,
  ];
  for (const p of patterns) {
    const m = messages.find((msg) => p.test(msg));
    if (m) return m.replace(/^Failed to reserve cache: (Error: )?/, "");
  }
  return messages.find((m) => !/^Cache Size|^Sent \d/.test(m));
}

/**
 * Run `fn` while noting the lines @actions/core prints (`::warning::…`, `::error::…`, `::debug::…`, plain
 * info), decoded and without the command prefix. Output still reaches stdout as usual.
 */
async function watchLog<T>(fn: () => Promise<T>): Promise<{ value: T; messages: string[] }> {
  const stdout = process.stdout;
  const original = stdout.write;
  let text = "";
  stdout.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if (typeof chunk === "string") text += chunk;
    else if (chunk instanceof Uint8Array) text += Buffer.from(chunk).toString("utf8");
    return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof stdout.write;
  try {
    const value = await fn();
    return { value, messages: parseLog(text) };
  } finally {
    stdout.write = original;
  }
}

function parseLog(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter(Boolean)
    .map((line) => {
      const m = /^::(warning|error|debug|notice)[^:]*::(.*)$/.exec(line);
      const body = m ? m[2] : line;
      return body.replace(/%0D/g, "\r").replace(/%0A/g, " ").replace(/%25/g, "%").trim();
    });
}

/**
 * A warning when this run's cache scope is not the default branch's: entries saved here are visible only to
 * runs on this ref, not to the scheduled backfills on the default branch (they read the default branch's
 * scope). Undefined when the ref is the default branch or the default branch cannot be told.
 */
export function defaultBranchWarning(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const ref = env.GITHUB_REF;
  const eventPath = env.GITHUB_EVENT_PATH;
  if (!ref || !eventPath) return undefined;
  let defaultBranch: unknown;
  try {
    const event = JSON.parse(readFileSync(eventPath, "utf8")) as {
      repository?: { default_branch?: unknown };
    };
    defaultBranch = event.repository?.default_branch;
  } catch {
    return undefined;
  }
  if (typeof defaultBranch !== "string" || !defaultBranch) return undefined;
  if (ref === `refs/heads/${defaultBranch}`) return undefined;
  return (
    `This run is on ${ref}, not the default branch '${defaultBranch}': the state it saves to the Actions cache ` +
    `is scoped to ${ref} and the scheduled backfills (which run on '${defaultBranch}') will not see it. ` +
    `Run full-sync from '${defaultBranch}', or use state-store 'variable'.`
  );
}
