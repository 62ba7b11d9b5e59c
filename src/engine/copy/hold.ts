// What the writer holds of an unsorted source's entities (Cosmos DB for Table as the source, a rollback)
// while it waits for more of their partitions.
//
// An unsorted source spreads each partition across the whole table. Sent as they come, its entities
// went one request each (the matrix's shuffled table of ten per partition: 25,000 of 50,000 alone,
// 0.34 of the ceiling, 141 µs of CPU an entity); a transaction of ten costs a fraction of ten requests.
// Such a source is read by key ranges sized for this hold (ranged-reader.ts): at a range's end all its
// partitions are complete and go whole (writer.rangeEnded). Until then the writer holds them, as
// compactly as it can, for as long as two limits allow (which also cover a range larger than planned,
// and a plain scan resumed from an older checkpoint):
//   - time (holdMs): a partial transaction waits at most as long as the checkpoint interval, 2 to 30
//     seconds. Its page's resume point waits for it, so a run killed then re-reads what was held: no
//     more than the checkpoints already allow (with `checkpoint-seconds: 1`, about two seconds).
//   - memory (HOLD_BYTES): past it, the fullest partial transactions go first. The bound shrinks while the
//     process's resident memory is above SQUEEZE_ABOVE (requests in flight and pages need room too: a
//     million shuffled entities peaked at 244 MB with the fixed bound) and grows back below it; it also
//     shrinks while what it lets go averages under two entities a transaction — a table too large for
//     its partitions to meet in memory gains nothing from holding, and long-held entities cost the
//     collector (the million: 145 µs of CPU an entity against 114 holding 2,000).
import type { Operation, OperationKind } from "../wire/batch.js";
import { ownKeys, type WireEntity, entityJson } from "../wire/edm.js";
import { EarlySends } from "./early.js";
import { residentMemory } from "./memory.js";

/** How long a partial transaction of an unsorted source waits for more of its partition, at least and most. */
export const HOLD_MS = 2_000;
const HOLD_MS_MAX = 30_000;

/** The hold time for a run saving resume points every `checkpointMs` (undefined: none saved). */
export function holdMs(checkpointMs: number | undefined): number {
  return Math.min(HOLD_MS_MAX, Math.max(HOLD_MS, checkpointMs ?? HOLD_MS_MAX));
}

/**
 * Bytes of held operations before the fullest are sent. With the run's other memory (pages, requests in
 * flight), a million-entity unsorted table stays under 256 MB.
 */
export const HOLD_BYTES = 32 * 1024 * 1024;

/** A held operation's memory besides its JSON: the operation, its keys, its place in its partition's list. */
const OVERHEAD = 256;

export interface Held {
  op: Operation;
  /** What holding it costs, counted against HOLD_BYTES. */
  bytes: number;
}

/**
 * The operation as it is held: its body's JSON (flat, sharing nothing with the page it was read from)
 * and its keys; not the parsed properties, which took three times the JSON's memory. The JSON is then
 * the operation's only body: every request built from it, a resubmission too, uses it (batch.ts).
 */
export function heldOperation(
  kind: OperationKind,
  entity: WireEntity,
  ifMatch: string | undefined,
  mark: unknown,
): Held {
  const json = kind === "delete" ? "" : entityJson(entity);
  return { op: { kind, entity: ownKeys(entity), ifMatch, mark, json }, bytes: heldBytes(entity, json) };
}

/** What holding an entity whose body is `json` costs, counted against HOLD_BYTES. */
export function heldBytes(entity: WireEntity, json: string): number {
  // Measuring the UTF-8 length flattens the string: the pieces it was joined from (slices of the page's
  // text) are let go.
  return Buffer.byteLength(json) + entity.partitionKey.length + entity.rowKey.length + OVERHEAD;
}

/** Resident memory above which the hold's bound shrinks by a quarter (looked at every CHECK_EVERY adds). */
export const SQUEEZE_ABOVE = 216 * 2 ** 20;
const CHECK_EVERY = 256;
/** The least the bound shrinks to: partitions of a few entities still gather. */
const MIN_BYTES = 4 * 2 ** 20;

