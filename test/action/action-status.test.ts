// Watching a migration through the bundled action as a runner runs it: mode status in every phase and without
// a state, the lag chart in the backfill's and the status step's summaries, progress against the size
// preflight counted, and a full sync that resumes only the copy its records describe (issue 12's bug: a
// different query-filter after a run that finished one table of two).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { actionInputs, runAction } from "../support/run-action.js";
import { seedEntities, simpleEntity, uniqueTable } from "../support/tables.js";

const src = () => inject("sourceConnectionString");

interface StatusJson {
  ok: boolean;
  tables: {
    phase: string;
    entitiesCopied?: number;
    checkpoint?: { read: number };
    lagNowSeconds?: number;
    history: { changed: number }[];
    switchedAt?: string;
    next: string;
  }[];
}

const statusInputs = (tables: string) => ({
  mode: "status",
  tables,
  "source-connection-string": src(),
  "state-store": "file",
});

function mermaidLines(summary: string): number[][] {
  return [...summary.matchAll(/```mermaid\n[\s\S]*?\n {2}line \[(.*)\]\n```/g)].map((m) =>
    m[1].split(", ").map(Number),
  );
}

describe("bundled action: status", () => {
  it("without a state fails with one sentence and writes nothing", async () => {
    const run = await runAction(statusInputs("orders"));
    expect(run.code).toBe(1);
    const sentence =
      "No state was found in the file .table-sync/state.json: run full-sync first, or give this step the state-store and state-key the migration's other steps use.";
    expect(run.stdout).toContain(
      `::error::${sentence.replace(".table-sync", `${run.workspace}/.table-sync`)}`,
    );
    expect(run.summary).toContain(sentence.replace(".table-sync", `${run.workspace}/.table-sync`));
    expect(JSON.parse(run.outputs["result-json"])).toMatchObject({ ok: false, tables: [] });
    expect(existsSync(join(run.workspace, ".table-sync", "state.json"))).toBe(false);
  });

  it("follows a table through every phase, with the lag chart and the ETA", async () => {
    const t = uniqueTable("watch");
    const count = 3_000;
    await seedEntities(
      src(),
      t,
      Array.from({ length: count }, (_, i) =>
        simpleEntity(`p${Math.floor(i / 600)}`, `r${String(i).padStart(5, "0")}`, { i }),
      ),
    );
    const pre = await runAction({ mode: "preflight", ...actionInputs(t, { "destination-kind": "cosmos" }) });
    expect(pre.code, pre.stdout).toBe(0);
    expect(pre.summary).toContain("### Planning (estimates)");
    expect(pre.summary).toMatch(
      /the full sync's writes spend about [\d,]+ RU; at 10,000 RU\/s \(ru-per-second\)/,
    );
    const ws = { workspace: pre.workspace };
    const stateFile = join(pre.workspace, ".table-sync", "state.json");
    const status = async () => {
      const before = readFileSync(stateFile, "utf8");
      const run = await runAction(statusInputs(t), ws);
      expect(run.code, run.stdout).toBe(0);
      // The status step writes nothing.
      expect(readFileSync(stateFile, "utf8")).toBe(before);
      return { run, json: JSON.parse(run.outputs["result-json"]) as StatusJson };
    };

    let s = await status();
    expect(s.json.tables[0].phase).toBe("not started");
    expect(s.run.summary).toMatch(/\| ⚪ not started \|/);

    // Cancelled as soon as it starts (SIGTERM, as a runner cancels): a checkpoint after the first page.
    const cut = await runAction(
      {
        mode: "full-sync",
        ...actionInputs(t, { "max-entities-per-second": "1000", "checkpoint-seconds": "1" }),
      },
      { ...ws, signalOn: { when: "started:", signal: "SIGTERM" } },
    );
    expect(cut.code).not.toBe(0);
    s = await status();
    expect(s.json.tables[0].phase).toBe("full sync in progress");
    const read = s.json.tables[0].checkpoint?.read ?? 0;
    expect(read).toBeGreaterThan(0);
    expect(s.run.summary).toContain(`after ${read} entities, saved`);
    expect(s.run.summary).toMatch(new RegExp(`\\| ${read} of ${count} \\(\\d+ %\\) \\|`));

    const full = await runAction({ mode: "full-sync", ...actionInputs(t) }, ws);
    expect(full.code, full.stdout).toBe(0);
    // Resumed: the ETA counts the entities before the checkpoint too, and ends at 100 %.
    expect(full.summary).toContain(
      `100.0 % of ${count.toLocaleString("en-US")} entities (counted by preflight)`,
    );
    s = await status();
    expect(s.json.tables[0]).toMatchObject({ phase: "full sync done", entitiesCopied: count });
    expect(s.json.tables[0].lagNowSeconds).toBeGreaterThanOrEqual(0);
    expect(mermaidLines(s.run.summary)).toEqual([]);

    const backfillLines: number[][][] = [];
    for (let i = 0; i < 3; i++) {
      await seedEntities(src(), t, [simpleEntity("new", `n${i}`)]);
      const b = await runAction({ mode: "backfill", ...actionInputs(t, { "overlap-seconds": "0" }) }, ws);
      expect(b.code, b.stdout).toBe(0);
      backfillLines.push(mermaidLines(b.summary));
    }
    // One chart per backfill summary, one more point each time.
    expect(backfillLines.map((charts) => charts.map((c) => c.length))).toEqual([[1], [2], [3]]);
    s = await status();
    expect(s.json.tables[0].phase).toBe("backfilling");
    expect(s.json.tables[0].history).toHaveLength(3);
    expect(mermaidLines(s.run.summary)).toEqual(backfillLines[2]);
    expect(s.run.summary).toContain("| # | backfill at (UTC) | lag (s) | changed entities |");

    const sw = await runAction({ mode: "switch", ...actionInputs(t) }, ws);
    expect(sw.code, sw.stdout).toBe(0);
    s = await status();
    expect(s.json.tables[0]).toMatchObject({ phase: "switched", switchedAt: sw.outputs["switched-at"] });
    expect(s.run.summary).toContain(`| ✅ switched |`);
  });
});

describe("bundled action: a full sync resumes only its own copy", () => {
  it("a table finished by a run with another query-filter is copied afresh; the same inputs resume", async () => {
    const t = uniqueTable("ledger");
    await seedEntities(
      src(),
      t,
      Array.from({ length: 50 }, (_, i) => simpleEntity(i < 20 ? "a" : "b", `r${i}`, { i })),
    );
    const first = await runAction({ mode: "full-sync", ...actionInputs(`${t}, ${t}Typo`) });
    expect(first.code).not.toBe(0);
    const ws = { workspace: first.workspace };
    const other = await runAction(
      { mode: "full-sync", ...actionInputs(t, { "query-filter": "PartitionKey eq 'b'" }) },
      ws,
    );
    expect(other.code, other.stdout).toBe(0);
    expect(other.summary).toContain(
      `Table ${t} was completed by a full sync with another query-filter, so it is copied afresh.`,
    );
    expect(other.summary).not.toContain("already done");
    expect(other.outputs["entities-read"]).toBe("30");

    const again = await runAction({ mode: "full-sync", ...actionInputs(`${t}, ${t}Typo`) });
    const same = await runAction({ mode: "full-sync", ...actionInputs(t) }, { workspace: again.workspace });
    expect(same.code, same.stdout).toBe(0);
    expect(same.summary).toMatch(/: 1 of 1 table already done\./);
    expect(same.outputs["entities-read"]).toBe("0");
  });
});
