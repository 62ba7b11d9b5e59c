// A JSON parser that keeps every number's literal text.
//
// Why: `JSON.parse` turns the wire literal `1.0` into the number 1, and the Table service marks a
// Double only by its decimal point, so the SDK (and anything built on JSON.parse) retypes a
// whole-number Double as Int32. Objects become Maps so property order is kept and names such as
// `__proto__` are ordinary keys.

import { closingQuote, skipJsonWs } from "./json-scan.js";

/** A JSON number literal exactly as it appeared on the wire. */
export class RawNumber {
  constructor(readonly raw: string) {}
}

export type RawJson = string | boolean | null | RawNumber | RawJson[] | Map<string, RawJson>;

export class RawJsonError extends Error {}

export function parseRawJson(text: string): RawJson {
  return new RawParser(text).document();
}

/** One JSON object's members in wire order, as parallel lists (the form a query page's entities take). */
export interface RawMembers {
  keys: string[];
  values: RawJson[];
  /** No key appears twice: the members are exactly what parseRawJson's Map would hold, in its order. */
  unique: boolean;
}

/**
 * The fast path for a query page, `{…,"value":[{…},…],…}`: each entity's members as lists instead of a
 * Map, and a key spelled exactly as the previous entity's key at the same position reuses that string,
 * so a page of same-shaped entities allocates far less. Returns undefined for any other shape, and for
 * text that is not valid JSON: parseRawJson then gives the exact answer or error.
 */
export function parseRawPage(text: string): RawMembers[] | undefined {
  try {
    return new RawParser(text).page();
  } catch {
    return undefined;
  }
}

/**
 * The entities of a page whose whole text was already checked (json-scan.ts: `valueStart` is the `[` of
 * its `value` array), one per call, undefined after the last. Parsed as parseRawPage parses them.
 */
export function pageCursor(text: string, valueStart: number): () => RawMembers | undefined {
  return new RawParser(text).cursor(valueStart);
}

/** The members of the entity object that starts at `start` (its `{`), and the offset just after it. */
export function membersAt(text: string, start: number): { members: RawMembers; end: number } {
  const parser = new RawParser(text);
  return { members: parser.membersAt(start), end: parser.offset };
}

class RawParser {
  private i = 0;
  /** Whether the last string parsed had escapes (its text on the wire differs from its value). */
  private escaped = false;
  /** Whether every key of the last entity read by members() is free of quotes and backslashes. */
  private plainKeys = false;

  constructor(private readonly text: string) {}

  private fail(what: string): never {
    throw new RawJsonError(`invalid JSON at offset ${this.i}: ${what}`);
  }

  private skipWs(): void {
    this.i = skipJsonWs(this.text, this.i);
  }

  document(): RawJson {
    const value = this.value();
    this.skipWs();
    if (this.i !== this.text.length) this.fail("trailing characters");
    return value;
  }

  private string(): string {
    // i points at the opening quote.
    const start = this.i + 1;
    const q = closingQuote(this.text, start);
    if (q < 0) this.fail("unterminated string");
    this.i = q + 1;
    const body = this.text.slice(start, q);
    this.escaped = body.indexOf("\\") >= 0;
    return this.escaped ? (JSON.parse(`"${body}"`) as string) : body;
  }

