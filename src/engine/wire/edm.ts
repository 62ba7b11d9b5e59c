// Entities with their exact wire types, and the JSON we write for them.
//
// We never let a value pass through a JS number: Doubles keep their literal text, Int64 stays a
// string, DateTime keeps all 7 fractional digits. What we write is built here, not by the SDK's
// serializer, because the SDK sends a whole-number Double as the string "1.0" and Cosmos was reported
// to store an annotated bare `1` as Int32.
import { pageShape } from "./json-scan.js";
import {
  RawNumber,
  pageCursor,
  parseRawJson,
  parseRawPage,
  type RawJson,
  type RawMembers,
} from "./raw-json.js";

export type EdmType =
  | "Edm.String"
  | "Edm.Int32"
  | "Edm.Int64"
  | "Edm.Double"
  | "Edm.Boolean"
  | "Edm.DateTime"
  | "Edm.Guid"
  | "Edm.Binary";

export const EDM_TYPES: ReadonlySet<string> = new Set<string>([
  "Edm.String",
  "Edm.Int32",
  "Edm.Int64",
  "Edm.Double",
  "Edm.Boolean",
  "Edm.DateTime",
  "Edm.Guid",
  "Edm.Binary",
]);

/**
 * A property value as it travels. `value` is the JSON string's content for strings, Int64, DateTime,
 * Guid and Binary; the number literal's text for Int32 and finite Doubles; `NaN`, `Infinity` or
 * `-Infinity` for non-finite Doubles; a boolean for Boolean.
 */
export interface WireValue {
  type: EdmType;
  value: string | boolean;
}

export interface WireEntity {
  partitionKey: string;
  rowKey: string;
  /** Custom properties in wire order (PartitionKey, RowKey, Timestamp and odata.* excluded). */
  properties: Map<string, WireValue>;
  /** The server's Timestamp, 7 fractional digits, when it was read from a service. */
  timestamp?: string;
  /** The server's ETag (`odata.etag`), when it was read from a service. */
  etag?: string;
}

export class EntityFormatError extends Error {}

export const NON_FINITE: ReadonlySet<string> = new Set(["NaN", "Infinity", "-Infinity"]);
export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

function typeOfUnannotated(value: RawJson): EdmType | undefined {
  if (typeof value === "string") return "Edm.String";
  if (typeof value === "boolean") return "Edm.Boolean";
  if (value instanceof RawNumber) {
    if (/[.eE]/.test(value.raw)) return "Edm.Double";
    const n = Number(value.raw);
    // An unannotated integer beyond Int32 is not something Table Storage sends; keep it exact as Int64.
    return n >= INT32_MIN && n <= INT32_MAX ? "Edm.Int32" : "Edm.Int64";
  }
  return undefined; // null, arrays, objects: not table property values
}

/** Turn one parsed entity object from a query response into a WireEntity. */
export function entityFromRaw(obj: Map<string, RawJson>): WireEntity {
  return entityFromMembers([...obj.keys()], [...obj.values()]);
}

/** The suffix of a member that gives another member's type. */
export const ANNOTATION = "@odata.type";

/** Whether `k` is `<key>@odata.type` (`length` is that name's length). */
function annotates(k: string, key: string, length: number): boolean {
  return k.length === length && k.endsWith(ANNOTATION) && k.startsWith(key);
}

/** The type annotation of the property at `i`: the string value of the member `<key>@odata.type`. */
function annotationOf(keys: string[], values: RawJson[], i: number): string | undefined {
  const key = keys[i];
  const length = key.length + ANNOTATION.length;
  // The service writes the annotation just before its property; look there first, then everywhere.
  let j = i - 1;
  if (j < 0 || !annotates(keys[j], key, length)) {
    for (j = 0; j < keys.length; j++) if (annotates(keys[j], key, length)) break;
    if (j === keys.length) return undefined;
  }
  const annotation = values[j];
  return typeof annotation === "string" ? annotation : undefined;
}

/** An entity object's members in wire order, no key twice (what a Map of it holds), as a WireEntity. */
function entityFromMembers(keys: string[], values: RawJson[]): WireEntity {
  let partitionKey: string | undefined;
  let rowKey: string | undefined;
  let timestamp: string | undefined;
  let etag: string | undefined;
  const properties = new Map<string, WireValue>();
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const value = values[i];
    if (key === "PartitionKey") {
      partitionKey = String(value);
      continue;
    }
    if (key === "RowKey") {
      rowKey = String(value);
      continue;
    }
    if (key === "Timestamp") {
      if (typeof value === "string") timestamp = value;
      continue;
    }
    if (key === "odata.etag") {
      if (typeof value === "string") etag = value;
      continue;
    }
    if (key.startsWith("odata.") || key.endsWith(ANNOTATION)) continue;
    if (value === null || value === undefined) continue;
    const annotated = annotationOf(keys, values, i);
    let type: EdmType | undefined;
    if (annotated !== undefined) {
      if (!EDM_TYPES.has(annotated))
        throw new EntityFormatError(`property ${key} has unknown type ${annotated}`);
      type = annotated as EdmType;
    } else {
      type = typeOfUnannotated(value);
    }
    if (type === undefined)
      throw new EntityFormatError(`property ${key} has a value that is not a table type`);
    let v: string | boolean;
    if (value instanceof RawNumber) v = value.raw;
    else if (typeof value === "boolean") v = type === "Edm.Boolean" ? value : String(value);
    else if (typeof value === "string") v = value;
    else throw new EntityFormatError(`property ${key} has a value that is not a table type`);
    properties.set(key, { type, value: v });
  }
  if (partitionKey === undefined || rowKey === undefined) {
    throw new EntityFormatError("an entity without PartitionKey or RowKey");
  }
  return { partitionKey, rowKey, properties, timestamp, etag };
}

