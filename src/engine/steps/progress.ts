// Progress with an ETA: when a table's size is known (preflight's count or the last complete full sync's,
// kept in the state), a full sync's progress says how far along it is, how fast it goes and how long is left.
// The size is the whole table's, so it is used only for a full sync of the whole table (no query-filter, no
// shard); any other run reports entities and rate as before.
import type { State } from "../../state/state.js";
import type { Progress, TablePlan, TableSpec } from "../copy/run-config.js";

export interface Eta {
  /** Entities the table holds, and who counted them (preflight, full-sync). */
  expected: number;
  sizeBy: string;
  /** Entities read so far, over every resumed run. */
  done: number;
  /** 0–100, one decimal; never more than 100 (the table may have grown since it was counted). */
  percent: number;
  /** Entities per second read by this run. */
  perSecond: number;
  /** Seconds left at that rate (undefined before the rate is known; 0 once the count is reached). */
  secondsLeft?: number;
}

export interface MeteredProgress extends Progress {
  /** Entities per second read by this run so far (not given for a table read through several ranges). */
  perSecond?: number;
  eta?: Eta;
}

/** The table's known size for this run, or undefined when the run's progress cannot be measured against it. */
export function knownSize(
  state: State | undefined,
  key: string,
  run: { mode: string; queryFilter?: string; sharded: boolean },
): { entities: number; by: string } | undefined {
  if (run.mode !== "full-sync" || run.queryFilter || run.sharded) return undefined;
  const size = state?.tables[key]?.size;
  return size && size.entities > 0 ? { entities: size.entities, by: size.by } : undefined;
}

interface Meter {
  startedMs: number;
  base: number;
  size?: { entities: number; by: string };
  last?: MeteredProgress;
}

export class ProgressMeter {
  private readonly tables = new Map<string, Meter>();

  constructor(private readonly now: () => number = Date.now) {}

  start(spec: TableSpec, plan: TablePlan, size: { entities: number; by: string } | undefined): void {
    this.tables.set(spec.source, { startedMs: this.now(), base: plan.resume?.read ?? 0, size });
  }

  annotate(p: Progress): MeteredProgress {
    const m = this.tables.get(p.table);
    const elapsed = m ? this.now() - m.startedMs : 0;
    const perSecond = elapsed > 0 ? Math.round((p.read * 1000) / elapsed) : 0;
    const out: MeteredProgress = { ...p, perSecond };
    if (m?.size) out.eta = etaOf(m.size, m.base + p.read, perSecond);
    if (m) m.last = out;
    return out;
  }

  /** Entities read over every resumed run (the count a complete table's size is recorded as). */
  total(table: string, readThisRun: number): number {
    return (this.tables.get(table)?.base ?? 0) + readThisRun;
  }

  /** The table's last progress (with its ETA, when its size is known). */
  last(table: string): MeteredProgress | undefined {
    return this.tables.get(table)?.last;
  }
}

export function etaOf(size: { entities: number; by: string }, done: number, perSecond: number): Eta {
  const left = Math.max(0, size.entities - done);
  return {
    expected: size.entities,
    sizeBy: size.by,
    done,
    percent: Math.min(100, Math.round((done * 1000) / size.entities) / 10),
    perSecond,
    secondsLeft: left === 0 ? 0 : perSecond > 0 ? Math.ceil(left / perSecond) : undefined,
  };
}
