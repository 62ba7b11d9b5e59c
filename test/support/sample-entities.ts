// Entities that use every EDM type and the values other tools lose: whole-number Doubles, Int64 beyond
// 2^53, DateTimes with 7 fractional digits, NaN and ±Infinity, Binary, Guid. Used by tests and the demo.
import type { WireEntity, WireValue } from "../../src/engine/wire/edm.js";

const SPECIAL_DOUBLES = ["1.0", "NaN", "Infinity", "-Infinity", "1.7976931348623157E+308", "5E-324", "-2.5"];
const SPECIAL_INT64 = ["9223372036854775807", "-9223372036854775808", "9007199254740993"];

function hex(n: number, width: number): string {
  return (n >>> 0).toString(16).padStart(width, "0").slice(-width);
}

/** A deterministic GUID for entity i. */
export function sampleGuid(i: number): string {
  return `${hex(i * 2654435761, 8)}-${hex(i, 4)}-4${hex(i >> 4, 3)}-8${hex(i * 7, 3)}-${hex(i * 40503, 8)}${hex(i * 17, 4)}`;
}

/** Entity number i of a sample table: `partitions` partitions, every type in every entity. */
export function sampleEntity(i: number, partitions = 10, extra: Record<string, WireValue> = {}): WireEntity {
  const pk = `p${String(i % partitions).padStart(2, "0")}`;
  const rk = `r${String(i).padStart(6, "0")}`;
  const seconds = String(i % 60).padStart(2, "0");
  const fraction = String((i * 1234567) % 10_000_000).padStart(7, "0");
  const properties = new Map<string, WireValue>([
    ["name", { type: "Edm.String", value: i % 7 === 0 ? `Ünïcödé ✓ item ${i}` : `item ${i}` }],
    ["count", { type: "Edm.Int32", value: String(i % 3 === 0 ? -i : i) }],
    [
      "big",
      {
        type: "Edm.Int64",
        value: i < SPECIAL_INT64.length ? SPECIAL_INT64[i] : String(2n ** 53n + BigInt(i) * 1_000_003n),
      },
    ],
    [
      "price",
      { type: "Edm.Double", value: i < SPECIAL_DOUBLES.length ? SPECIAL_DOUBLES[i] : `${i % 1000}.0` },
    ],
    ["ratio", { type: "Edm.Double", value: i % 5 === 0 ? "NaN" : `${i}.125` }],
    ["when", { type: "Edm.DateTime", value: `2024-05-01T12:34:${seconds}.${fraction}Z` }],
    ["guid", { type: "Edm.Guid", value: sampleGuid(i) }],
    [
      "blob",
      { type: "Edm.Binary", value: Buffer.from([i & 255, (i >> 8) & 255, 0, 255, 42]).toString("base64") },
    ],
    ["active", { type: "Edm.Boolean", value: i % 2 === 0 }],
  ]);
  for (const [k, v] of Object.entries(extra)) properties.set(k, v);
  return { partitionKey: pk, rowKey: rk, properties };
}

export function sampleEntities(count: number, partitions = 10, from = 0): WireEntity[] {
  return Array.from({ length: count }, (_, k) => sampleEntity(from + k, partitions));
}
