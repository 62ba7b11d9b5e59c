// The free source's table (free-source.ts): its entities, each as the services render it in a query
// answer, and the continuation tokens of Table Storage and of Cosmos DB for Table.
import { doubleLiteral, type WireEntity } from "../src/engine/wire/edm.js";
import { makeEntity } from "./data.js";
import { etagOf } from "./free-wire.js";
/** One entity of the table: its keys and its JSON as the service returns it in a query. */
export interface Row {
  partitionKey: string;
  rowKey: string;
  json: Buffer;
  entity: WireEntity;
  timestamp: string;
  /** Where the row is served in a plain scan (its index in `rows`). */
  at: number;
}

/** The entities of a table shape: N entities, K per partition, in key order. */
export function* shapeEntities(entities: number, perPartition: number): Generator<WireEntity> {
  for (let i = 0; i < entities; i++) {
    const p = Math.floor(i / perPartition);
    yield makeEntity(p, i % perPartition);
  }
}

/** Number of pages a plain scan of `entities` takes. */
export function pagesOf(entities: number, pageSize = 1000): number {
  return Math.max(1, Math.ceil(entities / pageSize));
}

export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One entity's JSON in a query answer (minimal metadata): annotations only where the value needs one. */
export function queryJson(e: WireEntity, timestamp: string, select?: Set<string>): string {
  const want = (name: string) => select === undefined || select.has(name);
  let out = `{"odata.etag":${JSON.stringify(etagOf(timestamp))}`;
  if (want("PartitionKey")) out += `,"PartitionKey":${JSON.stringify(e.partitionKey)}`;
  if (want("RowKey")) out += `,"RowKey":${JSON.stringify(e.rowKey)}`;
  if (want("Timestamp")) out += `,"Timestamp":"${timestamp}"`;
  for (const [name, v] of e.properties) {
    if (!want(name)) continue;
    const key = JSON.stringify(name);
    const raw = String(v.value);
    switch (v.type) {
      case "Edm.String":
        out += `,${key}:${JSON.stringify(raw)}`;
        break;
      case "Edm.Int32":
      case "Edm.Boolean":
        out += `,${key}:${raw}`;
        break;
      case "Edm.Double":
        out +=
          raw === "NaN" || raw === "Infinity" || raw === "-Infinity"
            ? `,${JSON.stringify(`${name}@odata.type`)}:"Edm.Double",${key}:"${raw}"`
            : `,${key}:${doubleLiteral(raw)}`;
        break;
      default:
        out += `,${JSON.stringify(`${name}@odata.type`)}:"${v.type}",${key}:${JSON.stringify(raw)}`;
    }
  }
  return `${out}}`;
}

/** Table Storage's style of continuation token for a key: `1!<length>!<base64>`. */
export function storageToken(key: string): string {
  const b64 = Buffer.from(key, "utf8").toString("base64");
  return `1!${b64.length}!${b64}`;
}

export function fromStorageToken(token: string): string | undefined {
  const m = /^1!(\d+)!(.*)$/.exec(token);
  if (!m || Number(m[1]) !== m[2].length) return undefined;
  return Buffer.from(m[2], "base64").toString("utf8");
}

/** Cosmos DB for Table's style: `{"token":"…","range":{"min":"","max":"FF"}}`. */
export function cosmosToken(offset: number): string {
  const token = Buffer.from(`bench:${offset}`).toString("base64");
  return JSON.stringify({ token, range: { min: "", max: "FF" } });
}

export function fromCosmosToken(text: string): number | undefined {
  try {
    const parsed = JSON.parse(text) as { token?: unknown; range?: unknown };
    if (typeof parsed.token !== "string" || typeof parsed.range !== "object") return undefined;
    const m = /^bench:(\d+)$/.exec(Buffer.from(parsed.token, "base64").toString("utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The first index of ascending `a` whose value is ≥ `v`. */
export function lowerBoundOf(a: Int32Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
