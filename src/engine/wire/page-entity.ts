// An entity cut from a query page (entity-page.ts): its keys, its write body and the page's text, its
// properties parsed only if something asks for them.
import { entityOf, type PageEntityLike, type WireValue } from "./edm.js";
import { membersAt } from "./raw-json.js";

/** An entity of a page, with its body ready; its properties are parsed only if something asks for them. */
export class PageEntity implements PageEntityLike {
  // Declared, then set once in the constructor: a field initializer per entity would cost as much again.
  declare readonly partitionKey: string;
  declare readonly rowKey: string;
  declare timestamp: string | undefined;
  /** The ETag's text as in the page (JSON-escaped: it holds quotes), read into its value when asked for. */
  declare private etagText: string | undefined;
  declare private etagValue: string | undefined;
  declare private readonly json: string;
  declare private readonly names: readonly string[];
  declare private readonly text: string;
  declare private readonly start: number;
  declare private parsed: Map<string, WireValue> | undefined;

  constructor(
    partitionKey: string,
    rowKey: string,
    json: string,
    names: readonly string[],
    text: string,
    start: number,
    timestamp: string | undefined,
    etagText: string | undefined,
  ) {
    this.partitionKey = partitionKey;
    this.rowKey = rowKey;
    this.timestamp = timestamp;
    this.etagText = etagText;
    this.etagValue = undefined;
    this.json = json;
    this.names = names;
    this.text = text;
    this.start = start;
    this.parsed = undefined;
  }

  // A copy never reads the source's ETags: unescaping one per entity was 3 % of reading a page.
  get etag(): string | undefined {
    const text = this.etagText;
    if (this.etagValue !== undefined || text === undefined) return this.etagValue;
    return (this.etagValue = text.indexOf("\\") < 0 ? text : unescaped(text));
  }

  set etag(value: string | undefined) {
    this.etagValue = value;
    this.etagText = undefined;
  }

  get properties(): Map<string, WireValue> {
    return (this.parsed ??= entityOf(membersAt(this.text, this.start).members).properties);
  }

  writeJson(): string {
    return this.json;
  }

  propertyNames(): readonly string[] {
    return this.names;
  }
}

/** A JSON string's value from its text (no quotes), cheaply when its only escapes are `\"` (ETags). */
function unescaped(body: string): string {
  const quotes = body.replaceAll('\\"', '"');
  return quotes.indexOf("\\") < 0 ? quotes : (JSON.parse(`"${body}"`) as string);
}
