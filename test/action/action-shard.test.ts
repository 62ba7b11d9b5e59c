// A job matrix: the bundled action run as n concurrent shards (`shard: i/n`) sharing one state file, exactly
// as n runners would share the cache or a repository variable.
import { readFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { rawDifferences, rawEntities } from "../support/sync.js";
import { runAction } from "../support/run-action.js";
import { seedEntities, simpleEntity, uniqueTable } from "../support/tables.js";

const src = () => inject("sourceConnectionString");
const dst = () => inject("destinationConnectionString");

function inputs(mode: string, table: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    mode,
    tables: table,
    "source-connection-string": src(),
    "destination-connection-string": dst(),
    "state-store": "file",
    ...extra,
  };
}

/** Partitions of uneven size: 80 small ones and a few large. */
function seed(n = 3_000) {
  return Array.from({ length: n }, (_, i) => {
    const pk = i < 800 ? `small${String(i % 80).padStart(2, "0")}` : `large${Math.floor(i / 550)}`;
    return simpleEntity(pk, `r${String(i).padStart(5, "0")}`, { i, text: "x".repeat(40) });
  });
}

async function expectExact(table: string): Promise<void> {
  expect(rawDifferences(await rawEntities(src(), table), await rawEntities(dst(), table))).toEqual([]);
}

describe("bundled action as a job matrix", () => {
  it("three shards at once copy every entity exactly once and leave the table's watermark", async () => {
    const t = uniqueTable("mx");
    const all = seed();
    await seedEntities(src(), t, all);
    const workspace = mkdtempSync(join(tmpdir(), "ws-"));
    const runs = await Promise.all(
      [1, 2, 3].map((i) => runAction(inputs("full-sync", t, { shard: `${i}/3` }), { workspace })),
    );
    for (const r of runs) expect(r.code, r.stdout).toBe(0);
    const reads = runs.map((r) => Number(r.outputs["entities-read"]));
    expect(reads.reduce((a, b) => a + b, 0)).toBe(all.length);
    for (const r of reads) expect(r).toBeGreaterThan(all.length / 3 - 550);
    expect(runs[1].stdout).toMatch(
      /Shard 2\/3 of table \w+ reads PartitionKey from '[^']+' up to \(not including\) '/,
    );
    await expectExact(t);
    const state = JSON.parse(readFileSync(join(workspace, ".table-sync", "state.json"), "utf8")) as {
      tables: Record<string, { watermark?: string; shards?: Record<string, { watermark?: string }> }>;
    };
    const entry = state.tables[`${t}→${t}`];
    expect(Object.keys(entry.shards ?? {}).sort()).toEqual(["1/3", "2/3", "3/3"]);
    expect(entry.watermark).toBe(
      Object.values(entry.shards ?? {})
        .map((s) => s.watermark!)
        .sort()[0],
    );
  });

  it("a writer changing the source during the shards: one backfill afterwards makes the destination exact", async () => {
    const t = uniqueTable("mxw");
    await seedEntities(src(), t, seed());
    const workspace = mkdtempSync(join(tmpdir(), "ws-"));
    let writing = true;
    const writer = (async () => {
      for (let n = 0; writing; n++) {
        await seedEntities(src(), t, [
          simpleEntity(`small${String(n % 80).padStart(2, "0")}`, `r${String(n).padStart(5, "0")}`, {
            changed: n,
          }),
          simpleEntity(`new${n % 7}`, `w${n}`, { n }),
        ]);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const runs = await Promise.all(
      [1, 2, 3].map((i) => runAction(inputs("full-sync", t, { shard: `${i}/3` }), { workspace })),
    );
    writing = false;
    await writer;
    for (const r of runs) expect(r.code, r.stdout).toBe(0);
    const back = await runAction(inputs("backfill", t), { workspace });
    expect(back.code, back.stdout).toBe(0);
    await expectExact(t);
  });
});
