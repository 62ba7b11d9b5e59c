// replace (upsert-replace), merge (upsert-merge) and insert (existing entities left alone, skipped).
import { describe, expect, inject, it } from "vitest";
import type { WireEntity } from "../../../src/engine/wire/edm.js";
import { runSync } from "../../../src/engine/copy/run-sync.js";
import type { WriteMode } from "../../../src/engine/copy/write-rules.js";
import { key, syncConfig } from "../../support/sync.js";
import { byKey, readAll, seedEntities, simpleEntity, uniqueTable } from "../../support/tables.js";

const src = inject("sourceConnectionString");
const dst = inject("destinationConnectionString");

const rk = (i: number) => `r${String(i).padStart(3, "0")}`;

/** 150 source entities over two partitions; every 4th already exists on the destination, differently. */
function fixture(): { source: WireEntity[]; existing: WireEntity[] } {
  const source: WireEntity[] = [];
  const existing: WireEntity[] = [];
  for (let i = 0; i < 150; i++) {
    const pk = i < 120 ? "p" : "q";
    source.push(simpleEntity(pk, rk(i), { name: `new${i}`, n: i, ratio: 0.5 }));
    if (i % 4 === 0) existing.push(simpleEntity(pk, rk(i), { name: `old${i}`, extra: `keep${i}` }));
  }
  return { source, existing };
}

async function run(mode: WriteMode) {
  const table = uniqueTable(`mode${mode}`);
  const { source, existing } = fixture();
  await seedEntities(src, table, source);
  await seedEntities(dst, table, existing);
  const result = await runSync(syncConfig(src, dst, [table], { writeMode: mode }));
  return { result: result.tables[0], dest: byKey(await readAll(dst, table)), source, existing };
}

describe("write modes", () => {
  it("replace: the destination entity becomes the source entity (extra properties removed)", async () => {
    const { result, dest, source } = await run("replace");
    expect(result).toMatchObject({ read: 150, written: 150, skipped: 0, failed: 0 });
    expect(dest.size).toBe(150);
    for (const e of source) {
      expect(Object.fromEntries(dest.get(key(e.partitionKey, e.rowKey))!.properties)).toEqual(
        Object.fromEntries(e.properties),
      );
    }
  });

  it("merge: source properties overwrite, destination-only properties stay", async () => {
    const { result, dest, source, existing } = await run("merge");
    expect(result).toMatchObject({ read: 150, written: 150, skipped: 0, failed: 0 });
    const before = byKey(existing);
    for (const e of source) {
      const k = key(e.partitionKey, e.rowKey);
      const props = Object.fromEntries(dest.get(k)!.properties);
      const old = before.get(k);
      expect(props).toEqual({
        ...Object.fromEntries(e.properties),
        ...(old ? { extra: old.properties.get("extra") } : {}),
      });
    }
  });

  it("insert: existing entities are left alone and counted skipped; the others are written", async () => {
    const { result, dest, source, existing } = await run("insert");
    expect(result).toMatchObject({
      read: 150,
      written: 150 - existing.length,
      skipped: existing.length,
      failed: 0,
    });
    expect(existing.length).toBe(38);
    const before = byKey(existing);
    for (const e of source) {
      const k = key(e.partitionKey, e.rowKey);
      const expected = before.get(k) ?? e;
      expect(Object.fromEntries(dest.get(k)!.properties), k).toEqual(Object.fromEntries(expected.properties));
    }
  });

  it("insert into an empty destination writes everything and skips nothing", async () => {
    const table = uniqueTable("modeInsertEmpty");
    await seedEntities(
      src,
      table,
      Array.from({ length: 30 }, (_, i) => simpleEntity("p", rk(i), { i })),
    );
    const result = await runSync(syncConfig(src, dst, [table], { writeMode: "insert" }));
    expect(result.tables[0]).toMatchObject({ read: 30, written: 30, skipped: 0, failed: 0, transactions: 1 });
  });
});
