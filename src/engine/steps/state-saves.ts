// A copy step's saves of the state as it goes: one after another within a run; for shards, one queue per
// store in this process, each save merging the shard's view into the stored document and checking it landed.
import { mergeShardView, shardRecords } from "../../state/shard-view.js";
import { emptyState, type State } from "../../state/state.js";
import type { StateStore } from "../../state/store.js";
import { SerialQueue } from "../copy/pool.js";
import { MAX_OUR_WRITES } from "../copy/post-switch.js";
import type { MigrationDeps } from "./engine-config.js";
import type { ShardSetup } from "./shards.js";

const queues = new WeakMap<StateStore, SerialQueue>();

/** One queue per store: shards of one process load, merge and save one after another. */
function storeQueue(store: StateStore): SerialQueue {
  let q = queues.get(store);
  if (!q) queues.set(store, (q = new SerialQueue()));
  return q;
}

export interface StateSaves {
  /** Queue a save of the run's state as it is when the save's turn comes. */
  persist(): Promise<void>;
  /** Before a shard exits: make sure its last save was not overwritten by another shard's. */
  confirm(): Promise<void>;
}

/** The saves of one copy run; `current` is the run's state at the moment it is read. */
export function stateSaves(
  store: StateStore | undefined,
  sharded: ShardSetup | undefined,
  deps: MigrationDeps,
  current: () => State,
): StateSaves {
  // Tables are copied several at once: their saves go one after another, each storing the state as it is then.
  const saves = new SerialQueue();
  const persist = () => saves.push(() => save(current()));
  const save = async (next: State) => {
    if (!store) return;
    if (!sharded) return store.save(next);
    return storeQueue(store).push(() => mergeSave(next));
  };
  const mergeSave = async (next: State) => {
    if (!store || !sharded) return;
    // Another shard may save between our load and our save: read back, and merge again until ours is there.
    for (let attempt = 0; ; attempt++) {
      const latest = (await store.load()) ?? emptyState();
      const merged = mergeShardView(latest, next, sharded.sid, sharded.plans, sharded.carry, MAX_OUR_WRITES);
      await store.save(merged);
      sharded.carry = merged;
      const stored = await store.load();
      const mine = shardRecords(merged, sharded.sid, sharded.plans);
      if (shardRecords(stored, sharded.sid, sharded.plans) === mine || attempt >= 4) return;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
    }
  };
  /**
   * Before a shard exits: another shard that loaded before our last save may still overwrite it. Wait longer
   * than such a load-and-save takes, then check that our records are stored, and save them again if not.
   */
  const confirm = async () => {
    if (!store || !sharded?.carry || deps.inProcessShards) return;
    for (let attempt = 0; attempt < 5; attempt++) {
      await new Promise((r) => setTimeout(r, (deps.shardSettleMs ?? 3_000) * (1 + Math.random())));
      const stored = await store.load();
      if (
        shardRecords(stored, sharded.sid, sharded.plans) ===
        shardRecords(sharded.carry, sharded.sid, sharded.plans)
      )
        return;
      await persist();
    }
  };
  return { persist, confirm };
}
