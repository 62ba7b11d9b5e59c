// Paging through a table with exact wire types, a few pages fetched ahead of the consumer.
import type { Checkpoint } from "../../state/state.js";
import { readEntityPage, type EntityList } from "../wire/edm.js";
import { readCopyPage } from "../wire/entity-page.js";
import { ServiceError, TableMissingError } from "../wire/errors.js";
import { serviceMessage, type HttpResponse, type HttpStats, type TableHttp } from "../wire/http.js";

export interface Continuation {
  nextPartitionKey: string;
  nextRowKey?: string;
  /**
   * A read by key ranges (ranged-reader.ts): every partition before `nextPartitionKey` is done, and the
   * read goes on from that key with ranges of its own (no service token: the next range has none yet).
   */
  ranged?: boolean;
}

export interface ReadPage {
  /** Parsed one by one as they are iterated: a page's entities are never all in memory at once. */
  entities: EntityList;
  /** Where the next page starts; absent on the last page. */
  continuation?: Continuation;
  /** A page inside a key range (ranged-reader.ts): its continuation is no place to resume from. */
  inRange?: boolean;
  /** The last page of a key range: every partition read so far is complete. */
  endsRange?: boolean;
}

export interface ReadOptions {
  filter?: string;
  select?: string[];
  /** Resume from here instead of the table's start. */
  continuation?: Continuation;
  /** Pages fetched ahead of the consumer (default 2). */
  readAhead?: number;
  /** The entities will be written: each comes with its write body, cut from the page (entity-page.ts). */
  forCopy?: boolean;
  /** Count requests here instead of in the reader's own `httpStats` (readers that make one read). */
  stats?: HttpStats;
  /** At most this many entities a page (`$top`; probes ask for one). */
  top?: number;
}

/** What a copy reads a table through: one scan (TableReader) or key ranges in turn (RangedReader). */
export interface PageSource {
  readonly serverClock?: Date;
  readonly lastServerClock?: Date;
  readonly httpStats: HttpStats;
  pages(): AsyncGenerator<ReadPage>;
}

export function tableUrl(http: TableHttp, table: string): string {
  return `${http.url}/${table}`;
}

export class TableReader implements PageSource {
  /** The source server's clock when the scan began (the first response's `Date` header). */
  serverClock?: Date;
  /** The source server's clock at the latest response. */
  lastServerClock?: Date;
  pagesRead = 0;
  /** This reader's requests, 429s and retries. */
  readonly httpStats: HttpStats;

  constructor(
    private readonly http: TableHttp,
    readonly table: string,
    private readonly opts: ReadOptions = {},
  ) {
    this.httpStats = opts.stats ?? { requests: 0, throttled: 0, retries: 0 };
  }

  /** One page alone, from `from` (default: where the read starts); nothing fetched ahead. */
  page(from: Continuation | undefined = this.opts.continuation): Promise<ReadPage> {
    return this.fetch(from);
  }

  /**
   * One page. `onNext` hears, once, where the next page starts as soon as the first successful answer's
   * headers say so (undefined: this is the last page), before its body has arrived; the page itself
   * (after any retry) has the final word.
   */
  private async fetch(
    continuation: Continuation | undefined,
    onNext?: (next: Continuation | undefined) => void,
  ): Promise<ReadPage> {
    const params = new URLSearchParams();
    if (this.opts.filter) params.set("$filter", this.opts.filter);
    if (this.opts.select?.length) params.set("$select", this.opts.select.join(","));
    if (this.opts.top !== undefined) params.set("$top", String(this.opts.top));
    if (continuation) {
      params.set("NextPartitionKey", continuation.nextPartitionKey);
      if (continuation.nextRowKey !== undefined) params.set("NextRowKey", continuation.nextRowKey);
    }
    const qs = params.toString().replace(/\+/g, "%20");
    let entities: EntityList | undefined;
    const res: HttpResponse = await this.http.send({
      method: "GET",
      url: `${tableUrl(this.http, this.table)}()${qs ? `?${qs}` : ""}`,
      headers: { Accept: "application/json;odata=minimalmetadata" },
      stats: this.httpStats,
      onHeaders: (status, headers) => {
        if (status !== 200 || !onNext) return;
        onNext(continuationOf(headers));
        onNext = undefined;
      },
      // A body cut short by the network is retried rather than taken as the end of the table.
      isComplete: (r) => {
        try {
          entities = this.opts.forCopy ? readCopyPage(r.body) : readEntityPage(r.body);
          return true;
        } catch {
          return false;
        }
      },
    });
    if (res.status === 404) {
      throw new TableMissingError(`Table ${this.table} does not exist on the source.`, 404, "TableNotFound");
    }
    if (res.status === 400 && this.opts.filter) {
      const { code, message } = serviceMessage(res);
      throw new ServiceError(
        `The ${this.http.label} rejected the filter "${this.opts.filter}" for table ${this.table} (HTTP 400${code ? ` ${code}` : ""}: ${message}); check the 'query-filter' input, which is ANDed with the watermark filter.`,
        400,
        code,
      );
    }
    if (res.status >= 300) throw ServiceError.from(res, `Reading table ${this.table}`, this.http.label);
    if (entities === undefined)
      throw new ServiceError(`Reading table ${this.table}: the response was incomplete.`, res.status);
    const date = Date.parse(res.headers["date"] ?? "");
    if (Number.isFinite(date)) {
      this.serverClock ??= new Date(date);
      this.lastServerClock = new Date(date);
    }
    return { entities, continuation: continuationOf(res.headers) };
  }

