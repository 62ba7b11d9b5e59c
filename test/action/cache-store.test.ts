// The cache store with the real @actions/cache 6 (tar, zstd, Twirp client, Azure blob SDK) against a local fake
// of the cache service. The working directory and GITHUB_WORKSPACE are a temporary workspace, as on a runner.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CacheStateStore, cachePathFor, defaultBranchWarning } from "../../src/action/cache-store.js";
import { advanceWatermark } from "../../src/state/watermark.js";
import { emptyState, StateError, type State } from "../../src/state/state.js";
import { tableKey } from "../../src/state/table-key.js";
import type { TableResult } from "../../src/engine/copy/result.js";
import { FakeCacheService } from "../support/fake-cache-service.js";
import { freePort } from "../support/azurite.js";

const ENV_KEYS = [
  "ACTIONS_RESULTS_URL",
  "ACTIONS_RUNTIME_TOKEN",
  "ACTIONS_CACHE_SERVICE_V2",
  "ACTIONS_CACHE_URL",
  "ACTIONS_CACHE_MODE",
  "GITHUB_WORKSPACE",
  "GITHUB_SERVER_URL",
  "GITHUB_RUN_ID",
  "GITHUB_RUN_ATTEMPT",
  "RUNNER_TEMP",
];

let fake: FakeCacheService;
let workspace: string;
let runnerTemp: string;
const savedEnv: Record<string, string | undefined> = {};
const originalCwd = process.cwd();

function result(source: string, clock: string, extra: Partial<TableResult> = {}): TableResult {
  return {
    source,
    destination: source,
    read: 3,
    written: 3,
    skipped: 0,
    failed: 0,
    conflicts: 0,
    transactions: 1,
    durationMs: 1000,
    sourceClockAtStart: clock,
    failures: [],
    conflictDetails: [],
    throttled: 0,
    retries: 0,
    ...extra,
  };
}

function stateWith(table: string, clock: string, base: State = emptyState()): State {
  return advanceWatermark(base, tableKey({ source: table, destination: table }), result(table, clock), {
    mode: "full-sync",
  });
}

function run(id: string, attempt = "1"): void {
  process.env.GITHUB_RUN_ID = id;
  process.env.GITHUB_RUN_ATTEMPT = attempt;
}

// @actions/core prints every debug line; keep the test log to what a runner shows by default.
const realWrite = process.stdout.write;

