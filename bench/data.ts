// The bench's entities: deterministic (entity i is the same in every process), about 1 KB of JSON
// each, with every EDM type the engine must keep exact.
import type { WireEntity, WireValue } from "../src/engine/wire/edm.js";
import { prng } from "../test/support/prng.js";

export interface Layout {
  entities: number;
  partitions: number;
}

const WORDS = (
  "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa " +
  "quebec romeo sierra tango uniform victor whiskey xray yankee zulu table storage cosmos partition row " +
  "transaction entity migration watermark backfill continuation"
).split(" ");

function words(next: () => number, chars: number): string {
  let s = "";
  while (s.length < chars) s += (s ? " " : "") + WORDS[Math.floor(next() * WORDS.length)];
  return s.slice(0, chars);
}

function hex(next: () => number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += Math.floor(next() * 16).toString(16);
  return s;
}

/** Entities in partition `p` (partitions get ⌊N/P⌋, the first N mod P one more). */
export function partitionSize(layout: Layout, p: number): number {
  const base = Math.floor(layout.entities / layout.partitions);
  return base + (p < layout.entities % layout.partitions ? 1 : 0);
}

export function partitionKey(p: number): string {
  return `p${String(p).padStart(5, "0")}`;
}

export function rowKey(r: number): string {
  return `r${String(r).padStart(8, "0")}`;
}

/** Entity number `r` of partition `p`. */
export function makeEntity(p: number, r: number): WireEntity {
  const next = prng(p * 1_000_003 + r * 7919 + 1);
  const props = new Map<string, WireValue>();
  const ms = Date.UTC(2015, 0, 1) + Math.floor(next() * 3e11);
  const ticks = String(Math.floor(next() * 1e7)).padStart(7, "0");
  const bytes = Buffer.alloc(192);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
  props.set("Name", { type: "Edm.String", value: words(next, 40) });
  props.set("Description", { type: "Edm.String", value: words(next, 200) });
  props.set("Tags", { type: "Edm.String", value: words(next, 60) });
  props.set("Count", { type: "Edm.Int32", value: String(Math.floor(next() * 2 ** 31) - 2 ** 30) });
  props.set("Sequence", {
    type: "Edm.Int64",
    value: String(BigInt(Math.floor(next() * 2 ** 53)) * 1024n + BigInt(r)),
  });
  // A whole-number Double on every fourth entity: the case JSON.parse would retype as Int32.
  props.set("Ratio", { type: "Edm.Double", value: r % 4 === 0 ? `${r % 1000}.0` : String(next() * 1000) });
  props.set("Price", { type: "Edm.Double", value: (Math.floor(next() * 1e6) / 100).toFixed(2) });
  props.set("Created", {
    type: "Edm.DateTime",
    value: new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${ticks}Z`),
  });
  props.set("Updated", { type: "Edm.DateTime", value: new Date(ms + 86_400_000).toISOString() });
  props.set("Owner", {
    type: "Edm.Guid",
    value: `${hex(next, 8)}-${hex(next, 4)}-4${hex(next, 3)}-a${hex(next, 3)}-${hex(next, 12)}`,
  });
  props.set("Payload", { type: "Edm.Binary", value: bytes.toString("base64") });
  props.set("Active", { type: "Edm.Boolean", value: next() < 0.5 });
  return { partitionKey: partitionKey(p), rowKey: rowKey(r), properties: props };
}

/** Every entity, partition by partition, in the order the service sorts them. */
export function* entities(layout: Layout): Generator<WireEntity> {
  for (let p = 0; p < layout.partitions; p++) {
    const n = partitionSize(layout, p);
    for (let r = 0; r < n; r++) yield makeEntity(p, r);
  }
}
