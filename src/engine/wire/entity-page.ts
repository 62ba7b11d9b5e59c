// A query page's entities for copying: each one's write body taken straight from the page's text.
//
// Why: in a table with one entity per partition every entity is a request of its own, and parsing an
// entity into typed properties only to write the same properties back as JSON was a fifth of the CPU a
// copy spent per entity. The body we write differs from the entity's text in the page in little: no
// odata.* members or Timestamp, the keys first, and a Double always annotated (the service leaves a
// finite one bare and marks it only by its decimal point). So each member's text is taken as it is,
// behind the name and annotation we would write for it; and properties the page already has exactly as
// we write them (most: a comma, the name, a colon and the value), one after another, are taken as one
// stretch of its text (a string per property was a sixth of what a copy allocated per entity).
//
// Exactness: the body is byte for byte what entityJson would build from the parsed entity (the tests
// compare the two on entities of every shape). Anything the plain path would treat differently — an
// escape in a key or a value, an annotation not just before its property, a name twice, a value of a
// type no table has, characters we escape — is not transcoded: that entity is parsed as before, and an
// entity the copy cannot write exactly fails with the same error.
import {
  ANNOTATION,
  EDM_TYPES,
  INT32_MAX,
  INT32_MIN,
  NON_FINITE,
  entityOf,
  parseEntityPage,
  propertyPrefix,
  type EdmType,
  type EntityList,
} from "./edm.js";
import { closingQuote, pageShape, skipJsonWs } from "./json-scan.js";
import { membersAt } from "./raw-json.js";
import { PageEntity } from "./page-entity.js";

/** Characters a body must carry escaped (edm.ts NEEDS_ESCAPES, less those JSON text never has raw). */
const SPECIAL = /[\u2028\u2029\ud800-\udfff]/;

/** Types whose value is a JSON string written behind its annotation. */
const STRING_TYPED = new Set<string>(["Edm.Int64", "Edm.DateTime", "Edm.Guid", "Edm.Binary"]);

/**
 * A query response body as entities for a copy: like readEntityPage (edm.ts) — checked whole now,
 * parsed as iterated, the same errors — but each entity comes with its write body (see above).
 */
export function readCopyPage(body: string): EntityList {
  const shape = pageShape(body);
  if (shape === undefined) return parseEntityPage(body);
  const { valueStart, count } = shape;
  return {
    length: count,
    *[Symbol.iterator]() {
      const cutter = SPECIAL.test(body) ? undefined : new Cutter(body);
      let i = skipJsonWs(body, valueStart + 1);
      if (body.charCodeAt(i) === 0x5d) return;
      for (;;) {
        const cut = cutter?.cut(i);
        if (cut) {
          i = cutter!.end;
          yield cut;
        } else {
          const m = membersAt(body, i);
          i = m.end;
          yield entityOf(m.members);
        }
        i = skipJsonWs(body, i);
        if (body.charCodeAt(i) !== 0x2c) return;
        i = skipJsonWs(body, i + 1);
      }
    },
  };
}

/** propertyJson: the page has the property exactly as it is written. */
const SAME = null;

const STRING = 0;
const NUMBER = 1;
const BOOLEAN = 2;
const NULL = 3;

const PARTITION_KEY = 0;
const ROW_KEY = 1;
const TIMESTAMP = 2;
const ETAG = 3;
const ANNOTATION_OF = 4;
/** Another odata.* member: not written. */
const METADATA = 5;
const PROPERTY = 6;

/**
 * One member place of an entity, remembered for the next entity of the page (entities of one table
 * mostly share their member names and order): its name, what it is, and what was last written for it.
 */
interface Slot {
  name: string;
  role: number;
  /** ANNOTATION_OF: the property it annotates, and the type text last seen here. */
  target?: string;
  type?: string;
  /** PROPERTY: `,` and what comes before the value, for the type it was last written with (null: none). */
  prefix?: string;
  prefixType?: string | null;
}

function slotOf(sliced: string): Slot {
  // A string of its own: a slice of the page is read through its parent, and a place's name is compared
  // with the text at every entity.
  const name = JSON.parse(JSON.stringify(sliced)) as string;
  if (name === "PartitionKey") return { name, role: PARTITION_KEY };
  if (name === "RowKey") return { name, role: ROW_KEY };
  if (name === "Timestamp") return { name, role: TIMESTAMP };
  if (name === "odata.etag") return { name, role: ETAG };
  if (name.endsWith(ANNOTATION))
    return { name, role: ANNOTATION_OF, target: name.slice(0, -ANNOTATION.length) };
  if (name.startsWith("odata.")) return { name, role: METADATA };
  return { name, role: PROPERTY };
}

