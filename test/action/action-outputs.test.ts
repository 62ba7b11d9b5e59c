// What verify and switch say through their outputs, annotations and summary heading, and how the summary
// shows data it did not write itself (keys, messages), through the bundled action as a runner runs it.
import { describe, expect, inject, it } from "vitest";
import { actionInputs, runAction } from "../support/run-action.js";
import { seedEntities, simpleEntity, uniqueTable } from "../support/tables.js";

const src = () => inject("sourceConnectionString");
const dst = () => inject("destinationConnectionString");

const inputs = actionInputs;

const rows = (n: number, v: string) => Array.from({ length: n }, (_, i) => simpleEntity("p", `r${i}`, { v }));

/** The summary's heading line. */
function heading(summary: string): string {
  return summary.split("\n").find((l) => l.startsWith("## ")) ?? "";
}

describe("bundled action: verify and switch outputs", () => {
  it("verify with repair: in-sync describes the tables before the repair, repaired=true says they are now", async () => {
    const t = uniqueTable("orp");
    await seedEntities(src(), t, rows(10, "a"));
    await seedEntities(dst(), t, [...rows(8, "a"), simpleEntity("p", "r2", { v: "changed" })]);
    const r = await runAction({ mode: "verify", ...inputs(t, { repair: "true" }) });
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs["in-sync"]).toBe("false");
    expect(r.outputs.differences).toBe("3");
    expect(r.outputs.repaired).toBe("true");
    expect(heading(r.summary)).toBe("## ✅ table-sync verify: 3 difference(s) found and repaired");

    const again = await runAction({ mode: "verify", ...inputs(t) });
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs["in-sync"]).toBe("true");
    expect(again.outputs.differences).toBe("0");
    expect(again.outputs.repaired).toBe("false");
  });

  it("verify with fail-on-difference false and differences: exit 0, a ::warning:: with the count, a ⚠️ heading", async () => {
    const t = uniqueTable("olx");
    await seedEntities(src(), t, rows(6, "a"));
    await seedEntities(dst(), t, rows(4, "a"));
    const r = await runAction({ mode: "verify", ...inputs(t, { "fail-on-difference": "false" }) });
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs["in-sync"]).toBe("false");
    expect(r.outputs.differences).toBe("2");
    expect(r.outputs.repaired).toBe("false");
    expect(r.stdout).toContain(
      "::warning title=table-sync%3A tables differ::The destination differs from the source in 2 entities; the step passes only because fail-on-difference is false (run verify with 'repair: true' to copy them).",
    );
    expect(heading(r.summary)).toBe(
      "## ⚠️ table-sync verify: 2 difference(s), passed because fail-on-difference is false",
    );
    expect(r.stdout).not.toMatch(/^::error/m);
  });

  it("switch sets the final backfill's outputs; a switch run again sets ready and switched-at, and no verify outputs", async () => {
    const t = uniqueTable("osw");
    await seedEntities(src(), t, rows(12, "a"));
    const full = await runAction({ mode: "full-sync", ...inputs(t) });
    expect(full.code, full.stdout).toBe(0);
    await seedEntities(src(), t, [simpleEntity("p", "r1", { v: "b" })]);
    const ws = { workspace: full.workspace };

    const sw = await runAction({ mode: "switch", ...inputs(t) }, ws);
    expect(sw.code, sw.stdout).toBe(0);
    expect(sw.outputs.ready).toBe("true");
    expect(sw.outputs["in-sync"]).toBe("true");
    expect(sw.outputs.differences).toBe("0");
    expect(Number(sw.outputs["entities-read"])).toBeGreaterThanOrEqual(1);
    expect(sw.outputs["entities-written"]).toBe(sw.outputs["entities-read"]);
    expect(sw.outputs["entities-failed"]).toBe("0");
    expect(sw.outputs["changed-entities"]).toBe(sw.outputs["entities-read"]);
    expect(sw.outputs["last-sync-utc"]).toMatch(/Z$/);
    expect(Number(sw.outputs["lag-seconds"])).toBeGreaterThanOrEqual(0);
    expect(sw.outputs.repaired).toBeUndefined();

    const again = await runAction({ mode: "switch", ...inputs(t) }, ws);
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs.ready).toBe("true");
    expect(again.outputs["switched-at"]).toBe(sw.outputs["switched-at"]);
    // Nothing was verified or copied by this run: no "in-sync=false, differences=0" beside ready=true.
    expect(again.outputs["in-sync"]).toBeUndefined();
    expect(again.outputs.differences).toBeUndefined();
    expect(again.outputs["entities-read"]).toBeUndefined();
    expect(again.summary).toContain("The switch was already recorded at");
  });
});

describe("bundled action: the summary shows keys and messages as text", () => {
  it("HTML, backticks, ampersands and Markdown in keys are escaped; the entity is named once", async () => {
    const t = uniqueTable("esc");
    const pk = "<img src=x>";
    const rk = "`tick` & *b* [l](u)";
    await seedEntities(src(), t, [
      simpleEntity(pk, rk, { id: "x" }),
      simpleEntity("+ head", "- item", { id: "y" }),
    ]);
    const r = await runAction({ mode: "full-sync", ...inputs(t, { "destination-kind": "cosmos" }) });
    expect(r.code).toBe(1);
    expect(r.outputs["entities-failed"]).toBe("2");
    const rows = r.summary.split("\n").filter((l) => l.startsWith(`| ${t} |`) && l.includes("reserved"));
    expect(rows).toContain(
      `| ${t} | &lt;img src=x&gt; | &#96;tick&#96; &amp; \\*b\\* \\[l\\](u) | property 'id' is reserved by Cosmos DB for Table; add the rename 'id:entityId' to property-renames. |`,
    );
    expect(rows).toContain(
      `| ${t} | \\+ head | \\- item | property 'id' is reserved by Cosmos DB for Table; add the rename 'id:entityId' to property-renames. |`,
    );
    expect(r.summary).not.toContain("<img");
    expect(r.summary).not.toContain("`tick`");

    // The annotation names the table and keys once, not "Table t, …: Table t, …: property …".
    const annotations = r.stdout
      .split("\n")
      .filter((l) => l.startsWith("::error title=table-sync%3A entity not written::"));
    expect(annotations).toHaveLength(2);
    for (const a of annotations) expect(a.match(/PartitionKey '/g)).toHaveLength(1);
    expect(annotations).toContain(
      `::error title=table-sync%3A entity not written::Table ${t}, PartitionKey '+ head', RowKey '- item': property 'id' is reserved by Cosmos DB for Table; add the rename 'id:entityId' to property-renames.`,
    );
  });

  it("verify: an untransformable entity's row gives the reason without naming the entity again", async () => {
    const t = uniqueTable("esv");
    await seedEntities(src(), t, [simpleEntity("p", "1", { id: "x" })]);
    const r = await runAction({ mode: "verify", ...inputs(t, { "destination-kind": "cosmos" }) });
    expect(r.code).toBe(1);
    expect(r.summary).toContain(
      `| ${t} | untransformable | p | 1 | property 'id' is reserved by Cosmos DB for Table; add the rename 'id:entityId' to property-renames. |`,
    );
  });
});