export interface HoldLimits {
  /** Bytes held before the fullest partial transactions are sent (default HOLD_BYTES). */
  maxBytes?: number;
  /** How long a partial transaction waits for more of its partition (default HOLD_MS; see holdMs). */
  maxMs?: number;
  /** The clock, in ms (tests). */
  now?: () => number;
  /** The process's resident memory in bytes (default: residentMemory, memory.ts; tests). */
  memory?: () => number;
}

/** A partition's partial transaction, as the hold sees it. */
interface Gathering {
  ops: readonly unknown[];
  /** When it was started (the hold's clock). */
  bornAt: number;
}

/** The writer's rules for what an unsorted source's partial transactions may hold, and for how long. */
export class Hold {
  /** What the held operations cost (heldOperation's `bytes`), kept up to date by the writer. */
  bytes = 0;
  readonly now: () => number;
  /** The bound now: maxBytes, less while resident memory is high or holding does not pay. */
  limit: number;
  /** The bound resident memory allows, and the one holding earns (see the header). */
  private memoryLimit: number;
  private payingLimit: number;
  private readonly maxBytes: number;
  private readonly maxMs: number;
  private readonly memory: () => number;
  private adds = 0;
  /** Which partial transactions may go before they are full or due (early.ts). */
  readonly early = new EarlySends();

  constructor(limits: HoldLimits = {}) {
    this.maxBytes = limits.maxBytes ?? HOLD_BYTES;
    this.limit = this.memoryLimit = this.payingLimit = this.maxBytes;
    this.maxMs = limits.maxMs ?? HOLD_MS;
    this.now = limits.now ?? (() => performance.now());
    this.memory = limits.memory ?? residentMemory;
  }

  /** Whether some must go now: memory is over its bound, or the oldest has waited long enough. */
  due(oldest: Gathering | undefined): boolean {
    if (++this.adds % CHECK_EVERY === 0) {
      this.memoryLimit =
        this.memory() > SQUEEZE_ABOVE
          ? Math.max(MIN_BYTES, Math.min(this.memoryLimit, this.bytes) * 0.75)
          : Math.min(this.maxBytes, this.memoryLimit * 1.25);
      this.limit = Math.min(this.memoryLimit, this.payingLimit);
    }
    if (this.bytes > this.limit) return true;
    return oldest !== undefined && this.now() - oldest.bornAt >= this.maxMs;
  }

  /**
   * The partitions to send now, in order, each decided after the one before was sent: those that waited
   * the hold time (oldest first: `open` lists them in the order they were started), then, while memory is
   * over its bound, the fullest down to three quarters of it. Age first: a lone entity would otherwise
   * wait behind fuller partitions until the table ends, holding back every resume point after its page.
   */
  *release<G extends Gathering>(open: () => Iterable<[string, G]>): Generator<string> {
    const expired = this.now() - this.maxMs;
    for (const [key, g] of open()) {
      if (g.bornAt > expired) break;
      yield key;
    }
    if (this.bytes <= this.limit) return;
    // By size (at most 100 operations): one pass, not a sort of every open partition.
    const bySize: string[][] = [];
    for (const [key, g] of open()) (bySize[g.ops.length] ??= []).push(key);
    let transactions = 0;
    let entities = 0;
    for (let size = bySize.length - 1; size > 0; size--) {
      for (const key of bySize[size] ?? []) {
        if (this.bytes <= (this.limit * 3) / 4) return this.paid(transactions, entities);
        transactions++;
        entities += size;
        yield key;
      }
    }
    this.paid(transactions, entities);
  }

  /** After a release over the bound: hold less while it lets go of under two entities a transaction. */
  private paid(transactions: number, entities: number): void {
    if (transactions === 0) return;
    const perTransaction = entities / transactions;
    if (perTransaction < 2) this.payingLimit = Math.max(MIN_BYTES, this.payingLimit * 0.75);
    else if (perTransaction >= 3) this.payingLimit = Math.min(this.maxBytes, this.payingLimit * 1.25);
    this.limit = Math.min(this.memoryLimit, this.payingLimit);
  }
}
