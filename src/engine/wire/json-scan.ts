// Checking a query page's JSON without building anything, so that its entities can be parsed later, one
// at a time, as the copy reaches them.
//
// Why: a page is a thousand entities. Parsed on arrival, they waited in the read-ahead and then while
// the page was worked through — long enough for the garbage collector to copy them twice and move them
// to the old generation, where collecting them costs a full mark. Checked here on arrival (a page cut
// short or garbled is still retried, never half-copied) and parsed when taken, each entity lives only
// from its parse to its request.

export class JsonScanError extends Error {}

/** Where a query page's entity list is, once the whole text is known to be valid JSON. */
export interface PageShape {
  /** Offset of the `[` that opens the `value` array. */
  valueStart: number;
  /** Objects in it. */
  count: number;
}

const WS = new Uint8Array(128);
WS[0x20] = WS[0x09] = WS[0x0a] = WS[0x0d] = 1;

/**
 * The offset of the quote that closes a JSON string whose characters start at `start` (just after its
 * opening quote), or -1: the first quote not escaped, i.e. not after an odd number of backslashes.
 */
export function closingQuote(text: string, start: number): number {
  let j = start;
  for (;;) {
    const q = text.indexOf('"', j);
    if (q < 0) return -1;
    let k = q - 1;
    while (k >= start && text.charCodeAt(k) === 0x5c) k--;
    if ((q - 1 - k) % 2 === 0) return q;
    j = q + 1;
  }
}

/** The offset of the first character at or after `i` that is not JSON whitespace (raw-json reads with it too). */
export function skipJsonWs(text: string, i: number): number {
  let c = text.charCodeAt(i);
  while (c < 128 && WS[c] === 1) c = text.charCodeAt(++i);
  return i;
}

/**
 * The shape of `{…,"value":[{…},…],…}` after checking that the whole text is valid JSON: undefined
 * for valid JSON of any other shape (no `value`, `value` twice, not an array, an item not an object).
 * Throws JsonScanError for text that is not valid JSON. Allocates nothing per value (strings with
 * escapes are checked by JSON.parse, as the parser decodes them).
 */
export function scanPage(text: string): PageShape | undefined {
  return new Scanner(text).page();
}

/** scanPage's answer, and undefined for invalid text too (a reader then asks the general parser). */
export function pageShape(text: string): PageShape | undefined {
  try {
    return scanPage(text);
  } catch {
    return undefined;
  }
}

class Scanner {
  private i = 0;
  /** The next backslash at or after where it was last looked for; -1: none left; -2: not looked yet. */
  private backslash = -2;

  constructor(private readonly text: string) {}

  private fail(what: string): never {
    throw new JsonScanError(`invalid JSON at offset ${this.i}: ${what}`);
  }

  private ws(): number {
    this.i = skipJsonWs(this.text, this.i);
    return this.text.charCodeAt(this.i);
  }

  page(): PageShape | undefined {
    const text = this.text;
    if (this.ws() !== 0x7b) {
      this.value();
      this.end();
      return undefined;
    }
    this.i++;
    let shape: PageShape | undefined;
    let other = false;
    if (this.ws() === 0x7d) {
      this.i++;
      other = true;
    } else {
      for (;;) {
        if (this.ws() !== 0x22) this.fail("expected a property name");
        const keyStart = this.i;
        this.string();
        const isValue = this.i - keyStart === 7 && text.startsWith('"value"', keyStart);
        if (this.ws() !== 0x3a) this.fail("expected ':'");
        this.i++;
        if (isValue) {
          if (shape !== undefined) other = true; // twice: the general parser decides which counts
          const start = this.ws() === 0x5b ? this.i : -1;
          const objects = this.value();
          if (start < 0 || objects < 0) other = true;
          else shape = { valueStart: start, count: objects };
        } else this.value();
        const d = this.ws();
        this.i++;
        if (d === 0x2c) continue;
        if (d === 0x7d) break;
        this.i--;
        this.fail("expected ',' or '}'");
      }
    }
    this.end();
    return other ? undefined : shape;
  }

