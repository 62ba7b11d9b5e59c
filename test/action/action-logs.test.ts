// The bundled action's log while several tables run at once: GitHub's groups can neither nest nor interleave,
// so each phase is one group and every line about a table is tagged `[table]`, from its start to its end line.
import { describe, expect, inject, it } from "vitest";
import { actionInputs, runAction } from "../support/run-action.js";
import { seedEntities, simpleEntity, uniqueTable } from "../support/tables.js";

const src = () => inject("sourceConnectionString");

const inputs = actionInputs;

const rows = (n: number, v = 1) =>
  Array.from({ length: n }, (_, i) => simpleEntity("p", `r${String(i).padStart(5, "0")}`, { v, i }));

/** The group titles in order; fails when a group opens before the one before it closed, or stays open. */
function groups(stdout: string): string[] {
  const titles: string[] = [];
  let open: string | undefined;
  for (const line of stdout.split("\n")) {
    if (line.startsWith("::group::")) {
      expect(open, `group '${line}' opened inside '${open}'`).toBeUndefined();
      open = line.slice("::group::".length);
      titles.push(open);
    } else if (line.startsWith("::endgroup::")) {
      expect(open, "::endgroup:: without a group").toBeDefined();
      open = undefined;
    }
  }
  expect(open, "a group was left open").toBeUndefined();
  return titles;
}

/** The lines of the group titled `title`. */
function groupLines(stdout: string, title: string): string[] {
  const lines = stdout.split("\n");
  const start = lines.indexOf(`::group::${title}`);
  expect(start, stdout).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf("::endgroup::", start);
  return lines.slice(start + 1, end);
}

describe("bundled action: log groups with several tables at once", () => {
  it("full sync of two tables: one group, a start and an end line per table, both counted", async () => {
    const a = uniqueTable("lga");
    const b = uniqueTable("lgb");
    const b2 = uniqueTable("lgc");
    await seedEntities(src(), a, rows(120));
    await seedEntities(src(), b, rows(30));
    const r = await runAction({ mode: "full-sync", ...inputs(`${a},${b}:${b2}`) });
    expect(r.code, r.stdout).toBe(0);
    expect(groups(r.stdout)).toEqual(["Full sync: 2 tables"]);
    const inside = groupLines(r.stdout, "Full sync: 2 tables");
    expect(inside).toContain(`[${a}] started: reading the whole table.`);
    expect(inside).toContain(`[${b} → ${b2}] started: reading the whole table.`);
    expect(
      inside.filter((l) => l.startsWith(`[${a}] done: 120 read, 120 written, 0 skipped, 0 failed in `)),
    ).toHaveLength(1);
    expect(
      inside.filter((l) => l.startsWith(`[${b} → ${b2}] done: 30 read, 30 written, 0 skipped, 0 failed in `)),
    ).toHaveLength(1);
  });

  it("backfill of two tables, one failing: every table still gets its end line, errors after it", async () => {
    const a = uniqueTable("lgd");
    const missing = uniqueTable("lge");
    await seedEntities(src(), a, rows(10));
    const r = await runAction({
      mode: "backfill",
      ...inputs(`${a},${missing}`, { since: new Date(Date.now() - 3600_000).toISOString() }),
    });
    expect(r.code).toBe(1);
    expect(groups(r.stdout)).toEqual(["Backfill: 2 tables"]);
    const inside = groupLines(r.stdout, "Backfill: 2 tables");
    expect(inside.some((l) => l.startsWith(`[${a}] done: 10 read, 10 written`))).toBe(true);
    expect(inside.some((l) => l.startsWith(`[${missing}] did not complete: 0 read`))).toBe(true);
  });

  it("switch: one group for the final backfill (an end line with figures per table), one for the verify", async () => {
    const a = uniqueTable("lgf");
    const b = uniqueTable("lgg");
    await seedEntities(src(), a, rows(20));
    await seedEntities(src(), b, rows(15));
    const full = await runAction({ mode: "full-sync", ...inputs(`${a},${b}`) });
    expect(full.code, full.stdout).toBe(0);
    await seedEntities(src(), a, rows(3, 2));
    const sw = await runAction({ mode: "switch", ...inputs(`${a},${b}`) }, { workspace: full.workspace });
    expect(sw.code, sw.stdout).toBe(0);
    expect(groups(sw.stdout)).toEqual(["Final backfill: 2 tables", "Verify: 2 tables"]);
    const backfill = groupLines(sw.stdout, "Final backfill: 2 tables");
    for (const t of [a, b]) {
      expect(backfill).toContain(`[${t}] final backfill started.`);
      expect(
        backfill.filter((l) =>
          new RegExp(`^\\[${t}\\] final backfill done: \\d+ read, \\d+ written`).test(l),
        ),
      ).toHaveLength(1);
    }
    const verify = groupLines(sw.stdout, "Verify: 2 tables");
    for (const t of [a, b]) {
      expect(verify).toContain(`[${t}] verify started.`);
      expect(verify).toContain(`[${t}] verify done.`);
    }
  });

  it("the checkpoint line names the position by its count, never the continuation token", async () => {
    const t = uniqueTable("lgh");
    await seedEntities(
      src(),
      t,
      Array.from({ length: 2_500 }, (_, i) =>
        simpleEntity(`k${i % 25}`, `r${String(i).padStart(5, "0")}`, { i }),
      ),
    );
    // Paced to about 2.5 s, with a checkpoint due every second: at least one is saved between pages.
    const r = await runAction({
      mode: "full-sync",
      ...inputs(t, { "checkpoint-seconds": "1", "max-entities-per-second": "1000", concurrency: "1" }),
    });
    expect(r.code, r.stdout).toBe(0);
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("::debug::") && l.includes("checkpoint"));
    expect(lines.length, r.stdout).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).toMatch(
        new RegExp(
          `^::debug::\\[${t}\\] checkpoint saved after \\d+ entities read; a resumed full sync goes on from there\\.$`,
        ),
      );
    }
    expect(r.stdout).not.toMatch(/checkpoint at /);
  });
});
