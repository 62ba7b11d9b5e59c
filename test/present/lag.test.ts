// The lag chart after 1, 3 and 49 real backfills (Azurite): a fenced mermaid xychart-beta with one line
// series, one point per backfill (the last 48 kept), oldest first, the numbers in a table beneath — in the
// backfill's and the status step's job summaries — and the same series as the CLI's one-line sparkline.
import { beforeAll, describe, expect, inject, it } from "vitest";
import { buildSummary } from "../../src/action/summary.js";
import { buildStatusSummary } from "../../src/action/status-summary.js";
import { formatStatus } from "../../src/cli/status.js";
import { buildConfig } from "../../src/config/schema.js";
import { runCopy } from "../../src/engine/steps/full-sync.js";
import { runStatus } from "../../src/engine/steps/status.js";
import { sparkline } from "../../src/present/lag.js";
import { decodeHistory } from "../../src/state/history.js";
import { tableKey } from "../../src/state/table-key.js";
import { MemoryStateStore } from "../../src/state/store.js";
import { stepConfig, stepDeps } from "../support/sync.js";
import { seedEntities, simpleEntity, uniqueTable } from "../support/tables.js";

const src = inject("sourceConnectionString");

interface Run {
  table: string;
  store: MemoryStateStore;
  /** Each backfill's changed count, in the order they ran. */
  changed: number[];
  /** The last backfill's job summary. */
  summary: string;
}

async function backfilled(n: number): Promise<Run> {
  const table = uniqueTable("chart");
  await seedEntities(src, table, [simpleEntity("a", "0")]);
  const store = new MemoryStateStore();
  expect((await runCopy(stepConfig("full-sync", table), stepDeps(store))).ok).toBe(true);
  const changed: number[] = [];
  let summary = "";
  for (let i = 1; i <= n; i++) {
    if (i % 4 === 1) await seedEntities(src, table, [simpleEntity("b", `r${i}`, { i })]);
    const r = await runCopy(stepConfig("backfill", table, { "overlap-seconds": "0" }), stepDeps(store));
    expect(r.ok, r.failure).toBe(true);
    changed.push(r.changedEntities ?? -1);
    if (i === n) {
      const saved = await store.load();
      summary = buildSummary({
        mode: r.mode,
        dryRun: false,
        tables: r.tables,
        notices: r.notices,
        lagSeconds: r.lagSeconds,
        lagHistories: [
          {
            table,
            points: decodeHistory(saved?.tables[tableKey({ source: table, destination: table })]?.history),
          },
        ],
      });
    }
  }
  return { table, store, changed, summary };
}

/** The mermaid blocks of a summary, and what each draws. */
function charts(markdown: string) {
  return [...markdown.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => {
    const body = m[1];
    const line = /^ {2}line \[(.*)\]$/m.exec(body)?.[1] ?? "";
    const axis = /^ {2}x-axis \[(.*)\]$/m.exec(body)?.[1] ?? "";
    return {
      body,
      line: line ? line.split(", ").map(Number) : [],
      labels: axis ? axis.split(", ") : [],
    };
  });
}

/** The rows of the numbers table beneath the chart: [#, at, lag, changed]. */
function rows(markdown: string): string[][] {
  return markdown
    .split("\n")
    .filter((l) => /^\| \d+ \| \d{4}-\d\d-\d\d \d\d:\d\d \| \d+ \| \d+ \|$/.test(l))
    .map((l) =>
      l
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim()),
    );
}

describe.each([1, 3, 49])("after %i backfills", (n) => {
  let run: Run;
  beforeAll(async () => {
    run = await backfilled(n);
  }, 240_000);

  it("the backfill's summary draws one point per backfill kept, oldest first, with the numbers beneath", async () => {
    const kept = Math.min(n, 48);
    const points = decodeHistory(
      (await run.store.load())?.tables[tableKey({ source: run.table, destination: run.table })]?.history,
    );
    expect(points).toHaveLength(kept);
    // Oldest first: the stored points are the last `kept` backfills in the order they ran.
    expect(points.map((p) => p.changed)).toEqual(run.changed.slice(-kept));
    const times = points.map((p) => Date.parse(p.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const [chart, ...more] = charts(run.summary);
    expect(more).toHaveLength(0);
    expect(chart.body).toMatch(/^xychart-beta\n/);
    expect(chart.line).toEqual(points.map((p) => p.lagSeconds));
    expect(chart.labels).toHaveLength(kept);
    const table = rows(run.summary);
    expect(table.map((r) => Number(r[0]))).toEqual(Array.from({ length: kept }, (_, i) => i + 1));
    expect(table.map((r) => Number(r[2]))).toEqual(chart.line);
    expect(table.map((r) => Number(r[3]))).toEqual(run.changed.slice(-kept));
  });

  it("the status summary draws the same chart, and the CLI the same series as a sparkline", async () => {
    const config = buildConfig({ mode: "status", tables: run.table, "state-store": "file" });
    const status = await runStatus(config, { store: run.store });
    const fromStatus = charts(buildStatusSummary(status));
    expect(fromStatus.map((c) => c.line)).toEqual(charts(run.summary).map((c) => c.line));
    const line = sparkline(status.tables[0].history);
    expect([...line]).toHaveLength(Math.min(n, 48));
    expect(formatStatus(status)).toContain(
      `lag over the last ${Math.min(n, 48)} backfill${n === 1 ? "" : "s"}: ${line}`,
    );
  });
});

describe("sparkline", () => {
  it("scales the series from its lowest bar to its highest", () => {
    const at = "2026-12-01T00:00:00.000Z";
    const points = [0, 10, 20, 40, 80].map((lagSeconds) => ({ at, lagSeconds, changed: 1 }));
    expect(sparkline(points)).toBe("▁▂▃▅█");
    expect(sparkline(points.map((p) => ({ ...p, lagSeconds: 0 })))).toBe("▁▁▁▁▁");
    expect(sparkline([])).toBe("");
  });
});
