// The log of a run. Several tables run at once (full sync, backfill, a switch's final backfill), and GitHub's log
// groups can neither nest nor interleave: so one group per phase ("Full sync: 2 tables"), and inside it every
// line about a table starts with the table's name in brackets, `[orders] …`, from its start to its end line.
import * as core from "@actions/core";
import { entitiesPerSecond, type TableResult } from "../engine/copy/result.js";
import { tableLabel } from "../present/names.js";

/** At most one progress line per table this often. */
export const PROGRESS_INTERVAL_MS = 10_000;

/** `[orders]`, or `[users → users2]`. */
export function tag(spec: { source: string; destination: string }): string {
  return `[${tableLabel(spec)}]`;
}

/** At most one group open at a time; a new phase closes the one before. */
export class PhaseGroups {
  private open: string | undefined;

  constructor(private readonly info: (text: string) => void = (t) => core.info(t)) {}

  /** Opens the group `title` unless it is the one open. */
  phase(title: string): void {
    if (this.open === title) return;
    this.close();
    core.startGroup(title);
    this.open = title;
  }

  /** A line inside the current group (if any). */
  line(text: string): void {
    this.info(text);
  }

  close(): void {
    if (this.open === undefined) return;
    core.endGroup();
    this.open = undefined;
  }
}

/** A progress line per table at most every `intervalMs`, each table on its own clock. */
export class ProgressThrottle {
  private readonly last = new Map<string, number>();

  constructor(private readonly intervalMs: number) {}

  /** Starts the table's clock (its start line was just printed). */
  start(table: string): void {
    this.last.set(table, Date.now());
  }

  /** True when the table's next progress line is due (and restarts its clock). */
  due(table: string): boolean {
    const now = Date.now();
    if (now - (this.last.get(table) ?? 0) < this.intervalMs) return false;
    this.last.set(table, now);
    return true;
  }
}

/** A table's last line: `[orders] done: 250 read, 250 written, … in 1.2 s (208/s).` */
export function endLine(r: TableResult, what?: string): string {
  const figures = `${r.read} read, ${r.written} written, ${r.skipped} skipped, ${r.failed} failed${r.conflicts ? `, ${r.conflicts} conflicts kept` : ""} in ${(r.durationMs / 1000).toFixed(1)} s (${entitiesPerSecond(r.read, r.durationMs)}/s)`;
  const label = what ? `${what} ` : "";
  return r.error
    ? `${tag(r)} ${label}did not complete: ${figures}; see the error below.`
    : `${tag(r)} ${label}done: ${figures}.`;
}
