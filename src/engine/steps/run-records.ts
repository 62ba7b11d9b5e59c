// What a full sync or backfill records besides watermarks and checkpoints, in one place so the run itself
// (full-sync.ts) only calls in: the copy each record belongs to (copy-id.ts), the progress meter with its ETA
// (progress.ts), and, per completed table, its size and its point in the lag history (state/records.ts).
import type { SyncConfig } from "../../config/schema.js";
import { withBackfill, withSize } from "../../state/records.js";
import type { StateStore } from "../../state/store.js";
import { tableKey } from "../../state/table-key.js";
import type { FullSyncRun, State } from "../../state/state.js";
import type { SideConfig } from "../wire/connection.js";
import { bindToCopies, copyId } from "./copy-id.js";
import { knownSize, ProgressMeter, type Eta, type MeteredProgress } from "./progress.js";
import { tableSucceeded, type TableResult } from "../copy/result.js";
import type { Progress, TablePlan, TableSpec } from "../copy/run-config.js";

export class RunRecords {
  private readonly ids = new Map<string, string>();
  private readonly meter = new ProgressMeter();

  constructor(
    private readonly config: SyncConfig,
    sides: { source: SideConfig; destination: SideConfig },
  ) {
    const def = { ...config, ...sides };
    for (const spec of config.tables) this.ids.set(tableKey(spec), copyId(def, spec));
  }

  /** The copy id a table's records are made by in this run. */
  id(key: string): string | undefined {
    return this.ids.get(key);
  }

  /** The state without the records a different copy made (one sentence each). */
  bind(state: State, describe: (key: string) => string): { state: State; notices: string[] } {
    const renames = this.config.propertyRenames.map((r) => `${r.from}:${r.to}`).join(",");
    return bindToCopies(
      state,
      this.config.mode,
      this.ids,
      { queryFilter: this.config.queryFilter, renames },
      describe,
    );
  }

  /** The run marker with `key` done, by this run's copy. */
  done(marker: FullSyncRun, key: string): FullSyncRun {
    const id = this.ids.get(key);
    const copies = { ...marker.copies, ...(id && { [key]: id }) };
    return { ...marker, done: [...marker.done.filter((k) => k !== key), key], copies };
  }

  start(spec: TableSpec, plan: TablePlan, state: State): void {
    const size = knownSize(state, tableKey(spec), {
      mode: this.config.mode,
      queryFilter: this.config.queryFilter,
      sharded: !!this.config.shard,
    });
    this.meter.start(spec, plan, size);
  }

  progress(p: Progress): MeteredProgress {
    return this.meter.annotate(p);
  }

  /** The table's last ETA (its summary shows it), when its size was known. */
  eta(table: string): Eta | undefined {
    return this.meter.last(table)?.eta;
  }

  /** The state after a table's run: its size (a whole-table full sync) or its lag history point (a backfill). */
  ended(state: State, key: string, r: TableResult): State {
    if (!tableSucceeded(r) || this.config.dryRun || this.config.shard) return state;
    const now = new Date();
    if (this.config.mode === "full-sync" && !this.config.queryFilter) {
      return withSize(state, key, this.meter.total(r.source, r.read), "full-sync", now);
    }
    const end = Date.parse(r.sourceClockAtEnd ?? "");
    const watermark = Date.parse(state.tables[key]?.watermark ?? "");
    if (this.config.mode !== "backfill" || !Number.isFinite(end) || !Number.isFinite(watermark)) return state;
    const lagSeconds = Math.max(0, Math.round((end - watermark) / 1000));
    return withBackfill(state, key, { at: new Date(end), lagSeconds, changed: r.read });
  }
}

/**
 * A backfill read through key ranges (`read-ranges`): its ranges run as shards of one job, each with its own
 * records, so the table's lag history is written once they are all done — one point per table that completed,
 * with the lag of the whole table (the latest range's end against the table's new watermark).
 */
export async function recordRangedBackfills(
  store: StateStore | undefined,
  reports: { result: TableResult; lagSeconds?: number }[],
): Promise<void> {
  const done = reports.filter((r) => tableSucceeded(r.result) && r.lagSeconds !== undefined);
  if (!store || done.length === 0) return;
  let state = await store.load();
  if (!state) return;
  for (const r of done) {
    const at = r.result.sourceClockAtEnd ?? new Date().toISOString();
    state = withBackfill(state, tableKey(r.result), {
      at,
      lagSeconds: r.lagSeconds ?? 0,
      changed: r.result.read,
    });
  }
  await store.save(state);
}
