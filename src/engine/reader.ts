// Paging through a table with exact wire types, a few pages fetched ahead of the consumer.
import { parseEntityPage, type WireEntity } from "./edm.js";
import { ServiceError, TableMissingError } from "./errors.js";
import { serviceMessage, type HttpResponse, type HttpStats, type TableHttp } from "./http.js";

export interface Continuation {
  nextPartitionKey: string;
  nextRowKey?: string;
}

export interface ReadPage {
  entities: WireEntity[];
  /** Where the next page starts; absent on the last page. */
  continuation?: Continuation;
}

export interface ReadOptions {
  filter?: string;
  select?: string[];
  /** Resume from here instead of the table's start. */
  continuation?: Continuation;
  /** Pages fetched ahead of the consumer (default 2). */
  readAhead?: number;
  /**
   * At most this many entities on the first page (`$top`); the rest come in pages as large as the service
   * gives. A small first page arrives sooner, so the destination starts working while the next is read.
   */
  firstPageSize?: number;
}

export function tableUrl(http: TableHttp, table: string): string {
  return `${http.url}/${table}`;
}

export class TableReader {
  /** The source server's clock when the scan began (the first response's `Date` header). */
  serverClock?: Date;
  /** The source server's clock at the latest response. */
  lastServerClock?: Date;
  pagesRead = 0;
  private requested = 0;
  /** This reader's requests, 429s and retries. */
  readonly httpStats: HttpStats = { requests: 0, throttled: 0, retries: 0 };

  constructor(
    private readonly http: TableHttp,
    readonly table: string,
    private readonly opts: ReadOptions = {},
  ) {}

  private async fetch(continuation: Continuation | undefined): Promise<ReadPage> {
    const params = new URLSearchParams();
    if (this.opts.filter) params.set("$filter", this.opts.filter);
    if (this.opts.select?.length) params.set("$select", this.opts.select.join(","));
    if (this.requested++ === 0 && this.opts.firstPageSize !== undefined)
      params.set("$top", String(this.opts.firstPageSize));
    if (continuation) {
      params.set("NextPartitionKey", continuation.nextPartitionKey);
      if (continuation.nextRowKey !== undefined) params.set("NextRowKey", continuation.nextRowKey);
    }
    const qs = params.toString().replace(/\+/g, "%20");
    let entities: WireEntity[] | undefined;
    const res: HttpResponse = await this.http.send({
      method: "GET",
      url: `${tableUrl(this.http, this.table)}()${qs ? `?${qs}` : ""}`,
      headers: { Accept: "application/json;odata=minimalmetadata" },
      stats: this.httpStats,
      // A body cut short by the network is retried rather than taken as the end of the table.
      isComplete: (r) => {
        try {
          entities = parseEntityPage(r.body);
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
    this.pagesRead++;
    const npk = res.headers["x-ms-continuation-nextpartitionkey"];
    const nrk = res.headers["x-ms-continuation-nextrowkey"];
    // Either header means there is more. Azurite leaves out the partition key header when the next
    // partition key is the empty string, and only the row key header says the table goes on.
    const more = npk !== undefined || nrk !== undefined;
    return { entities, continuation: more ? { nextPartitionKey: npk ?? "", nextRowKey: nrk } : undefined };
  }

  /**
   * Pages in order; an empty page with a continuation is followed, not taken as the end. Up to `readAhead`
   * pages (default 2) are fetched ahead of the consumer: a page is requested as soon as the one before it
   * arrived, so a slow page or a burst of writes does not leave the destination waiting for the source.
   */
  async *pages(): AsyncGenerator<ReadPage> {
    const depth = Math.max(1, this.opts.readAhead ?? 2);
    const queue: Promise<ReadPage>[] = [];
    let continuation: Continuation | undefined = this.opts.continuation;
    let more = true; // a page is still to be requested
    let fetching = false; // pages come one after another: each names where the next starts
    const fill = () => {
      if (fetching || !more || queue.length >= depth) return;
      fetching = true;
      const p = this.fetch(continuation);
      queue.push(p);
      p.then(
        (page) => {
          fetching = false;
          continuation = page.continuation;
          more = !!page.continuation;
          fill();
        },
        () => {
          // The consumer meets the failure when it takes this page; nothing is fetched after it.
          fetching = false;
          more = false;
        },
      );
    };
    fill();
    while (queue.length > 0) {
      const page = await queue[0];
      queue.shift();
      fill();
      yield page;
    }
  }
}
