// The bench matrix's figures per cell: the best of each kind, the ceiling and our ratio to it, and the
// table the console shows.
import { fmt, mb } from "./format.js";
import type { Cell, Measurement } from "./matrix-measure.js";
import type { Options } from "./matrix-options.js";

/** Table Storage's scalability target per account: no copy is faster than this. */
export const ACCOUNT_TARGET = 20_000;

export const shapeName = (c: Cell) =>
  `${c.unsorted ? "unsorted (Cosmos source), " : ""}${fmt(c.perPartition)} per partition`;

export interface Row {
  cell: Cell;
  ours?: Measurement;
  scan?: Measurement;
  writes?: Measurement;
  ceiling: number;
  ratio: number;
}

/** Best of each kind per cell (noise on a shared machine only slows a run down). */
export function summarize(opts: Options, ms: Measurement[]): Row[] {
  const rows: Row[] = [];
  const cells = new Map<string, Cell>();
  for (const m of ms) cells.set(`${m.cell.perPartition}/${m.cell.rttMs}/${m.cell.unsorted}`, m.cell);
  for (const cell of cells.values()) {
    const of = (kind: Measurement["kind"]) =>
      ms
        .filter((m) => m.cell === cell && m.kind === kind)
        .reduce<Measurement | undefined>((b, m) => (!b || m.rate > b.rate ? m : b), undefined);
    const ours = of("ours");
    const scan = of("scan");
    const writes = of("writes");
    const ceiling = Math.min(scan?.rate ?? Infinity, writes?.rate ?? Infinity, ACCOUNT_TARGET);
    rows.push({ cell, ours, scan, writes, ceiling, ratio: ours ? ours.rate / ceiling : 0 });
  }
  void opts;
  return rows;
}

export const cpuPerEntity = (m?: Measurement) =>
  m && m.entities > 0 ? fmt((m.cpuMs * 1000) / m.entities) : "–";
export const check = (r: Row) =>
  !r.ours
    ? "–"
    : r.ours.timedOut
      ? `timed out (${fmt(r.ours.entities)} copied)`
      : r.ours.ok && r.scan?.ok !== false && r.writes?.ok !== false
        ? "all entities"
        : "MISMATCH";

export function consoleTable(rows: Row[]): string[] {
  const head = [
    "shape",
    "rtt",
    "ours/s",
    "scan/s",
    "writes/s",
    "ceiling/s",
    "ratio",
    "CPU µs/e",
    "RSS MB",
    "verified",
  ];
  const body = rows.map((r) => [
    r.cell.unsorted ? `${r.cell.perPartition}/part unsorted` : `${r.cell.perPartition}/part`,
    `${r.cell.rttMs} ms`,
    r.ours ? fmt(r.ours.rate) : "–",
    r.scan ? fmt(r.scan.rate) : "–",
    r.writes ? fmt(r.writes.rate) : "–",
    fmt(r.ceiling),
    `${r.ratio.toFixed(2)}${r.ratio >= 0.8 ? "" : " ✗"}`,
    cpuPerEntity(r.ours),
    r.ours ? mb(r.ours.maxRssKb) : "–",
    check(r),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 || i === 9 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(head), ...body.map(line)];
}
