// The bundled action (dist/index.js) run exactly as a runner runs it, against two Azurite servers.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { differingProperties } from "../../src/engine/wire/edm.js";
import { actionInputs, DIST_ACTION, runAction } from "../support/run-action.js";
import { byKey, createTable, readAll, seedEntities, simpleEntity, uniqueTable } from "../support/tables.js";

const src = () => inject("sourceConnectionString");
const dst = () => inject("destinationConnectionString");

const base = actionInputs;

async function expectExact(sourceTable: string, destinationTable = sourceTable): Promise<void> {
  const a = byKey(await readAll(src(), sourceTable));
  const b = byKey(await readAll(dst(), destinationTable));
  expect(b.size).toBe(a.size);
  for (const [k, e] of a) {
    const d = b.get(k);
    expect(d, `missing ${k}`).toBeDefined();
    expect(differingProperties(e, d!), `entity ${k}`).toEqual([]);
  }
}

function readState(workspace: string) {
  return JSON.parse(readFileSync(join(workspace, ".table-sync", "state.json"), "utf8")) as {
    tables: Record<string, { watermark?: string }>;
  };
}

function entities(n: number, pk = "p", version = 1) {
  return Array.from({ length: n }, (_, i) =>
    simpleEntity(pk, `r${String(i).padStart(5, "0")}`, { v: version, i }),
  );
}