  /**
   * Pages in order; an empty page with a continuation is followed, not taken as the end. Up to `readAhead`
   * pages (default 2) are fetched ahead of the consumer, so a slow page or a burst of writes does not
   * leave the destination waiting for the source.
   *
   * Each page names where the next starts, so a scan is a chain of requests. To keep the chain short, the
   * next page is asked for as soon as a page's headers arrive (they carry the continuation), while its
   * body is still downloading and being parsed: the service works on the next page meanwhile. Such an
   * early request stands only if the page, once complete (after any retry), names the same continuation;
   * otherwise it and everything asked for after it are dropped and the right page is asked for, so a
   * retried page that ends elsewhere can never skip or repeat entities.
   */
  async *pages(): AsyncGenerator<ReadPage> {
    const depth = Math.max(1, this.opts.readAhead ?? 2);
    interface Fetch {
      from: Continuation | undefined;
      page: Promise<ReadPage>;
      /** Where its headers said the next page starts: unset until they arrive, null: the last page. */
      next?: Continuation | null;
      /** Once complete: where the page says the next one starts, null: the last page. */
      final?: Continuation | null;
    }
    // The pages asked for and not yet taken by the consumer, in order.
    const chain: Fetch[] = [];
    // Where the chain goes on when it is empty: the last page taken said so (or the resume point).
    let resumeFrom: Continuation | undefined = this.opts.continuation;
    let ended = false;
    let failed = false;
    const start = (from: Continuation | undefined): Fetch => {
      const f: Fetch = { from, page: undefined as unknown as Promise<ReadPage> };
      f.page = this.fetch(from, (next) => {
        f.next = next ?? null;
        fill();
      });
      f.page.then(
        (page) => {
          f.final = page.continuation ?? null;
          const i = chain.indexOf(f);
          const after = chain[i + 1];
          // Pages asked for early on headers this complete page contradicts: dropped, with all after them.
          if (i >= 0 && after && (f.final === null || !sameContinuation(after.from, f.final)))
            chain.length = i + 1;
          fill();
        },
        () => {
          // The consumer meets the failure when it takes this page; nothing after it is kept or fetched.
          const i = chain.indexOf(f);
          if (i >= 0) {
            chain.length = i + 1;
            failed = true;
          }
        },
      );
      return f;
    };
    const fill = () => {
      while (!failed && chain.length < depth) {
        const last = chain.at(-1);
        let from: Continuation | undefined;
        if (!last) {
          if (ended) return;
          from = resumeFrom;
        } else if (last.final !== undefined) {
          if (last.final === null) return;
          from = last.final;
        } else if (last.next) from = last.next;
        else return; // its headers have not arrived yet, or they say it is the last page
        chain.push(start(from));
      }
    };
    fill();
    while (chain.length > 0) {
      const page = await chain[0].page;
      chain.shift();
      if (chain.length === 0) {
        resumeFrom = page.continuation;
        ended = !page.continuation;
      }
      this.pagesRead++;
      fill();
      yield page;
    }
  }
}

/** A continuation as the state stores it (state.ts: a ranged one under a field of its own). */
type StoredContinuation = Checkpoint["continuation"];

export function storedContinuation(c: Continuation): StoredContinuation {
  if (c.ranged) return { rangedFrom: c.nextPartitionKey };
  return c.nextRowKey === undefined
    ? { nextPartitionKey: c.nextPartitionKey }
    : { nextPartitionKey: c.nextPartitionKey, nextRowKey: c.nextRowKey };
}

export function continuationFrom(s: StoredContinuation): Continuation {
  return "rangedFrom" in s ? { nextPartitionKey: s.rangedFrom, ranged: true } : { ...s };
}

/** Where the next page starts, from a query answer's headers; undefined on the last page. */
function continuationOf(headers: Record<string, string>): Continuation | undefined {
  const npk = headers["x-ms-continuation-nextpartitionkey"];
  const nrk = headers["x-ms-continuation-nextrowkey"];
  // Either header means there is more. Azurite leaves out the partition key header when the next
  // partition key is the empty string, and only the row key header says the table goes on.
  if (npk === undefined && nrk === undefined) return undefined;
  return { nextPartitionKey: npk ?? "", nextRowKey: nrk };
}

function sameContinuation(a: Continuation | undefined, b: Continuation | undefined): boolean {
  return a?.nextPartitionKey === b?.nextPartitionKey && a?.nextRowKey === b?.nextRowKey;
}
