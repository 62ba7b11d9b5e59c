// Sharded copies: the shards of a table (matrix jobs with `shard: i/n`, or `read-ranges` inside one job)
// agree on one plan of key ranges through the state store, and each reads its own range.
import type { SyncConfig } from "../../config/schema.js";
import type { ShardPlans } from "../../state/shard-view.js";
import { emptyState, StateError, type State } from "../../state/state.js";
import type { StateStore } from "../../state/store.js";
import { tableKey } from "../../state/table-key.js";
import { connect } from "../copy/connect.js";
import { SerialQueue } from "../copy/pool.js";
import {
  sampleShardPlan,
  shardId,
  shardRange,
  type KeyRange,
  type Shard,
  type ShardPlan,
} from "../copy/shard.js";
import type { MigrationDeps } from "./engine-config.js";
import { describeTable } from "./messages.js";

export interface ShardSetup {
  sid: string;
  /** The stored document when the run began (the view is made from it). */
  latest: State;
  /** Per table key: the plan id this shard reads by, and its key range. */
  plans: ShardPlans;
  ranges: Map<string, KeyRange>;
  /** Tables whose keys could not be sampled (e.g. a missing source table): they fail alone. */
  failures: Map<string, Error>;
  /** The document this shard saved last. */
  carry?: State;
}

/**
 * Agree on each table's shard plan with the other shards: use the stored plan for this n, or sample the keys and
 * store ours unless another shard stored one first; then, after a pause long enough for a concurrent save to
 * land, read the plans back and take what is stored. Should two shards still read by different plans, no table
 * watermark is derived from them (see `combinedWatermark`), so nothing a backfill relies on can be missed.
 */
export async function prepareShards(
  config: SyncConfig,
  shard: Shard,
  deps: MigrationDeps,
  store: StateStore | undefined,
  notice: (text: string) => void,
): Promise<ShardSetup> {
  if (!store) {
    throw new StateError(
      "Input 'shard' needs a state store shared by the shards (the cache or a repository variable, or --state-file for the CLI): the shards agree on their key ranges and each keeps its own checkpoint and watermark there.",
    );
  }
  const sid = shardId(shard);
  const conn = connect({ source: deps.source, destination: deps.destination, retry: deps.retry });
  const failures = new Map<string, Error>();
  const sampled = new Map<string, ShardPlan>();
  let latest = (await store.load()) ?? emptyState();
  const storedPlan = (s: State, key: string) => {
    const p = s.tables[key]?.shardPlan;
    return p && p.count === shard.count ? p : undefined;
  };
  const pollMs = deps.shardPollMs ?? 5_000;
  const beatMs = deps.shardHeartbeatMs ?? 20_000;
  /**
   * While another shard samples the table (its heartbeat in the state keeps changing), wait for its plan
   * rather than scanning the keys once more; a heartbeat still for three beats means it stopped. Only
   * changes are compared, never the other runner's clock.
   */
  const awaitSampler = async (key: string): Promise<State> => {
    let seen: string | undefined;
    let changedAt = Date.now();
    for (;;) {
      const s = (await store.load()) ?? emptyState();
      const m = s.tables[key]?.shardSampling;
      if (storedPlan(s, key) || !m || m.count !== shard.count || m.by === sid) return s;
      const beat = `${m.by}#${m.beat}`;
      if (beat !== seen) {
        seen = beat;
        changedAt = Date.now();
      } else if (Date.now() - changedAt > 3 * beatMs) return s;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };
  const announce = async (key: string, beat: number) => {
    if (config.dryRun) return; // a dry run leaves the state as it is
    const s = (await store.load()) ?? emptyState();
    if (storedPlan(s, key)) return;
    const entry = { ...s.tables[key], shardSampling: { count: shard.count, by: sid, beat } };
    await store.save({ ...s, tables: { ...s.tables, [key]: entry } });
  };
  for (const spec of config.tables) {
    const key = tableKey(spec);
    if (storedPlan(latest, key)) continue;
    if (!config.dryRun) latest = await awaitSampler(key);
    if (storedPlan(latest, key)) continue;
    // Our turn to scan the keys: say so, and keep saying so while the scan runs.
    const beats = new SerialQueue();
    let beat = 1;
    await beats.push(() => announce(key, beat)).catch(() => undefined);
    const timer = setInterval(
      () => void beats.push(() => announce(key, ++beat)).catch(() => undefined),
      beatMs,
    );
    try {
      sampled.set(
        key,
        await sampleShardPlan(conn.source, spec.source, shard.count, { filter: config.queryFilter }),
      );
    } catch (err) {
      failures.set(key, err instanceof Error ? err : new Error(String(err)));
    } finally {
      clearInterval(timer);
      await beats.push(async () => undefined);
    }
    if (failures.has(key)) {
      // Do not keep the other shards waiting for a plan that will not come.
      const s = (await store.load()) ?? emptyState();
      if (s.tables[key]?.shardSampling?.by === sid) {
        const entry = { ...s.tables[key] };
        delete entry.shardSampling;
        await store.save({ ...s, tables: { ...s.tables, [key]: entry } });
      }
    }
  }
  if (sampled.size > 0 && config.dryRun) {
    // A dry run stores nothing: it counts by its own sample (shards sampling apart may then overlap a little).
    const tables = { ...latest.tables };
    for (const [key, plan] of sampled)
      tables[key] = { ...tables[key], shardPlan: { ...plan, at: new Date().toISOString() } };
    latest = { ...latest, tables };
  } else if (sampled.size > 0) {
    // First plan stored wins: reload right before saving, keep any plan another shard stored meanwhile.
    const now = (await store.load()) ?? emptyState();
    const tables = { ...now.tables };
    let changed = false;
    for (const [key, plan] of sampled) {
      if (storedPlan(now, key)) continue;
      const entry = { ...tables[key], shardPlan: { ...plan, at: new Date().toISOString() } };
      delete entry.shardSampling;
      tables[key] = entry;
      changed = true;
    }
    if (changed) await store.save({ ...now, tables });
    await new Promise((r) => setTimeout(r, deps.shardSettleMs ?? 3_000));
    latest = (await store.load()) ?? emptyState();
  }
  const plans: ShardPlans = new Map();
  const ranges = new Map<string, KeyRange>();
  for (const spec of config.tables) {
    const key = tableKey(spec);
    if (failures.has(key)) continue;
    const plan = storedPlan(latest, key);
    if (!plan) {
      failures.set(
        key,
        new StateError(
          `Table ${describeTable(key, config.tables)}: the shard plan could not be stored in ${store.describe()}; run the shard again.`,
        ),
      );
      continue;
    }
    plans.set(key, plan.id);
    const range = shardRange(plan, shard.index);
    ranges.set(key, range);
    notice(
      `${deps.inProcessShards ? "Range" : "Shard"} ${sid} of table ${describeTable(key, config.tables)} reads PartitionKey ${describeRange(range)} (plan ${plan.id}, sampled from ${plan.sampledFrom} entities).`,
    );
  }
  return { sid, latest, plans, ranges, failures };
}

function describeRange(range: KeyRange): string {
  const from = range.from === undefined ? "from the start" : `from '${range.from}'`;
  const to = range.to === undefined ? "to the end" : `up to (not including) '${range.to}'`;
  return `${from} ${to}`;
}
