// verify, switch, preflight and the post-switch backfill, through the bundled action as a runner runs it.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, inject, it } from "vitest";
import { actionInputs, runAction } from "../support/run-action.js";
import { byKey, httpFor, readAll, seedEntities, simpleEntity, uniqueTable } from "../support/tables.js";
import { keyUrl } from "../../src/engine/wire/batch.js";

const src = () => inject("sourceConnectionString");
const dst = () => inject("destinationConnectionString");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const inputs = (tables: string, extra: Record<string, string> = {}) =>
  actionInputs(tables, { "destination-kind": "cosmos", ...extra });

async function deleteEntity(cs: string, table: string, pk: string, rk: string): Promise<void> {
  const http = httpFor(cs);
  const res = await http.send({
    method: "DELETE",
    url: keyUrl(`${http.url}/${table}`, pk, rk),
    headers: { "If-Match": "*" },
  });
  expect(res.status).toBe(204);
}

const rows = (n: number, v: string) => Array.from({ length: n }, (_, i) => simpleEntity("p", `r${i}`, { v }));

describe("bundled action: verify, switch, preflight", () => {
  it("preflight names the blocking reserved property and passes once the rename is given", async () => {
    const t = uniqueTable("pre");
    await seedEntities(src(), t, [
      simpleEntity("p", "1", { id: "x", n: 1 }),
      simpleEntity("p", "2", { n: 2 }),
    ]);
    const bad = await runAction({ mode: "preflight", ...inputs(t) });
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toMatch(/::error::.*id:entityId/);
    expect(existsSync(bad.outputs["report-path"])).toBe(true);
    const report = JSON.parse(readFileSync(bad.outputs["report-path"], "utf8")) as {
      preflight: { entities: number }[];
    };
    expect(report.preflight[0].entities).toBe(2);
    const good = await runAction({ mode: "preflight", ...inputs(t, { "property-renames": "id:entityId" }) });
    expect(good.code, good.stdout).toBe(0);
    expect(good.summary).toContain("a full sync can start");
    // Preflight reads the source only: nothing was written.
    expect(await readAll(dst(), t).catch(() => [])).toEqual([]);
  });

  it("verify finds a delete and a change, repair with delete-extra fixes both, then verify is in sync", async () => {
    const t = uniqueTable("ver");
    await seedEntities(src(), t, rows(40, "a"));
    const full = await runAction({ mode: "full-sync", ...inputs(t) });
    expect(full.code).toBe(0);
    const ws = { workspace: full.workspace };
    await deleteEntity(src(), t, "p", "r3"); // a delete a Timestamp filter never sees
    await seedEntities(src(), t, [simpleEntity("p", "r5", { v: 1 })]); // String "a" → Int32 1

    const v1 = await runAction({ mode: "verify", ...inputs(t) }, ws);
    expect(v1.code).not.toBe(0);
    expect(v1.outputs["in-sync"]).toBe("false");
    expect(v1.outputs.differences).toBe("2");
    expect(v1.summary).toContain("| extra |");
    expect(v1.summary).toMatch(/different \| p \| r5 \| v/);

    const lenient = await runAction({ mode: "verify", ...inputs(t, { "fail-on-difference": "false" }) }, ws);
    expect(lenient.code).toBe(0);

    const fix = await runAction(
      { mode: "verify", ...inputs(t, { repair: "true", "delete-extra": "true" }) },
      ws,
    );
    expect(fix.code, fix.stdout).toBe(0);
    const d = byKey(await readAll(dst(), t));
    expect(d.has("p\u0000r3")).toBe(false);
    expect(d.get("p\u0000r5")?.properties.get("v")).toEqual({ type: "Edm.Int32", value: "1" });

    const v2 = await runAction({ mode: "verify", ...inputs(t) }, ws);
    expect(v2.code, v2.stdout).toBe(0);
    expect(v2.outputs["in-sync"]).toBe("true");
  });

  it("switch records switched-at; a backfill after it keeps the app's write and reports the conflict", async () => {
    const t = uniqueTable("swi");
    await seedEntities(src(), t, rows(20, "v1"));
    const full = await runAction({ mode: "full-sync", ...inputs(t) });
    expect(full.code).toBe(0);
    const ws = { workspace: full.workspace };
    await seedEntities(src(), t, [simpleEntity("p", "r1", { v: "v2" })]); // changed before the switch

    const sw = await runAction({ mode: "switch", ...inputs(t) }, ws);
    expect(sw.code, sw.stdout).toBe(0);
    expect(sw.outputs.ready).toBe("true");
    expect(sw.outputs["switched-at"]).toMatch(/Z$/);
    expect(
      byKey(await readAll(dst(), t))
        .get("p\u0000r1")
        ?.properties.get("v")?.value,
    ).toBe("v2");
    const state = JSON.parse(readFileSync(`${full.workspace}/.table-sync/state.json`, "utf8")) as {
      tables: Record<string, { switchedAt?: string }>;
    };
    expect(state.tables[`${t}→${t}`].switchedAt).toBe(sw.outputs["switched-at"]);

    await sleep(1_100);
    // The app now writes to the destination; a straggler request writes an older view to the source.
    await seedEntities(dst(), t, [simpleEntity("p", "r2", { v: "app" })]);
    await seedEntities(src(), t, [
      simpleEntity("p", "r2", { v: "straggler" }),
      simpleEntity("p", "r9", { v: "late" }),
    ]);

    const back = await runAction({ mode: "backfill", ...inputs(t) }, ws);
    expect(back.code, back.stdout).toBe(0);
    expect(back.summary).toContain("Conflicts kept safe");
    expect(back.stdout).toMatch(/::warning.*RowKey 'r2'.*after the switch/);
    const d = byKey(await readAll(dst(), t));
    expect(d.get("p\u0000r2")?.properties.get("v")?.value).toBe("app");
    expect(d.get("p\u0000r9")?.properties.get("v")?.value).toBe("late");
    expect(Number(back.outputs["lag-seconds"])).toBeGreaterThanOrEqual(0);
    expect(back.outputs["changed-entities"]).toBeDefined();

    // Once switched, delete-extra is refused: a destination-only entity is probably the app's.
    const refused = await runAction(
      { mode: "verify", ...inputs(t, { repair: "true", "delete-extra": "true" }) },
      ws,
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toContain("delete-extra is refused");
  });

  it("a cancelled verify stops between pages and gives no verdict", async () => {
    const t = uniqueTable("vercancel");
    // Large enough that the verify is still reading when the signal lands (it checks between pages).
    await seedEntities(
      src(),
      t,
      Array.from({ length: 20_000 }, (_, i) => simpleEntity(`p${i % 20}`, `r${i}`, { v: "a" })),
    );
    const run = await runAction(
      { mode: "verify", ...inputs(t) },
      { signalOn: { when: `[${t}] verify started.`, signal: "SIGTERM" } },
    );
    expect(run.code, run.stdout).not.toBe(0);
    expect(run.stdout).toContain("::error::The verify was cancelled; it gives no verdict.");
    // No verdict: neither "in sync" nor a count of differences the cancel cut short.
    expect(run.outputs["in-sync"]).toBeUndefined();
    expect(run.outputs["differences"]).toBeUndefined();
    const result = JSON.parse(run.outputs["result-json"]) as { cancelled?: boolean; ok: boolean };
    expect(result).toMatchObject({ cancelled: true, ok: false });
    expect(run.summary).toContain("table-sync verify: cancelled, no verdict");
    expect(run.summary).not.toMatch(/verify: in sync|difference\(s\)/);
  });

  it("a backfill from Cosmos is refused with the way out", async () => {
    const t = uniqueTable("roll");
    await seedEntities(src(), t, rows(3, "x"));
    const r = await runAction({
      mode: "backfill",
      ...inputs(t, { "source-kind": "cosmos", "destination-kind": "table", since: "2024-01-01T00:00:00Z" }),
    });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain("a backfill cannot read from Cosmos DB for Table");
    expect(r.stdout).toContain("'full-sync'");
  });
});