  private end(): void {
    this.ws();
    if (this.i !== this.text.length) this.fail("trailing characters");
  }

  /** Skip one value; for an array, the number of its items if all are objects, else -1. */
  private value(): number {
    const text = this.text;
    const c = this.ws();
    if (c === 0x22) {
      this.string();
      return -1;
    }
    if (c === 0x7b) {
      this.i++;
      if (this.ws() === 0x7d) {
        this.i++;
        return -1;
      }
      for (;;) {
        if (this.ws() !== 0x22) this.fail("expected a property name");
        this.string();
        if (this.ws() !== 0x3a) this.fail("expected ':'");
        this.i++;
        this.value();
        const d = this.ws();
        this.i++;
        if (d === 0x2c) continue;
        if (d === 0x7d) return -1;
        this.i--;
        this.fail("expected ',' or '}'");
      }
    }
    if (c === 0x5b) {
      this.i++;
      let objects = 0;
      let allObjects = true;
      if (this.ws() === 0x5d) {
        this.i++;
        return 0;
      }
      for (;;) {
        if (this.ws() === 0x7b) objects++;
        else allObjects = false;
        this.value();
        const d = this.ws();
        this.i++;
        if (d === 0x2c) continue;
        if (d === 0x5d) return allObjects ? objects : -1;
        this.i--;
        this.fail("expected ',' or ']'");
      }
    }
    if (c === 0x74 && text.startsWith("true", this.i)) this.i += 4;
    else if (c === 0x66 && text.startsWith("false", this.i)) this.i += 5;
    else if (c === 0x6e && text.startsWith("null", this.i)) this.i += 4;
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) this.number();
    else this.fail("unexpected character");
    return -1;
  }

  /** A string at i (the opening quote), as raw-json reads it: escapes must decode; nothing else is checked. */
  private string(): void {
    const start = this.i + 1;
    const q = closingQuote(this.text, start);
    if (q < 0) this.fail("unterminated string");
    if (this.backslashBetween(start, q)) {
      try {
        JSON.parse(this.text.slice(start - 1, q + 1));
      } catch {
        this.fail("bad escape in a string");
      }
    }
    this.i = q + 1;
  }

  /** Whether text[from, to) holds a backslash: one search ahead serves every string before it. */
  private backslashBetween(from: number, to: number): boolean {
    if (this.backslash !== -1 && this.backslash < from) this.backslash = this.text.indexOf("\\", from);
    return this.backslash !== -1 && this.backslash < to;
  }

  /** A number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, read without slicing it out. */
  private number(): void {
    const text = this.text;
    let i = this.i;
    if (text.charCodeAt(i) === 0x2d) i++;
    const first = text.charCodeAt(i);
    if (first === 0x30) i++;
    else if (first >= 0x31 && first <= 0x39) i = this.digits(i);
    else this.fail("bad number");
    if (text.charCodeAt(i) === 0x2e) {
      const after = this.digits(i + 1);
      if (after === i + 1) this.fail("bad number");
      i = after;
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const s = text.charCodeAt(i);
      if (s === 0x2b || s === 0x2d) i++;
      const after = this.digits(i);
      if (after === i) this.fail("bad number");
      i = after;
    }
    // What raw-json's number() would go on reading as part of the literal makes it invalid there too.
    const next = text.charCodeAt(i);
    if (
      (next >= 0x30 && next <= 0x39) ||
      next === 0x2d ||
      next === 0x2b ||
      next === 0x2e ||
      next === 0x65 ||
      next === 0x45
    )
      this.fail("bad number");
    this.i = i;
  }

  private digits(from: number): number {
    const text = this.text;
    let i = from;
    let c = text.charCodeAt(i);
    while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++i);
    return i;
  }
}