const NO_PROPERTIES: ReadonlyMap<string, WireValue> = new Map();

/** The entity's keys alone (what is said of an operation once its request is built). */
export function keysOnly(entity: WireEntity): WireEntity {
  return {
    partitionKey: entity.partitionKey,
    rowKey: entity.rowKey,
    properties: NO_PROPERTIES as Map<string, WireValue>,
  };
}

/**
 * The entity's keys alone, as strings of their own. The parser's strings are slices of the page's text
 * (V8 shares the characters of a substring of 13 or more): a key kept for long would keep its whole
 * page — a megabyte — alive.
 */
export function ownKeys(entity: WireEntity): WireEntity {
  return { ...keysOnly(entity), partitionKey: own(entity.partitionKey), rowKey: own(entity.rowKey) };
}

/** Whether the entity was cut down to its keys (keysOnly, ownKeys): it can no longer give its body. */
export function hasOnlyKeys(entity: WireEntity): boolean {
  // A page entity (entity-page.ts) has its body; asking for its properties would parse them.
  return !isPageEntity(entity) && entity.properties === NO_PROPERTIES;
}

/**
 * An entity that can give its write body without building its properties: entity-page.ts makes it
 * straight from the page's text. A method on its class, so that a copy made by spreading it (a rename,
 * transform.ts) is a plain entity again and is written from its own properties.
 */
export interface PageEntityLike extends WireEntity {
  writeJson(): string;
  /** The names its properties would have, in order, without parsing them. */
  propertyNames(): readonly string[];
}

function isPageEntity(entity: WireEntity): entity is PageEntityLike {
  return typeof (entity as Partial<PageEntityLike>).writeJson === "function";
}

/** The names of the entity's properties (what `properties.keys()` gives), without parsing a page entity. */
export function propertyNames(entity: WireEntity): Iterable<string> {
  return isPageEntity(entity) ? entity.propertyNames() : entity.properties.keys();
}

/** A copy of `s` that shares no characters with a larger string (shorter ones are copied by V8 anyway). */
function own(s: string): string {
  // Joining makes a new flat string of " " + s; the slice of it then shares only that.
  return s.length < 13 ? s : (" " + s).slice(1);
}

/** One entity object's members (raw-json.ts) as a WireEntity; throws EntityFormatError as entityFromRaw. */
export function entityOf(m: RawMembers): WireEntity {
  return m.unique
    ? entityFromMembers(m.keys, m.values)
    : entityFromRaw(new Map(m.keys.map((k, i): [string, RawJson] => [k, m.values[i]])));
}

/** A page's entities: `length` at once, each entity parsed when the iteration reaches it. */
export interface EntityList extends Iterable<WireEntity> {
  readonly length: number;
}

/**
 * A query response body as entities, parsed as they are iterated (json-scan.ts says why). The whole text
 * is checked here, so invalid JSON throws now, as parseEntityPage does; a property of a type that is not
 * a table type throws (EntityFormatError) when the iteration reaches its entity.
 */
export function readEntityPage(body: string): EntityList {
  const shape = pageShape(body);
  // Any other shape, and invalid text: the general parser's answer, or its exact error.
  if (shape === undefined) return parseEntityPage(body);
  const { valueStart, count } = shape;
  return {
    length: count,
    *[Symbol.iterator]() {
      const next = pageCursor(body, valueStart);
      for (let m = next(); m !== undefined; m = next()) yield entityOf(m);
    },
  };
}

/** Parse a query response body (`{"value":[…]}`) into entities with exact types. */
export function parseEntityPage(body: string): WireEntity[] {
  // The usual page takes the fast path; anything else (or invalid) gets the general parser's answer.
  const page = parseRawPage(body);
  if (page !== undefined) return page.map(entityOf);
  const parsed = parseRawJson(body);
  if (!(parsed instanceof Map)) throw new EntityFormatError("a query response that is not a JSON object");
  const value = parsed.get("value");
  if (value === undefined) {
    // A single-entity GET returns the entity itself.
    return parsed.has("PartitionKey") ? [entityFromRaw(parsed)] : [];
  }
  if (!Array.isArray(value)) throw new EntityFormatError("a query response whose value is not an array");
  return value.map((item) => {
    if (!(item instanceof Map)) throw new EntityFormatError("a query result that is not an object");
    return entityFromRaw(item);
  });
}

