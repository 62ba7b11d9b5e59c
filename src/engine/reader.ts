// Paging through a table with exact wire types, one page fetched ahead of the consumer.
import { parseEntityPage, type WireEntity } from "./edm.js";
import { ServiceError, TableMissingError } from "./errors.js";
import { serviceMessage, type HttpResponse, type TableHttp } from "./http.js";

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

  constructor(
    private readonly http: TableHttp,
    readonly table: string,
    private readonly opts: ReadOptions = {},
  ) {}

  private async fetch(continuation: Continuation | undefined): Promise<ReadPage> {
    const params = new URLSearchParams();
    if (this.opts.filter) params.set("$filter", this.opts.filter);
    if (this.opts.select?.length) params.set("$select", this.opts.select.join(","));
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
    return { entities, continuation: npk ? { nextPartitionKey: npk, nextRowKey: nrk } : undefined };
  }

  /** Pages in order; an empty page with a continuation is followed, not taken as the end. */
  async *pages(): AsyncGenerator<ReadPage> {
    let next: Promise<ReadPage> | undefined = this.fetch(this.opts.continuation);
    while (next) {
      const page: ReadPage = await next;
      next = page.continuation ? this.fetch(page.continuation) : undefined;
      // If the consumer stops early, a prefetched page's failure must not surface as unhandled.
      next?.catch(() => undefined);
      yield page;
    }
  }
}