  private number(): RawNumber {
    const text = this.text;
    const start = this.i;
    let i = start;
    let c = text.charCodeAt(i);
    while (
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2d /* - */ ||
      c === 0x2b /* + */ ||
      c === 0x2e /* . */ ||
      c === 0x65 /* e */ ||
      c === 0x45 /* E */
    ) {
      c = text.charCodeAt(++i);
    }
    this.i = i;
    const raw = text.slice(start, i);
    if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(raw)) this.fail(`bad number ${raw}`);
    return new RawNumber(raw);
  }

  private value(): RawJson {
    this.skipWs();
    const text = this.text;
    const c = text.charCodeAt(this.i);
    if (c === 0x22) return this.string();
    if (c === 0x7b) {
      this.i++;
      const map = new Map<string, RawJson>();
      this.skipWs();
      if (text.charCodeAt(this.i) === 0x7d) {
        this.i++;
        return map;
      }
      for (;;) {
        this.skipWs();
        if (text.charCodeAt(this.i) !== 0x22) this.fail("expected a property name");
        const key = this.string();
        this.skipWs();
        if (text.charCodeAt(this.i) !== 0x3a) this.fail("expected ':'");
        this.i++;
        map.set(key, this.value());
        this.skipWs();
        const d = text.charCodeAt(this.i++);
        if (d === 0x2c) continue;
        if (d === 0x7d) return map;
        this.i--;
        this.fail("expected ',' or '}'");
      }
    }
    if (c === 0x5b) {
      this.i++;
      const arr: RawJson[] = [];
      this.skipWs();
      if (text.charCodeAt(this.i) === 0x5d) {
        this.i++;
        return arr;
      }
      for (;;) {
        arr.push(this.value());
        this.skipWs();
        const d = text.charCodeAt(this.i++);
        if (d === 0x2c) continue;
        if (d === 0x5d) return arr;
        this.i--;
        this.fail("expected ',' or ']'");
      }
    }
    if (c === 0x74 && text.startsWith("true", this.i)) {
      this.i += 4;
      return true;
    }
    if (c === 0x66 && text.startsWith("false", this.i)) {
      this.i += 5;
      return false;
    }
    if (c === 0x6e && text.startsWith("null", this.i)) {
      this.i += 4;
      return null;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    return this.fail("unexpected character");
  }

  /** See parseRawPage. Throws RawJsonError on invalid JSON; undefined for valid JSON of another shape. */
  page(): RawMembers[] | undefined {
    const text = this.text;
    this.skipWs();
    if (text.charCodeAt(this.i) !== 0x7b) return undefined;
    this.i++;
    this.skipWs();
    if (text.charCodeAt(this.i) === 0x7d) return undefined;
    let entities: RawMembers[] | undefined;
    for (;;) {
      this.skipWs();
      if (text.charCodeAt(this.i) !== 0x22) this.fail("expected a property name");
      const key = this.string();
      this.skipWs();
      if (text.charCodeAt(this.i) !== 0x3a) this.fail("expected ':'");
      this.i++;
      if (key === "value") {
        if (entities !== undefined) return undefined; // twice: the last one counts; leave that to the Map
        this.skipWs();
        if (text.charCodeAt(this.i) !== 0x5b) return undefined;
        entities = this.entityList();
        if (entities === undefined) return undefined;
      } else {
        this.value();
      }
      this.skipWs();
      const d = text.charCodeAt(this.i++);
      if (d === 0x2c) continue;
      if (d === 0x7d) break;
      this.i--;
      this.fail("expected ',' or '}'");
    }
    this.skipWs();
    if (this.i !== text.length) this.fail("trailing characters");
    return entities;
  }

  get offset(): number {
    return this.i;
  }

  /** See membersAt. */
  membersAt(start: number): RawMembers {
    this.i = start;
    return this.members(undefined);
  }

  /** See pageCursor. */
  cursor(valueStart: number): () => RawMembers | undefined {
    const text = this.text;
    this.i = valueStart + 1;
    this.skipWs();
    let ended = text.charCodeAt(this.i) === 0x5d;
    let previous: RawMembers | undefined;
    return () => {
      if (ended) return undefined;
      this.skipWs();
      if (text.charCodeAt(this.i) !== 0x7b) this.fail("expected an entity object");
      previous = this.members(previous);
      this.skipWs();
      const d = text.charCodeAt(this.i++);
      if (d === 0x5d) ended = true;
      else if (d !== 0x2c) {
        this.i--;
        this.fail("expected ',' or ']'");
      }
      return previous;
    };
  }

  /** `[{…},…]` at i; undefined if an item is not an object. */
  private entityList(): RawMembers[] | undefined {
    const text = this.text;
    this.i++;
    const list: RawMembers[] = [];
    this.skipWs();
    if (text.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return list;
    }
    let previous: RawMembers | undefined;
    for (;;) {
      this.skipWs();
      if (text.charCodeAt(this.i) !== 0x7b) return undefined;
      previous = this.members(previous);
      list.push(previous);
      this.skipWs();
      const d = text.charCodeAt(this.i++);
      if (d === 0x2c) continue;
      if (d === 0x5d) return list;
      this.i--;
      this.fail("expected ',' or ']'");
    }
  }

  /** One object at i, as members; keys spelled as in `previous` at the same position reuse its strings. */
  private members(previous: RawMembers | undefined): RawMembers {
    const text = this.text;
    this.i++;
    const keys: string[] = [];
    const values: RawJson[] = [];
    const prevKeys = previous?.keys;
    // Unique as long as every key so far is the previous (unique) entity's key at the same position.
    let sameKeys = previous !== undefined && previous.unique;
    // Whether every key of the previous entity, and so far of this one, was written without escapes.
    const previousPlain = this.plainKeys;
    let plain = previousPlain;
    this.skipWs();
    if (text.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return { keys, values, unique: true };
    }
    for (;;) {
      this.skipWs();
      if (text.charCodeAt(this.i) !== 0x22) this.fail("expected a property name");
      let key: string | undefined;
      const candidate = prevKeys?.[keys.length];
      // The previous entity's key, if the text here is exactly it between quotes. Only keys without
      // quotes or backslashes qualify, so that the text and the value are the same characters.
      if (
        candidate !== undefined &&
        text.charCodeAt(this.i + 1 + candidate.length) === 0x22 &&
        text.startsWith(candidate, this.i + 1) &&
        (previousPlain || (candidate.indexOf('"') < 0 && candidate.indexOf("\\") < 0))
      ) {
        key = candidate;
        this.i += candidate.length + 2;
      } else {
        key = this.string();
        sameKeys = false;
        if (this.escaped) plain = false;
      }
      this.skipWs();
      if (text.charCodeAt(this.i) !== 0x3a) this.fail("expected ':'");
      this.i++;
      values.push(this.value());
      keys.push(key);
      this.skipWs();
      const d = text.charCodeAt(this.i++);
      if (d === 0x2c) continue;
      if (d === 0x7d) break;
      this.i--;
      this.fail("expected ',' or '}'");
    }
    this.plainKeys = plain || !keys.some((k) => k.indexOf('"') >= 0 || k.indexOf("\\") >= 0);
    const unique = (sameKeys && keys.length === prevKeys?.length) || new Set(keys).size === keys.length;
    return { keys, values, unique };
  }
}
