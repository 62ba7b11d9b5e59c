// verify with repair, through runVerify and a state store: after a switch it keeps the app's writes as a
// post-switch backfill does (and remembers its own writes), and it never calls tables in sync that
// still differ.
import { describe, expect, inject, it } from "vitest";
import { runCopy } from "../../../src/engine/steps/full-sync.js";
import { runSwitch } from "../../../src/engine/steps/switch.js";
import { runVerify } from "../../../src/engine/steps/verify.js";
import { MemoryStateStore } from "../../../src/state/store.js";
import { tableKey } from "../../../src/state/table-key.js";
import { stepConfig as config, stepDeps as deps } from "../../support/sync.js";
import { byKey, readAll, seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");

const v = (e: { properties: Map<string, { value: unknown }> } | undefined) => e?.properties.get("v")?.value;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Full sync and switch; the app then writes `x` on the destination, and the source changes `x` and gains `y`. */
async function switchedWithDrift(t: string, store: MemoryStateStore): Promise<void> {
  await seedEntities(src, t, [simpleEntity("p", "x", { v: "v1" }), simpleEntity("p", "z", { v: "v1" })]);
  expect((await runCopy(config("full-sync", t), deps(store))).ok).toBe(true);
  const sw = await runSwitch(config("switch", t), deps(store));
  expect(sw.ok, sw.failure).toBe(true);
  await sleep(1_100); // the app's write lands in a later second than the switch
  await seedEntities(dst, t, [simpleEntity("p", "x", { v: "app" })]);
  await seedEntities(src, t, [
    simpleEntity("p", "x", { v: "straggler" }),
    simpleEntity("p", "y", { v: "v1" }),
  ]);
}

describe("verify with repair after a switch", () => {
  it("keeps the app's write as a conflict, copies the rest, and the next backfill knows repair's writes", async () => {
    const t = uniqueTable("vrSwitch");
    const store = new MemoryStateStore();
    await switchedWithDrift(t, store);

    const verified = await runVerify(config("verify", t, { repair: "true" }), deps(store));
    const r = verified.verify[0];
    expect(r).toMatchObject({ missing: 1, different: 1 });
    expect(r.repair).toMatchObject({ copied: 1, conflicts: 1, failed: 0 });
    expect(r.repair?.conflictDetails[0]).toMatchObject({ partitionKey: "p", rowKey: "x" });
    expect(verified.repaired).toBe(false);
    expect(verified.ok).toBe(false);
    expect(verified.failure).toBe(
      "Repair copied 1 entity and deleted 0, but the tables still differ: 1 entity changed by the app after the switch, kept (conflict: skip).",
    );
    let d = byKey(await readAll(dst, t));
    expect(v(d.get("p\u0000x"))).toBe("app");
    expect(v(d.get("p\u0000y"))).toBe("v1");
    const key = tableKey({ source: t, destination: t });
    expect((await store.load())!.tables[key].postSwitchWrites).toHaveLength(1);

    // The source changes y again: the post-switch backfill writes it, since repair's write of y was ours.
    await sleep(1_100);
    await seedEntities(src, t, [simpleEntity("p", "y", { v: "v2" })]);
    const back = await runCopy(config("backfill", t), deps(store));
    expect(back.ok, back.failure).toBe(true);
    expect(back.tables[0].result).toMatchObject({ conflicts: 1, failed: 0 }); // x, still the app's
    d = byKey(await readAll(dst, t));
    expect(v(d.get("p\u0000y"))).toBe("v2");
    expect(v(d.get("p\u0000x"))).toBe("app");
  });

  it("with conflict: source-wins, overwrites the app's write", async () => {
    const t = uniqueTable("vrWins");
    const store = new MemoryStateStore();
    await switchedWithDrift(t, store);
    const verified = await runVerify(
      config("verify", t, { repair: "true", conflict: "source-wins" }),
      deps(store),
    );
    expect(verified.ok, verified.failure).toBe(true);
    expect(verified.repaired).toBe(true);
    expect(verified.verify[0].repair).toMatchObject({ copied: 2, conflicts: 0 });
    expect(v(byKey(await readAll(dst, t)).get("p\u0000x"))).toBe("straggler");
  });
});

describe("verify with repair before a switch", () => {
  it("does not call the tables in sync while entities only the destination holds remain", async () => {
    const t = uniqueTable("vrExtra");
    const store = new MemoryStateStore();
    await seedEntities(src, t, [simpleEntity("p", "a", { v: "1" }), simpleEntity("p", "b", { v: "1" })]);
    await seedEntities(dst, t, [simpleEntity("p", "a", { v: "1" }), simpleEntity("p", "gone", { v: "1" })]);
    const verified = await runVerify(config("verify", t, { repair: "true" }), deps(store));
    expect(verified.verify[0]).toMatchObject({ missing: 1, extra: 1 });
    expect(verified.verify[0].repair).toMatchObject({ copied: 1, deleted: 0 });
    expect(verified.repaired).toBe(false);
    expect(verified.ok).toBe(false);
    expect(verified.failure).toBe(
      "Repair copied 1 entity and deleted 0, but the tables still differ: 1 entity only on the destination (add 'delete-extra: true' to remove them).",
    );
    const again = await runVerify(
      config("verify", t, { repair: "true", "delete-extra": "true" }),
      deps(store),
    );
    expect(again.ok, again.failure).toBe(true);
    expect(again.repaired).toBe(true);
    expect(again.verify[0].repair).toMatchObject({ deleted: 1 });
  });
});

describe("switch", () => {
  it("reports the final backfill's progress", async () => {
    const t = uniqueTable("swProg");
    const store = new MemoryStateStore();
    await seedEntities(src, t, [simpleEntity("p", "a", { v: "1" })]);
    expect((await runCopy(config("full-sync", t), deps(store))).ok).toBe(true);
    await seedEntities(src, t, [simpleEntity("p", "b", { v: "1" })]);
    const progress: string[] = [];
    const sw = await runSwitch(config("switch", t), deps(store), { onProgress: (p) => progress.push(p) });
    expect(sw.ok, sw.failure).toBe(true);
    expect(progress).toContain(`${t}: final backfill, 2 read, 2 written`);
  });

  it("says why the final backfill failed, not only that it did", async () => {
    const t = uniqueTable("swWhy");
    await seedEntities(src, t, [simpleEntity("p", "a", { v: "1" })]);
    const sw = await runSwitch(config("switch", t), deps(new MemoryStateStore()));
    expect(sw.ok).toBe(false);
    expect(sw.failure).toMatch(
      new RegExp(
        `^Not ready to switch: the final backfill failed \\(.*\\): table ${t}: No watermark is stored for table '${t.toLowerCase()}'`,
      ),
    );
  });
});