/** The JSON number literal we write for a finite Double: always with a decimal point or exponent. */
export function doubleLiteral(raw: string): string {
  return /[.eE]/.test(raw) ? raw : `${raw}.0`;
}

/** A property name's JSON pieces, built once per name rather than once per value. */
interface NameJson {
  /** `"name":` */
  plain: string;
  /** `"name@odata.type":` */
  annotation: string;
  /** By EDM type: `"name@odata.type":"Edm.X","name":` */
  typed: Map<string, string>;
}

/** Most names kept; a table with more distinct property names only rebuilds the pieces more often. */
const NAME_CACHE_MAX = 4096;
const nameCache = new Map<string, NameJson>();

function nameJson(name: string): NameJson {
  let n = nameCache.get(name);
  if (n === undefined) {
    if (nameCache.size >= NAME_CACHE_MAX) nameCache.clear();
    n = {
      plain: `${jsonString(name)}:`,
      annotation: `${jsonString(`${name}@odata.type`)}:`,
      typed: new Map(),
    };
    nameCache.set(name, n);
  }
  return n;
}

/** What comes before a property's value in our JSON: `"name":`, or with a type, its annotation too. */
export function propertyPrefix(name: string, type?: EdmType): string {
  const n = nameJson(name);
  return type === undefined ? n.plain : typedPrefix(n, type);
}

function typedPrefix(n: NameJson, type: string): string {
  let prefix = n.typed.get(type);
  if (prefix === undefined) {
    prefix = `${n.annotation}${JSON.stringify(type)},${n.plain}`;
    n.typed.set(type, prefix);
  }
  return prefix;
}

/**
 * Characters a JSON string cannot carry as they are (quote, backslash, controls), that Azurite's $batch
 * parser takes for line breaks (U+2028/U+2029: valid raw in JSON, but it refuses the entity or the whole
 * changeset with a bodiless 500; escaped they mean the same), and surrogates (a lone one must be
 * escaped, or its UTF-8 bytes would be a replacement character).
 */
// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const NEEDS_ESCAPES = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

/**
 * A string as a JSON string literal. Most values need no escape: quoted as they are, without the copy
 * JSON.stringify makes (one entity's text is most of what a copy allocates).
 */
function jsonString(s: string): string {
  if (!NEEDS_ESCAPES.test(s)) return `"${s}"`;
  return JSON.stringify(s)
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function valueJson(n: NameJson, v: WireValue): string {
  switch (v.type) {
    case "Edm.String":
      return n.plain + jsonString(String(v.value));
    case "Edm.Boolean":
      return n.plain + (v.value === true || v.value === "true" ? "true" : "false");
    case "Edm.Int32":
      return n.plain + String(v.value);
    case "Edm.Double": {
      const raw = String(v.value);
      return typedPrefix(n, "Edm.Double") + (NON_FINITE.has(raw) ? `"${raw}"` : doubleLiteral(raw));
    }
    default:
      return typedPrefix(n, v.type) + jsonString(String(v.value));
  }
}

/** The request body for an insert/update of this entity. */
export function entityJson(entity: WireEntity): string {
  if (isPageEntity(entity)) return entity.writeJson();
  let out = `{"PartitionKey":${jsonString(entity.partitionKey)},"RowKey":${jsonString(entity.rowKey)}`;
  for (const [name, v] of entity.properties) out += "," + valueJson(nameJson(name), v);
  return out + "}";
}

/** Typed equality at wire level: same type, same value (Doubles compared as numbers, -0 ≠ 0, NaN = NaN). */
export function wireValuesEqual(a: WireValue, b: WireValue): boolean {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case "Edm.Double": {
      const x = String(a.value);
      const y = String(b.value);
      if (NON_FINITE.has(x) || NON_FINITE.has(y)) return x === y;
      return Object.is(Number(x), Number(y));
    }
    case "Edm.Int32":
      return Number(a.value) === Number(b.value);
    case "Edm.Int64":
      return BigInt(String(a.value)) === BigInt(String(b.value));
    case "Edm.Guid":
      return String(a.value).toLowerCase() === String(b.value).toLowerCase();
    case "Edm.DateTime":
      return normalizeDateTime(String(a.value)) === normalizeDateTime(String(b.value));
    default:
      return a.value === b.value;
  }
}

/** `2024-01-01T00:00:00Z` and `2024-01-01T00:00:00.0000000Z` are the same instant. */
export function normalizeDateTime(s: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?Z$/.exec(s);
  if (!m) return s;
  return `${m[1]}.${(m[2] ?? "").padEnd(7, "0")}Z`;
}

/** Names of the properties whose presence, type or value differ between two entities. */
export function differingProperties(a: WireEntity, b: WireEntity): string[] {
  const names: string[] = [];
  for (const [name, va] of a.properties) {
    const vb = b.properties.get(name);
    if (!vb || !wireValuesEqual(va, vb)) names.push(name);
  }
  for (const name of b.properties.keys()) if (!a.properties.has(name)) names.push(name);
  return names;
}

/** Bytes of the entity's JSON body: what the transaction size limits count. */
export function entityBytes(entity: WireEntity): number {
  return Buffer.byteLength(entityJson(entity));
}