/** Whether `text` holds `s` at `at` (short strings: cheaper than startsWith on a page-long string). */
function holds(text: string, at: number, s: string): boolean {
  for (let k = 0; k < s.length; k++) if (text.charCodeAt(at + k) !== s.charCodeAt(k)) return false;
  return true;
}

/** Cuts a page's entities out of its text (the whole text is valid JSON: json-scan.ts checked it). */
class Cutter {
  /** Where the last entity cut ended (just after its `}`). */
  end = 0;
  /** The last entity cut's member places (all names different): the usual next entity's too. */
  private slots?: Slot[];
  /** The first backslash at or after where it was last looked for; Infinity: none left. */
  private backslash = -1;

  constructor(private readonly text: string) {}

  /** Whether the text from `from` to `to` (exclusive) holds a backslash. */
  private escaped(from: number, to: number): boolean {
    if (this.backslash < from) {
      const b = this.text.indexOf("\\", from);
      this.backslash = b < 0 ? Infinity : b;
    }
    return this.backslash < to;
  }

  /** The entity object at `start` (its `{`), or undefined when only the parser can say what it is. */
  cut(start: number): PageEntity | undefined {
    const text = this.text;
    const previous = this.slots;
    /** This entity's places: the previous entity's as long as its names are the same. */
    let slots: Slot[] = previous ?? [];
    let diverged = previous === undefined;
    let k = 0;
    let partitionKey: string | undefined;
    let rowKey: string | undefined;
    let timestamp: string | undefined;
    let etag: string | undefined;
    let props = "";
    /**
     * A stretch of the page's text written as it is (runStart to runEnd): properties the page already has
     * exactly as we write them, one after another, joined as one slice rather than a string each.
     */
    let runStart = 0;
    let runEnd = 0;
    /** Where the last annotation member began (its comma; -1: not right after a comma). */
    let annotationFrom = -1;
    /** The names of the properties written (a transform checks them without parsing the entity). */
    const written: string[] = [];
    /** The property the last member annotated, and with what type. */
    let annotated: string | undefined;
    let annotation: string | undefined;
    let i = skipJsonWs(text, start + 1);
    if (text.charCodeAt(i) !== 0x22) return undefined;
    for (; ; k++) {
      // The comma before this member, if it is just before it (what a property written as it is starts with).
      const from = text.charCodeAt(i - 1) === 0x2c ? i - 1 : -1;
      // The member's name: the previous entity's at this place when the text is exactly it.
      let slot = diverged ? undefined : slots[k];
      // (A name of the previous entity has no quote or backslash: the first quote ends it here too.)
      const quote = text.indexOf('"', i + 1);
      if (
        slot !== undefined &&
        quote - i - 1 === slot.name.length &&
        text.slice(i + 1, quote) === slot.name
      ) {
        i = quote + 1;
      } else {
        const q = closingQuote(text, i + 1);
        if (q < 0 || this.escaped(i + 1, q)) return undefined;
        slot = slotOf(text.slice(i + 1, q));
        if (!diverged) {
          slots = slots.slice(0, k);
          diverged = true;
        }
        slots.push(slot);
        i = q + 1;
      }
      i = skipJsonWs(text, skipJsonWs(text, i) + 1);
      // The value: its text from v to `end`.
      const v = i;
      const c = text.charCodeAt(v);
      let kind: number;
      let end: number;
      let decimal = false;
      /** A string with escapes: its text is not its value. */
      let escapes = false;
      if (c === 0x22) {
        const q = closingQuote(text, v + 1);
        if (q < 0) return undefined;
        escapes = this.escaped(v + 1, q);
        kind = STRING;
        end = q + 1;
      } else if (c === 0x74 || c === 0x66) {
        kind = BOOLEAN;
        end = v + (c === 0x74 ? 4 : 5);
      } else if (c === 0x6e) {
        kind = NULL;
        end = v + 4;
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        kind = NUMBER;
        end = v + 1;
        for (let d = text.charCodeAt(end); ; d = text.charCodeAt(++end)) {
          if (d === 0x2e || d === 0x65 || d === 0x45) decimal = true;
          else if (!((d >= 0x30 && d <= 0x39) || d === 0x2d || d === 0x2b)) break;
        }
      } else return undefined; // an object or an array: not a table value
      // An annotation belongs to the member right after it; anywhere else, the parser decides.
      const name = slot.name;
      if (annotated !== undefined && annotated !== name) return undefined;
      const type = annotated === name ? annotation : undefined;
      annotated = annotation = undefined;
      const role = slot.role;
      if (escapes && role !== ETAG && role !== METADATA) return undefined;
      if (role === PROPERTY) {
        if (kind !== NULL) {
          const at = type === undefined ? from : annotationFrom;
          const json = this.propertyJson(slot, type, kind, decimal, v, end, at);
          if (json === undefined) return undefined;
          if (json === SAME) {
            // As it is in the page: it extends the stretch, or starts one.
            if (runEnd !== at) {
              if (runEnd > runStart) props += text.slice(runStart, runEnd);
              runStart = at;
            }
            runEnd = end;
          } else {
            if (runEnd > runStart) props += text.slice(runStart, runEnd);
            runStart = runEnd = 0;
            props += json;
          }
          written.push(name);
        }
      } else if (role === ANNOTATION_OF) {
        if (kind !== STRING) return undefined;
        annotationFrom = from;
        // The same type as at this place in the entity before: its string, not a new one.
        const t = slot.type;
        annotation =
          t !== undefined && end - v - 2 === t.length && holds(text, v + 1, t)
            ? t
            : (slot.type = text.slice(v + 1, end - 1));
        annotated = slot.target;
      } else if (role === PARTITION_KEY || role === ROW_KEY) {
        if (kind !== STRING) return undefined;
        if (role === PARTITION_KEY) partitionKey = text.slice(v + 1, end - 1);
        else rowKey = text.slice(v + 1, end - 1);
      } else if (role === TIMESTAMP) {
        if (kind === STRING) timestamp = text.slice(v + 1, end - 1);
      } else if (role === ETAG) {
        if (kind !== STRING) return undefined;
        // An ETag has quotes in it (W/"datetime'…'"): escaped on the wire, unescaped when read.
        etag = text.slice(v + 1, end - 1);
      }
      i = skipJsonWs(text, end);
      const d = text.charCodeAt(i++);
      if (d === 0x7d) break;
      if (d !== 0x2c) return undefined;
      i = skipJsonWs(text, i);
    }
    k++;
    if (runEnd > runStart) props += text.slice(runStart, runEnd);
    if (annotated !== undefined || partitionKey === undefined || rowKey === undefined) return undefined;
    if (diverged || k !== slots.length) {
      if (k !== slots.length) slots = slots.slice(0, k);
      if (new Set(slots.map((s) => s.name)).size !== k) return undefined;
    }
    this.slots = slots;
    this.end = i;
    const json = `{"PartitionKey":"${partitionKey}","RowKey":"${rowKey}"${props}}`;
    return new PageEntity(partitionKey, rowKey, json, written, text, start, timestamp, etag);
  }

