// The file store: round trip, directory creation, atomic replacement, clear errors; and the in-memory store.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TableResult } from "../../src/engine/copy/result.js";
import { FileStateStore } from "../../src/state/file-store.js";
import { advanceWatermark } from "../../src/state/watermark.js";
import { emptyState, parseState, StateError, type State } from "../../src/state/state.js";
import { tableKey } from "../../src/state/table-key.js";
import { MemoryStateStore } from "../../src/state/store.js";

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "file-store-"));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function result(source: string, clock: string): TableResult {
  return {
    source,
    destination: source,
    read: 1,
    written: 1,
    skipped: 0,
    failed: 0,
    conflicts: 0,
    transactions: 1,
    durationMs: 5,
    sourceClockAtStart: clock,
    failures: [],
    conflictDetails: [],
    throttled: 0,
    retries: 0,
  };
}

/** A state of roughly `tables` × 150 bytes, distinct per `n`. */
function bigState(tables: number, n: number): State {
  let s = emptyState();
  for (let i = 0; i < tables; i++) {
    // A digest in each name, so that deflating (state/compact.ts) does not make a big state small.
    const name = `table${i}${createHash("sha256").update(String(i)).digest("hex").slice(0, 40)}`;
    const clock = new Date(Date.UTC(2024, 0, 1) + n * 1000).toISOString();
    s = advanceWatermark(s, tableKey({ source: name, destination: name }), result(name, clock), {
      mode: "backfill",
    });
  }
  return s;
}

describe("file state store", () => {
  it("round-trips a state and creates the directory", async () => {
    const path = join(dir, "nested", "deeper", "state.json");
    const store = new FileStateStore(path);
    expect(await store.load()).toBeUndefined();
    const state = bigState(3, 1);
    await store.save(state);
    expect(readFileSync(path, "utf8")).toBe(JSON.stringify(state));
    expect(await new FileStateStore(path).load()).toEqual(state);
    expect(store.describe()).toBe(`the file ${path}`);
  });

  it("resolves a relative path against the working directory once", () => {
    expect(new FileStateStore(".table-sync/state.json").path).toBe(
      join(process.cwd(), ".table-sync/state.json"),
    );
    expect(new FileStateStore().path).toBe(join(process.cwd(), ".table-sync/state.json"));
  });

  it("replaces the file atomically: a reader never sees half a state, and no temporary file is left", async () => {
    const path = join(dir, "state.json");
    const store = new FileStateStore(path);
    await store.save(bigState(200, 0));
    let stop = false;
    let reads = 0;
    const reader = (async () => {
      while (!stop) {
        const text = await readFile(path, "utf8");
        parseState(text, "the file"); // throws on a torn read
        reads++;
      }
    })();
    for (let n = 1; n <= 40; n++) await store.save(bigState(200, n));
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(await store.load()).toEqual(bigState(200, 40));
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });

  it("keeps the old state and leaves no temporary file when a save fails", async () => {
    const path = join(dir, "state.json");
    const store = new FileStateStore(path);
    const state = bigState(2, 1);
    await store.save(state);
    // Too big to store: refused before anything is written.
    await expect(store.save(bigState(4_000, 2))).rejects.toThrow(/more than the 48000 bytes/);
    expect(await store.load()).toEqual(state);
    // The target is a directory: the rename fails, the temporary file is removed.
    const blocked = join(dir, "blocked");
    mkdirSync(join(blocked, "state.json"), { recursive: true });
    const err = await new FileStateStore(join(blocked, "state.json")).save(state).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateError);
    expect((err as Error).message).toMatch(/could not be written \(E[A-Z]+\).*not saved/);
    expect(readdirSync(blocked)).toEqual(["state.json"]);
    expect(readdirSync(dir).sort()).toEqual(["blocked", "state.json"]);
  });

  it("refuses a corrupt or foreign file instead of treating it as empty", async () => {
    const path = join(dir, "state.json");
    writeFileSync(path, '{"format":"azure-table-sync/sta');
    await expect(new FileStateStore(path).load()).rejects.toThrow(
      `The state in the file ${path} is not valid JSON`,
    );
    writeFileSync(path, '{"lastSync":"2024-01-01T00:00:00Z"}');
    await expect(new FileStateStore(path).load()).rejects.toThrow(/is not an azure-table-sync state/);
    writeFileSync(path, "");
    await expect(new FileStateStore(path).load()).rejects.toThrow(StateError);
    // Unreadable (a directory): a clear error, not "no state".
    await expect(new FileStateStore(dir).load()).rejects.toThrow(/could not be read \(EISDIR\)/);
  });
});

describe("memory state store", () => {
  it("validates and serializes like the real stores", async () => {
    const store = new MemoryStateStore();
    expect(await store.load()).toBeUndefined();
    const state = bigState(2, 1);
    await store.save(state);
    const loaded = await store.load();
    expect(loaded).toEqual(state);
    expect(loaded).not.toBe(state);
    expect(store.saved).toHaveLength(1);
    await expect(new MemoryStateStore("{}").load()).rejects.toThrow(/not an azure-table-sync state/);
    expect(await new MemoryStateStore(state).load()).toEqual(state);
  });
});
