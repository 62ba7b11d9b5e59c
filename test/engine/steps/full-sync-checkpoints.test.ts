// Checkpoints of a full sync: saved every interval, only past entities already written and never past a
// failed one, kept in the state while the scan runs; a straggling write holds the copy from reading too far
// past the resume point; and the checkpoint-seconds input. Resuming from them is in resume.test.ts.
import { describe, expect, it } from "vitest";
import { runCopy } from "../../../src/engine/steps/full-sync.js";
import { runSync } from "../../../src/engine/copy/run-sync.js";
import { type CheckpointInfo } from "../../../src/engine/copy/run-config.js";
import { tableKey } from "../../../src/state/table-key.js";
import { MemoryStateStore } from "../../../src/state/store.js";
import { syncConfig } from "../../support/sync.js";
import { readAll, seedEntities, uniqueTable } from "../../support/tables.js";
import { BATCH, faults, startFaultProxy } from "../../support/fault-proxy.js";
import { MIN_BEYOND } from "../../../src/engine/copy/checkpoints.js";
import { azuriteToken, deps, dst, entities, expectExact, fullSync, src } from "./resume-fixtures.js";

describe("checkpoints", () => {
  it("are saved every interval, and only past entities already written", async () => {
    const t = uniqueTable("cpEvery");
    await seedEntities(src, t, entities(5_000));
    const seen: { info: CheckpointInfo; landed: number }[] = [];
    const run = await runSync(syncConfig(src, dst, [t], { checkpointIntervalMs: 1 }), {
      onCheckpoint: async (_spec, info) => {
        seen.push({ info, landed: (await readAll(dst, t)).length });
      },
    });
    expect(run.tables[0]).toMatchObject({ read: 5_000, written: 5_000, failed: 0 });
    // Saved in the background while the copy goes on (it never waits for them): each at a page end the
    // copy has written up to, further each time, never the last page (which completes the table).
    expect(seen.length).toBeGreaterThanOrEqual(1);
    const reads = seen.map((s) => s.info.read);
    expect(reads).toEqual([...new Set(reads)].sort((a, b) => a - b));
    for (const s of seen) {
      expect(s.info.read % 1_000).toBe(0);
      expect(s.info.read).toBeGreaterThan(0);
      expect(s.info.read).toBeLessThan(5_000);
      expect(s.landed).toBeGreaterThanOrEqual(s.info.read);
      expect(s.info.written).toBe(s.info.read);
      expect(s.info.sourceClockAtStart).toBe(run.tables[0].sourceClockAtStart);
      // The continuation points at the first entity not yet counted (Azurite encodes the keys in base64).
      const i = s.info.read;
      expect(s.info.continuation).toEqual(
        azuriteToken(`p${String(Math.floor(i / 700)).padStart(3, "0")}`, `r${String(i).padStart(6, "0")}`),
      );
    }
  });

  it("live in the state with the run marker while the scan runs, and go once it completes", async () => {
    const t = uniqueTable("cpStore");
    await seedEntities(src, t, entities(3_000));
    const store = new MemoryStateStore();
    const done = await runCopy(fullSync([t]), deps(store, 1));
    expect(done.ok).toBe(true);
    // Checkpoints were saved during the run, then superseded by the completed scan.
    const states = await Promise.all(store.saved.map((s) => JSON.parse(s) as Record<string, unknown>));
    const withCheckpoint = states.filter((s) => JSON.stringify(s).includes('"checkpoint"'));
    // In the background, at most once per page end the copy had written: after 1 000 and/or 2 000 of 3 000.
    expect(withCheckpoint.length).toBeGreaterThanOrEqual(1);
    expect(withCheckpoint.length).toBeLessThanOrEqual(2);
    expect(withCheckpoint[0]).toHaveProperty("fullSync.done", []);
    const last = (await store.load())!;
    expect(last.fullSync).toBeUndefined();
    expect(last.tables[tableKey({ source: t, destination: t })].checkpoint).toBeUndefined();
    expect(last.tables[tableKey({ source: t, destination: t })].watermark).toBeDefined();
  });

  it("never point past a failed entity", async () => {
    const t = uniqueTable("cpFail");
    // Entity 2 500 (page 3: 2 000 to 2 999) has both the rename's source and target: it cannot be transformed.
    await seedEntities(
      src,
      t,
      entities(5_000, (i): Record<string, string> => (i === 2_500 ? { a: "x", b: "y" } : {})),
    );
    const store = new MemoryStateStore();
    const result = await runCopy(fullSync([t], { "property-renames": "a:b" }), deps(store, 1));
    expect(result.ok).toBe(false);
    expect(result.tables[0].result).toMatchObject({ read: 5_000, failed: 1 });
    const cp = (await store.load())!.tables[tableKey({ source: t, destination: t })].checkpoint;
    expect(cp?.read).toBe(2_000);
    expect(cp?.continuation).toEqual(azuriteToken("p002", "r002000"));
  });
});

describe("a straggler", () => {
  it("holding the resume point stops the copy reading further, so a kill repeats little", async () => {
    // The destination answers one early transaction 3 s late (as Azurite does now and then when many
    // queue). Every entity after it may land meanwhile, but none counts for the resume point: the copy
    // stops handing over more once what waits beyond the point exceeds what lands in the checkpoint
    // interval (at least MIN_BEYOND), and goes on once it lands.
    const t = uniqueTable("cpStraggler");
    await seedEntities(src, t, entities(30_000));
    const proxy = await startFaultProxy({
      target: dst,
      rules: [{ ...BATCH, nth: [5], fault: faults.stall(3_000, "forward") }],
    });
    try {
      const saved: number[] = [];
      const run = await runSync(
        syncConfig(src, proxy.connectionString(), [t], { checkpointIntervalMs: 200, concurrency: "auto" }),
        { onCheckpoint: (_spec, info) => void saved.push(info.read) },
      );
      expect(run.tables[0]).toMatchObject({ read: 30_000, written: 30_000, failed: 0 });
      await expectExact(t);
      const batches = proxy.requests("POST", BATCH.path);
      const stalled = batches.find((b) => b.fault === "stall")!;
      // Sent while it was held (well before it was let through): what the copy handed over beyond it.
      const during = batches.filter((b) => b !== stalled && b.at > stalled.at && b.at < stalled.at + 2_500);
      const entitiesPerTransaction = 100;
      expect(during.length * entitiesPerTransaction).toBeLessThanOrEqual(MIN_BEYOND + 2_000);
      // Without the bound, the whole table went meanwhile (300 transactions in about 1.5 s on Azurite).
      expect(batches.length).toBeGreaterThan(during.length + 200);
      expect(saved.length).toBeGreaterThanOrEqual(2);
    } finally {
      await proxy.stop();
    }
  });
});

describe("checkpoint-seconds", () => {
  it("defaults to 60 and takes whole seconds from 1", () => {
    expect(fullSync(["cpInput"]).checkpointSeconds).toBe(60);
    expect(fullSync(["cpInput"], { "checkpoint-seconds": "5" }).checkpointSeconds).toBe(5);
    for (const bad of ["0", "1.5", "-1", "soon"]) {
      expect(() => fullSync(["cpInput"], { "checkpoint-seconds": bad })).toThrow(
        `Input 'checkpoint-seconds' is '${bad}'; use a whole number from 1 to 86400.`,
      );
    }
  });
});
