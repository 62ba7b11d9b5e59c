// A JSON parser that keeps every number's literal text.
//
// Why: `JSON.parse` turns the wire literal `1.0` into the number 1, and the Table service marks a
// Double only by its decimal point, so the SDK (and anything built on JSON.parse) retypes a
// whole-number Double as Int32. Objects become Maps so property order is kept and names such as
// `__proto__` are ordinary keys.

/** A JSON number literal exactly as it appeared on the wire. */
export class RawNumber {
  constructor(readonly raw: string) {}
}

export type RawJson = string | boolean | null | RawNumber | RawJson[] | Map<string, RawJson>;

export class RawJsonError extends Error {}

const WS = new Uint8Array(128);
WS[0x20] = WS[0x09] = WS[0x0a] = WS[0x0d] = 1;

export function parseRawJson(text: string): RawJson {
  let i = 0;
  const n = text.length;

  const fail = (what: string): never => {
    throw new RawJsonError(`invalid JSON at offset ${i}: ${what}`);
  };
  const skipWs = () => {
    let c = text.charCodeAt(i);
    while (c < 128 && WS[c] === 1) c = text.charCodeAt(++i);
  };

  const parseString = (): string => {
    // i points at the opening quote.
    const start = i + 1;
    let j = start;
    for (;;) {
      const q = text.indexOf('"', j);
      if (q < 0) fail("unterminated string");
      // Count the backslashes just before the quote: an odd number means it is escaped.
      let k = q - 1;
      while (k >= start && text.charCodeAt(k) === 0x5c) k--;
      if ((q - 1 - k) % 2 === 1) {
        j = q + 1;
        continue;
      }
      i = q + 1;
      const body = text.slice(start, q);
      return body.indexOf("\\") < 0 ? body : (JSON.parse(`"${body}"`) as string);
    }
  };

  const parseNumber = (): RawNumber => {
    const start = i;
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
    const raw = text.slice(start, i);
    if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(raw)) fail(`bad number ${raw}`);
    return new RawNumber(raw);
  };

  const parseValue = (): RawJson => {
    skipWs();
    const c = text.charCodeAt(i);
    if (c === 0x22) return parseString();
    if (c === 0x7b) {
      i++;
      const map = new Map<string, RawJson>();
      skipWs();
      if (text.charCodeAt(i) === 0x7d) {
        i++;
        return map;
      }
      for (;;) {
        skipWs();
        if (text.charCodeAt(i) !== 0x22) fail("expected a property name");
        const key = parseString();
        skipWs();
        if (text.charCodeAt(i) !== 0x3a) fail("expected ':'");
        i++;
        map.set(key, parseValue());
        skipWs();
        const d = text.charCodeAt(i++);
        if (d === 0x2c) continue;
        if (d === 0x7d) return map;
        i--;
        fail("expected ',' or '}'");
      }
    }
    if (c === 0x5b) {
      i++;
      const arr: RawJson[] = [];
      skipWs();
      if (text.charCodeAt(i) === 0x5d) {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue());
        skipWs();
        const d = text.charCodeAt(i++);
        if (d === 0x2c) continue;
        if (d === 0x5d) return arr;
        i--;
        fail("expected ',' or ']'");
      }
    }
    if (c === 0x74 && text.startsWith("true", i)) {
      i += 4;
      return true;
    }
    if (c === 0x66 && text.startsWith("false", i)) {
      i += 5;
      return false;
    }
    if (c === 0x6e && text.startsWith("null", i)) {
      i += 4;
      return null;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return parseNumber();
    return fail("unexpected character");
  };

  const value = parseValue();
  skipWs();
  if (i !== n) fail("trailing characters");
  return value;
}
