// When two entities are the same: a canonical text of each typed value, a digest of an entity's properties
// in any order, and the seeded choice of a sample — what verify compares and spills to disk.
import { createHash } from "node:crypto";
import { normalizeDateTime, type WireEntity, type WireValue } from "../wire/edm.js";
import type { EntityKey } from "../wire/point-read.js";
import { DIGEST_BYTES } from "./spill.js";

/** A property value in a canonical text: values `wireValuesEqual` calls equal give the same text. */
export function canonicalValue(v: WireValue): string {
  const s = String(v.value);
  switch (v.type) {
    case "Edm.Double": {
      if (s === "NaN" || s === "Infinity" || s === "-Infinity") return s;
      const n = Number(s);
      if (!Number.isFinite(n)) return `~${s}`; // an overflowing literal: equal only to itself
      return Object.is(n, -0) ? "-0" : String(n);
    }
    case "Edm.Int32":
      return String(Number(s));
    case "Edm.Int64":
      try {
        return BigInt(s).toString();
      } catch {
        return `~${s}`;
      }
    case "Edm.Guid":
      return s.toLowerCase();
    case "Edm.DateTime":
      return normalizeDateTime(s);
    case "Edm.Boolean":
      return v.value === true || v.value === "true" ? "true" : "false";
    default:
      return s;
  }
}

/** A 16-byte digest (latin1 string) of an entity's typed properties, independent of their order. */
export function propertiesDigest(entity: WireEntity): string {
  const names = [...entity.properties.keys()].sort();
  let text = "";
  for (const name of names) {
    const v = entity.properties.get(name) as WireValue;
    text += `${JSON.stringify(name)}\u0001${v.type}\u0001${JSON.stringify(canonicalValue(v))}\u0002`;
  }
  return createHash("sha1").update(text).digest().toString("latin1", 0, DIGEST_BYTES);
}

/** Whether the seeded sample includes this entity: the same seed always picks the same entities. */
export function inSample(seed: string, fraction: number, key: EntityKey): boolean {
  const h = createHash("sha1").update(`${seed}\u0000${key.partitionKey}\u0000${key.rowKey}`).digest();
  return h.readUInt32BE(0) < fraction * 2 ** 32;
}

export function mapKey(pk: string, rk: string): string {
  return `${pk.length}:${pk}${rk}`;
}

export function unmapKey(key: string): EntityKey {
  const colon = key.indexOf(":");
  const len = Number(key.slice(0, colon));
  return { partitionKey: key.slice(colon + 1, colon + 1 + len), rowKey: key.slice(colon + 1 + len) };
}