  /**
   * `,` and one property as entityJson writes it (edm.ts valueJson), from its value's text (v to end)
   * and its annotation; SAME when the page has exactly that text from `at` (the comma before the
   * property, or before its annotation) to `end`; undefined where the plain path would write something
   * else or refuse it.
   */
  private propertyJson(
    slot: Slot,
    type: string | undefined,
    kind: number,
    decimal: boolean,
    v: number,
    end: number,
    at: number,
  ): string | typeof SAME | undefined {
    if (type !== undefined && !EDM_TYPES.has(type)) return undefined;
    const text = this.text;
    let written: string | null;
    /** A whole number written as a Double: it gains a decimal point. */
    let point = false;
    switch (kind) {
      case STRING:
        if (type === undefined || type === "Edm.String") written = null;
        else if (
          STRING_TYPED.has(type) ||
          (type === "Edm.Double" && NON_FINITE.has(text.slice(v + 1, end - 1)))
        )
          written = type;
        else return undefined;
        break;
      case NUMBER:
        if (type === "Edm.Double" || (type === undefined && decimal)) {
          written = "Edm.Double";
          point = !decimal;
        } else if (type === "Edm.Int32") written = null;
        else if (type === undefined) {
          // Nine characters or fewer fit an Int32; beyond, the parser keeps it exact as Int64.
          if (end - v > 9) {
            const n = Number(text.slice(v, end));
            if (!(n >= INT32_MIN && n <= INT32_MAX)) return undefined;
          }
          written = null;
        } else return undefined;
        break;
      case BOOLEAN:
        if (type !== undefined && type !== "Edm.Boolean") return undefined;
        written = null;
        break;
      default:
        return undefined;
    }
    if (slot.prefixType !== written || slot.prefix === undefined) {
      slot.prefix = `,${propertyPrefix(slot.name, (written ?? undefined) as EdmType | undefined)}`;
      slot.prefixType = written;
    }
    const prefix = slot.prefix;
    if (!point && at >= 0 && at + prefix.length === v && holds(text, at, prefix)) return SAME;
    return point ? `${prefix}${text.slice(v, end)}.0` : prefix + text.slice(v, end);
  }
}
