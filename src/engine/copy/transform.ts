// Property renames and the guards that keep a destination from refusing (or silently losing) data.
import { propertyNames, type WireEntity, type WireValue } from "../wire/edm.js";
import type { ServiceKind } from "../wire/service-kind.js";

export interface Rename {
  from: string;
  to: string;
}

/** Cosmos DB for Table refuses these property names (case-insensitive). */
export const COSMOS_RESERVED = ["id", "etag", "rid", "ResourceId"];
const RESERVED_LOWER = new Set(COSMOS_RESERVED.map((n) => n.toLowerCase()));

export function isCosmosReserved(name: string): boolean {
  return RESERVED_LOWER.has(name.toLowerCase());
}

export class TransformError extends Error {}

export interface Transformer {
  /** The entity as the destination should receive it; throws TransformError with a clear message. */
  apply(entity: WireEntity): WireEntity;
}

export function createTransformer(opts: {
  renames: Rename[];
  destinationKind: ServiceKind;
  sourceTable: string;
}): Transformer {
  const map = new Map(opts.renames.map((r) => [r.from, r.to]));
  const guardReserved = opts.destinationKind === "cosmos";
  // A rename onto a reserved name would fail every entity that has the property: say it once, up front.
  const onto = guardReserved ? opts.renames.find((r) => isCosmosReserved(r.to)) : undefined;
  if (onto) {
    throw new TransformError(
      `property-renames maps '${onto.from}' to '${onto.to}', which Cosmos DB for Table reserves; choose another name (e.g. '${onto.from}:${suggestName(onto.to)}').`,
    );
  }
  if (map.size === 0 && !guardReserved) return { apply: (e) => e };
  const reservedError = (entity: WireEntity, name: string) =>
    new TransformError(
      `Table ${opts.sourceTable}, PartitionKey '${entity.partitionKey}', RowKey '${entity.rowKey}': ` +
        `property '${name}' is reserved by Cosmos DB for Table; add the rename '${name}:${suggestName(name)}' ` +
        `to property-renames.`,
    );
  if (map.size === 0) {
    // Names only (every copy to Cosmos DB for Table): a page entity is checked without parsing it, and
    // each name's verdict is kept (a table has few names, and every entity has them).
    const verdicts = new Map<string, boolean>();
    return {
      apply(entity) {
        for (const name of propertyNames(entity)) {
          let reserved = verdicts.get(name);
          if (reserved === undefined) {
            reserved = isCosmosReserved(name);
            if (verdicts.size < 4096) verdicts.set(name, reserved);
          }
          if (reserved) throw reservedError(entity, name);
        }
        return entity;
      },
    };
  }
  return {
    apply(entity) {
      let changed = false;
      const out = new Map<string, WireValue>();
      for (const [name, value] of entity.properties) {
        const target = map.get(name);
        if (target !== undefined) {
          changed = true;
          if (entity.properties.has(target) && !map.has(target)) {
            throw new TransformError(
              `Table ${opts.sourceTable}, PartitionKey '${entity.partitionKey}', RowKey '${entity.rowKey}': ` +
                `renaming property '${name}' to '${target}' collides with an existing property '${target}'; ` +
                `choose another name in property-renames.`,
            );
          }
          out.set(target, value);
          continue;
        }
        if (guardReserved && isCosmosReserved(name)) throw reservedError(entity, name);
        out.set(name, value);
      }
      if (guardReserved) {
        for (const name of out.keys()) {
          if (isCosmosReserved(name)) {
            throw new TransformError(
              `Table ${opts.sourceTable}, PartitionKey '${entity.partitionKey}', RowKey '${entity.rowKey}': ` +
                `property-renames maps a property to '${name}', which Cosmos DB for Table reserves; choose another name.`,
            );
          }
        }
      }
      // The ETag by name: a page entity reads it on demand (entity-page.ts), and spreading copies fields only.
      return changed ? { ...entity, etag: entity.etag, properties: out } : entity;
    },
  };
}

/** `id` → `entityId`, `etag` → `entityEtag`: the names the seed's guide uses. */
export function suggestName(name: string): string {
  return `entity${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}