describe("bundled action", () => {
  it("exists (run `npm run bundle`)", () => {
    expect(existsSync(DIST_ACTION)).toBe(true);
  });

  it("full sync, source writes, backfill → exact destination, outputs and summary", async () => {
    const t = uniqueTable("act");
    await seedEntities(src(), t, entities(250));
    const full = await runAction({ mode: "full-sync", ...base(t) });
    expect(full.code, full.stdout).toBe(0);
    expect(full.outputs["entities-read"]).toBe("250");
    expect(full.outputs["entities-written"]).toBe("250");
    expect(full.outputs["entities-failed"]).toBe("0");
    const wm1 = readState(full.workspace).tables[`${t}→${t}`].watermark!;
    expect(full.outputs["last-sync-utc"]).toBe(wm1);
    expect(full.summary).toContain(`| ${t} | 250 | 250 | 0 | 0 |`);
    await expectExact(t);

    // Changes after the full sync: updates and inserts.
    await seedEntities(src(), t, [...entities(10, "p", 2), ...entities(5, "q", 1)]);
    const back = await runAction({ mode: "backfill", ...base(t) }, { workspace: full.workspace });
    expect(back.code, back.stdout).toBe(0);
    // Only the window since the full sync (minus the overlap) is read, not the whole table again —
    // the overlap is 120 s and everything here is recent, so the window holds what changed plus the full sync.
    const result = JSON.parse(back.outputs["result-json"]) as { tables: { filter: string; read: number }[] };
    expect(result.tables[0].filter).toMatch(/^Timestamp ge datetime'/);
    await expectExact(t);
    const wm2 = readState(full.workspace).tables[`${t}→${t}`].watermark!;
    expect(Date.parse(wm2)).toBeGreaterThanOrEqual(Date.parse(wm1));
  });

  it("a backfill reads only the window since the watermark", async () => {
    const t = uniqueTable("win");
    await seedEntities(src(), t, entities(300));
    // The source clock (the watermark) has 1 s resolution: a seed in the same second as the full
    // sync's first read is, correctly, inside the next window. Let the seed fall before it.
    await new Promise((r) => setTimeout(r, 1_100));
    const full = await runAction({ mode: "full-sync", ...base(t) });
    expect(full.code).toBe(0);
    await new Promise((r) => setTimeout(r, 2_100));
    await seedEntities(src(), t, entities(7, "z", 1));
    const back = await runAction(
      { mode: "backfill", ...base(t, { "overlap-seconds": "0" }) },
      { workspace: full.workspace },
    );
    expect(back.code, back.stdout).toBe(0);
    expect(back.outputs["entities-read"]).toBe("7");
    await expectExact(t);
  });

  it("backfill without a stored watermark and without since fails with a sentence", async () => {
    const t = uniqueTable("nowm");
    await createTable(src(), t);
    const r = await runAction({ mode: "backfill", ...base(t) });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain("run 'full-sync' first, or set 'since'");
    expect(r.stdout).not.toMatch(/\n\s+at /); // no stack trace
    expect(await readAll(dst(), t).catch(() => [])).toEqual([]);
  });

  it("backfill with since and no state copies the window", async () => {
    const t = uniqueTable("since");
    await seedEntities(src(), t, entities(20));
    const r = await runAction({
      mode: "backfill",
      ...base(t, { since: new Date(Date.now() - 3600_000).toISOString() }),
    });
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs["entities-written"]).toBe("20");
    await expectExact(t);
  });

  for (const skewMinutes of [10, -10]) {
    it(`a runner clock ${skewMinutes > 0 ? "10 minutes fast" : "10 minutes slow"} misses nothing`, async () => {
      const t = uniqueTable("skew");
      await seedEntities(src(), t, entities(50));
      const skew = { clockSkewMs: skewMinutes * 60_000 };
      const full = await runAction({ mode: "full-sync", ...base(t) }, skew);
      expect(full.code, full.stdout + full.stderr).toBe(0);
      const wm = readState(full.workspace).tables[`${t}→${t}`].watermark!;
      // The watermark is the server's clock, not the lying runner's.
      expect(Math.abs(Date.parse(wm) - Date.now())).toBeLessThan(60_000);
      await new Promise((r) => setTimeout(r, 1_100));
      await seedEntities(src(), t, [...entities(5, "p", 9), ...entities(3, "late", 1)]);
      const back = await runAction(
        { mode: "backfill", ...base(t, { "overlap-seconds": "0" }) },
        { ...skew, workspace: full.workspace },
      );
      expect(back.code, back.stdout).toBe(0);
      await expectExact(t);
    });
  }

  it("entities changing during backfills all arrive after one more backfill", async () => {
    const t = uniqueTable("live");
    await seedEntities(src(), t, entities(200));
    const full = await runAction({ mode: "full-sync", ...base(t) });
    expect(full.code).toBe(0);
    let stop = false;
    let version = 10;
    const writer = (async () => {
      while (!stop) {
        version++;
        const pk = `w${version % 3}`;
        await seedEntities(src(), t, [
          ...entities(20, "p", version).slice(version % 10, (version % 10) + 5),
          simpleEntity(pk, `n${version}`, { v: version }),
        ]);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    for (let i = 0; i < 3; i++) {
      const r = await runAction({ mode: "backfill", ...base(t) }, { workspace: full.workspace });
      expect(r.code, r.stdout).toBe(0);
    }
    stop = true;
    await writer;
    const last = await runAction({ mode: "backfill", ...base(t) }, { workspace: full.workspace });
    expect(last.code, last.stdout).toBe(0);
    await expectExact(t);
  });

  it("one failing table does not stop the others, and only its watermark stays", async () => {
    const good1 = uniqueTable("ok");
    const bad = uniqueTable("bad");
    const good2 = uniqueTable("ok");
    await seedEntities(src(), good1, entities(30));
    await seedEntities(src(), good2, entities(30));
    // `id` is reserved on Cosmos: with the destination playing Cosmos and no rename, this entity fails.
    await seedEntities(src(), bad, [...entities(10), simpleEntity("p", "zz", { id: "x" })]);
    const r = await runAction({
      mode: "full-sync",
      ...base(`${good1},${bad},${good2}`, { "destination-kind": "cosmos" }),
    });
    expect(r.code).not.toBe(0);
    const state = readState(r.workspace);
    expect(state.tables[`${good1}→${good1}`].watermark).toBeDefined();
    expect(state.tables[`${good2}→${good2}`].watermark).toBeDefined();
    expect(state.tables[`${bad}→${bad}`]?.watermark).toBeUndefined();
    expect(r.outputs["entities-failed"]).toBe("1");
    expect(r.stdout).toContain(
      "property 'id' is reserved by Cosmos DB for Table; add the rename 'id:entityId'",
    );
    expect(r.summary).toContain("zz");
    await expectExact(good1);
    await expectExact(good2);
    expect((await readAll(dst(), bad)).length).toBe(10);
    // The last-sync output is the oldest watermark, and undefined while a table has none.
    expect(r.outputs["last-sync-utc"]).toBe("");
  });

  it("dry run reads and counts, writes nothing and leaves the state unchanged", async () => {
    const t = uniqueTable("dry");
    await seedEntities(src(), t, entities(40));
    const r = await runAction({ mode: "full-sync", ...base(t, { "dry-run": "true" }) });
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs["entities-read"]).toBe("40");
    expect(r.outputs["entities-written"]).toBe("0");
    expect(existsSync(join(r.workspace, ".table-sync", "state.json"))).toBe(false);
    expect(await readAll(dst(), t).catch(() => [])).toEqual([]);
  });

  it("reads a dmt migrationsettings.json as it is, with renames and table mapping", async () => {
    const t = uniqueTable("dmt");
    const t2 = uniqueTable("dmtdst");
    await seedEntities(src(), t, [simpleEntity("p", "1", { id: "abc", n: 1 })]);
    const r0 = await runAction({ mode: "full-sync", "state-store": "file" }, {});
    expect(r0.code).not.toBe(0);
    const settings = {
      Source: "AzureTableAPI",
      Sink: "AzureTableAPI",
      SourceSettings: { ConnectionString: src(), QueryFilter: "Timestamp ge datetime'__LAST_SYNC_UTC__'" },
      SinkSettings: {
        ConnectionString: dst(),
        WriteMode: "Replace",
        PropertyRenames: [{ From: "id", To: "entityId" }],
      },
      Operations: [{ SourceSettings: { Table: t }, SinkSettings: { Table: t2 } }],
    };
    writeFileSync(join(r0.workspace, "migrationsettings.json"), JSON.stringify(settings));
    const r = await runAction(
      {
        mode: "full-sync",
        "config-file": "migrationsettings.json",
        "state-store": "file",
        "destination-kind": "cosmos",
      },
      { workspace: r0.workspace },
    );
    expect(r.code, r.stdout).toBe(0);
    const out = await readAll(dst(), t2);
    expect(out).toHaveLength(1);
    expect(out[0].properties.get("entityId")).toEqual({ type: "Edm.String", value: "abc" });
    expect(out[0].properties.has("id")).toBe(false);
    // The connection strings from the file are masked too.
    expect(r.stdout).toContain("::add-mask::");
  });

  it("a wrong input is one sentence naming it, and nothing is written", async () => {
    const t = uniqueTable("bad");
    const r = await runAction({ mode: "full-sync", ...base(t, { "write-mode": "upsert" }) });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain(
      "::error::Input 'write-mode' is 'upsert'; use one of: replace, merge, insert.",
    );
  });
});