beforeAll(async () => {
  process.stdout.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if (typeof chunk === "string") chunk = chunk.replace(/^::(debug|add-mask)::.*\r?\n/gm, "");
    if (chunk === "") return true;
    return (realWrite as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof process.stdout.write;
  for (const k of ENV_KEYS) savedEnv[k] = process.env[k];
  fake = await FakeCacheService.start();
});

afterAll(async () => {
  process.stdout.write = realWrite;
  await fake.stop();
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

beforeEach(() => {
  workspace = mkdtempSync(join(tmpdir(), "cache-ws-"));
  runnerTemp = mkdtempSync(join(tmpdir(), "cache-tmp-"));
  for (const k of ENV_KEYS) delete process.env[k];
  Object.assign(process.env, fake.env(), { GITHUB_WORKSPACE: workspace, RUNNER_TEMP: runnerTemp });
  run("1000");
  process.chdir(workspace);
  fake.faults = {};
  fake.entries.length = 0;
});

afterEach(() => {
  process.chdir(originalCwd);
  rmSync(workspace, { recursive: true, force: true });
  rmSync(runnerTemp, { recursive: true, force: true });
});

/** A new job: the workspace starts empty, as on a fresh runner. */
function newJob(id: string): void {
  rmSync(join(workspace, ".table-sync-cache"), { recursive: true, force: true });
  run(id);
}

describe("cache state store", () => {
  it("saves under <state-key>-<run id>-<attempt>-… and a later run restores it", async () => {
    const store = new CacheStateStore({ stateKey: "table-sync" });
    expect(await store.load()).toBeUndefined();
    const state = stateWith("orders", "2024-05-01T12:00:00.000Z");
    await store.save(state);

    expect(store.savedKeys).toHaveLength(1);
    expect(store.savedKeys[0]).toMatch(/^table-sync-1000-1-\d+[0-9a-f]{6}-0$/);
    expect(fake.finalizedKeys()).toEqual(store.savedKeys);
    // The blob went through the Azure SDK's single-shot upload, the download through a plain GET.
    expect(fake.requests.some((r) => r.method === "PUT" && r.path.startsWith("/blob/"))).toBe(true);
    expect(readFileSync(join(workspace, cachePathFor("table-sync")), "utf8")).toBe(JSON.stringify(state));

    newJob("1001");
    const next = new CacheStateStore({ stateKey: "table-sync" });
    expect(await next.load()).toEqual(state);
    expect(next.restoredKey).toBe(store.savedKeys[0]);
    expect(fake.requests.some((r) => r.method === "GET" && r.path.startsWith("/blob/"))).toBe(true);
  });

  it("gives every save in a run its own key and restores the newest entry by prefix", async () => {
    const store = new CacheStateStore({ stateKey: "table-sync" });
    const first = stateWith("orders", "2024-05-01T12:00:00.000Z");
    const second = stateWith("users", "2024-05-01T12:00:05.000Z", first);
    await store.save(first);
    await store.save(second);
    expect(new Set(store.savedKeys).size).toBe(2);

    // Another step of the same job (a second store in the same run) must not collide either.
    const otherStep = new CacheStateStore({ stateKey: "table-sync" });
    await new Promise((r) => setTimeout(r, 5));
    const third = stateWith("items", "2024-05-01T12:00:09.000Z", second);
    await otherStep.save(third);

    // Keys sharing the prefix but belonging to another state key are never restored in its place.
    await new CacheStateStore({ stateKey: "table-sync-prod" }).save(
      stateWith("other", "2024-06-01T00:00:00.000Z"),
    );

    newJob("1002");
    const next = new CacheStateStore({ stateKey: "table-sync" });
    expect(await next.load()).toEqual(third);
    expect(next.restoredKey).toBe(otherStep.savedKeys[0]);
  });

  it("jobs of one matrix (same run, same attempt, same moment) save under different keys", async () => {
    const a = new CacheStateStore({ stateKey: "table-sync" });
    const b = new CacheStateStore({ stateKey: "table-sync" });
    await a.save(stateWith("orders", "2024-05-01T12:00:00.000Z"));
    await b.save(stateWith("orders", "2024-05-01T12:00:00.000Z"));
    expect(a.savedKeys[0]).not.toBe(b.savedKeys[0]);
    expect(fake.finalizedKeys()).toEqual([...a.savedKeys, ...b.savedKeys]);
  });

  it("fails clearly when saveCache returns -1 (entry refused or already exists)", async () => {
    const store = new CacheStateStore({ stateKey: "table-sync" });
    fake.faults.create = "conflict";
    const err = await store.save(stateWith("orders", "2024-05-01T12:00:00.000Z")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateError);
    expect((err as Error).message).toMatch(
      /^Saving the state to the Actions cache .* under 'table-sync-1000-1-\d+[0-9a-f]{6}-0' failed: /,
    );
    expect((err as Error).message).toMatch(/already exists/);
    expect((err as Error).message).toMatch(/next run would start from older ones/);

    fake.faults = { create: "not-ok" };
    await expect(store.save(stateWith("orders", "2024-05-01T12:00:00.000Z"))).rejects.toThrow(
      /cache entry refused/,
    );

    fake.faults = { upload: "forbidden" };
    await expect(store.save(stateWith("orders", "2024-05-01T12:00:00.000Z"))).rejects.toThrow(StateError);

    fake.faults = { finalize: "not-ok" };
    await expect(store.save(stateWith("orders", "2024-05-01T12:00:00.000Z"))).rejects.toThrow(StateError);
    expect(fake.finalizedKeys()).toEqual([]);
  });

  it("fails clearly when the service is down, on load and on save", async () => {
    const port = await freePort();
    process.env.ACTIONS_RESULTS_URL = `http://127.0.0.1:${port}/`;
    const store = new CacheStateStore({ stateKey: "table-sync" });
    await expect(store.load()).rejects.toThrow(
      /^Restoring the state from the Actions cache .* failed: Failed to GetCacheEntryDownloadURL: .*ECONNREFUSED/s,
    );
    const err = await store.save(stateWith("orders", "2024-05-01T12:00:00.000Z")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateError);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it("fails clearly on a lookup error instead of treating it as no state", async () => {
    const store = new CacheStateStore({ stateKey: "table-sync" });
    await store.save(stateWith("orders", "2024-05-01T12:00:00.000Z"));
    newJob("1003");
    fake.faults.lookup = "error";
    await expect(new CacheStateStore({ stateKey: "table-sync" }).load()).rejects.toThrow(
      /Restoring the state .* failed: Failed to GetCacheEntryDownloadURL: .*lookup failed/,
    );
  });

  it("fails clearly without the cache service or with a restricted cache mode", async () => {
    delete process.env.ACTIONS_RESULTS_URL;
    const store = new CacheStateStore({ stateKey: "table-sync" });
    await expect(store.load()).rejects.toThrow(/cache service is not available.*state-store 'variable'/);
    await expect(store.save(emptyState())).rejects.toThrow(/cache service is not available/);

    Object.assign(process.env, fake.env(), { ACTIONS_CACHE_MODE: "read" });
    await expect(store.save(emptyState())).rejects.toThrow(/cache mode for this run is 'read'/);
    expect(fake.entries).toEqual([]);
  });

  it("refuses a corrupt or foreign cached state", async () => {
    const store = new CacheStateStore({ stateKey: "table-sync" });
    await store.save(emptyState());
    // A foreign cache entry under our key and path (someone else's workflow): restored, then refused.
    writeFileSync(join(workspace, cachePathFor("table-sync")), '{"hello":"world"}');
    const { saveCache } = await import("@actions/cache");
    expect(await saveCache([cachePathFor("table-sync")], "table-sync-9999-1-0")).toBeGreaterThan(0);
    newJob("1004");
    await expect(new CacheStateStore({ stateKey: "table-sync" }).load()).rejects.toThrow(
      /the cache entry 'table-sync-9999-1-0' is not an azure-table-sync state/,
    );
  });

  it("validates the state key", () => {
    expect(() => new CacheStateStore({ stateKey: "a,b" })).toThrow(/Input 'state-key' is 'a,b'/);
    expect(() => new CacheStateStore({ stateKey: "" })).toThrow(StateError);
  });
});

describe("defaultBranchWarning", () => {
  it("warns when the ref is not the default branch, from the event payload", () => {
    const dir = mkdtempSync(join(tmpdir(), "event-"));
    const eventPath = join(dir, "event.json");
    writeFileSync(eventPath, JSON.stringify({ repository: { default_branch: "main" } }));
    try {
      expect(
        defaultBranchWarning({ GITHUB_REF: "refs/heads/main", GITHUB_EVENT_PATH: eventPath }),
      ).toBeUndefined();
      const text = defaultBranchWarning({ GITHUB_REF: "refs/heads/feature", GITHUB_EVENT_PATH: eventPath });
      expect(text).toMatch(/refs\/heads\/feature, not the default branch 'main'/);
      expect(defaultBranchWarning({ GITHUB_REF: "refs/pull/7/merge", GITHUB_EVENT_PATH: eventPath })).toMatch(
        /scheduled backfills/,
      );
      // Unknown default branch (no payload, no repository): no guess.
      expect(defaultBranchWarning({ GITHUB_REF: "refs/heads/feature" })).toBeUndefined();
      writeFileSync(eventPath, "{}");
      expect(
        defaultBranchWarning({ GITHUB_REF: "refs/heads/feature", GITHUB_EVENT_PATH: eventPath }),
      ).toBeUndefined();
      expect(existsSync(eventPath)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
