// The bench's free source: a table served from memory at no cost, answering as Table Storage does (pages
// of at most 1,000 entities sorted by PartitionKey and RowKey, continuation in headers) or, in `unsorted`
// mode, as Cosmos DB for Table does (entities in no key order, JSON continuation tokens with
// `NextRowKey: NA`, no `x-ms-version`). Every page of an unfiltered scan is rendered to a Buffer before
// anything is timed, so serving one costs a lookup and a socket write: whatever limits a copy from it, it
// is not the source.
//
// It answers what a full sync asks: the query pages (with `$filter` on key ranges, `$select`, `$top`),
// `GET Tables('name')`, `POST Tables` (409: the table exists) and `GET Tables`. Requests arrive signed;
// the signature is not checked. Anything else is answered 501 and counted in `unexpected`.
import type { WireEntity } from "../src/engine/wire/edm.js";
import { prng } from "../test/support/prng.js";
import { parseKeyFilter, type KeyFilter } from "./free-source-filter.js";
import {
  compareKeys,
  cosmosToken,
  fromCosmosToken,
  fromStorageToken,
  lowerBoundOf,
  queryJson,
  shapeEntities,
  storageToken,
  type Row,
} from "./free-source-rows.js";
import {
  ACCOUNT,
  STORAGE_VERSION,
  accountPath,
  errorAnswer,
  httpDate,
  tableOfTablesPath,
  timestampAt,
} from "./free-wire.js";
import { closeRaw, listenRaw, type RawAnswer, type RawRequest, type RawServer } from "./raw-http.js";
export interface SourceTable {
  /** The table's name (default `benchsource`). */
  table?: string;
  entities: number;
  /** Entities per partition: partition p holds rows 0…K−1 (the last one fewer when K does not divide N). */
  perPartition: number;
  /** Serve as Cosmos DB for Table does: shuffled pages, JSON continuation tokens. */
  unsorted?: boolean;
  /** Entities per page (default 1,000). */
  pageSize?: number;
}

/** A rendered page. */
interface Page {
  body: Buffer;
  /** The answer's header lines but Date (continuation headers included). */
  headers: string;
  /** Continuation, when the query goes on. */
  next?: [string, string];
  count: number;
}

export interface SourceStats {
  requests: number;
  pages: number;
  entitiesServed: number;
  unexpected: number;
  /** The first few unexpected requests, `METHOD path`. */
  unexpectedSeen: string[];
}

export class FreeSource {
  private rows: Row[] = [];
  /** The rows in key order (for key lookups), whatever order they are served in. */
  private sorted: Row[] = [];
  private shape: Required<SourceTable> = {
    table: "benchsource",
    entities: 0,
    perPartition: 1,
    unsorted: false,
    pageSize: 1000,
  };
  private pages = new Map<string, Page>();
  /** Unsorted: per filter, the served positions of the rows in its partition-key range, ascending. */
  private ranges = new Map<string, Int32Array>();
  readonly stats: SourceStats = {
    requests: 0,
    pages: 0,
    entitiesServed: 0,
    unexpected: 0,
    unexpectedSeen: [],
  };

  private constructor(private readonly server: RawServer) {}

  static async start(table?: SourceTable): Promise<FreeSource> {
    const holder: { self?: FreeSource } = {};
    const server = await listenRaw((req) => holder.self!.handle(req));
    holder.self = new FreeSource(server);
    if (table) holder.self.load(table);
    return holder.self;
  }

  /** The table endpoint, `http://127.0.0.1:<port>/devstoreaccount1`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/${ACCOUNT}`;
  }

  get table(): string {
    return this.shape.table;
  }

  get unsorted(): boolean {
    return this.shape.unsorted;
  }

  /** Every entity of the table in the order a scan serves them. */
  entities(): WireEntity[] {
    return this.rows.map((r) => r.entity);
  }

  /** Replace the table by a new one and render every page of its plain scan. Returns the milliseconds taken. */
  load(table: SourceTable): number {
    const started = performance.now();
    this.shape = {
      table: table.table ?? "benchsource",
      entities: table.entities,
      perPartition: table.perPartition,
      unsorted: table.unsorted ?? false,
      pageSize: table.pageSize ?? 1000,
    };
    this.pages.clear();
    const rows: Row[] = [];
    let i = 0;
    for (const entity of shapeEntities(table.entities, table.perPartition)) {
      const timestamp = timestampAt(i++);
      rows.push({
        partitionKey: entity.partitionKey,
        rowKey: entity.rowKey,
        json: Buffer.from(queryJson(entity, timestamp)),
        entity,
        timestamp,
        at: 0,
      });
    }
    rows.sort((a, b) => compareKeys(a.partitionKey, b.partitionKey) || compareKeys(a.rowKey, b.rowKey));
    this.sorted = rows;
    if (this.shape.unsorted) {
      // Shuffled (Fisher–Yates, seeded): partitions spread over the whole scan, as Cosmos serves them.
      const shuffled = rows.slice();
      const next = prng(0x5eed + table.entities * 31 + table.perPartition);
      for (let j = shuffled.length - 1; j > 0; j--) {
        const k = Math.floor(next() * (j + 1));
        [shuffled[j], shuffled[k]] = [shuffled[k], shuffled[j]];
      }
      this.rows = shuffled;
    } else {
      this.rows = rows;
    }
    this.rows.forEach((r, at) => (r.at = at));
    this.ranges.clear();
    // Render the plain scan's pages now, before anything is timed.
    let offset = 0;
    for (;;) {
      const page = this.page(undefined, undefined, undefined, offset, this.shape.pageSize);
      if (!page.next) break;
      offset += page.count;
    }
    this.resetStats();
    return performance.now() - started;
  }

  resetStats(): void {
    Object.assign(this.stats, {
      requests: 0,
      pages: 0,
      entitiesServed: 0,
      unexpected: 0,
      unexpectedSeen: [],
    });
  }

  get port(): number {
    return this.server.port;
  }

  async stop(): Promise<void> {
    await closeRaw(this.server);
  }

  /** Unsorted: the served positions of the rows in `filter`'s partition-key range, ascending. */
  private inRange(filterText: string, filter: KeyFilter): Int32Array {
    const cached = this.ranges.get(filterText);
    if (cached) return cached;
    const lo = filter.pkFrom ? this.lowerBound(filter.pkFrom.key, undefined, filter.pkFrom.inclusive) : 0;
    const hi = filter.pkTo
      ? this.lowerBound(filter.pkTo.key, undefined, !filter.pkTo.inclusive)
      : this.sorted.length;
    const at = new Int32Array(Math.max(0, hi - lo));
    for (let k = lo; k < hi; k++) at[k - lo] = this.sorted[k].at;
    at.sort();
    this.ranges.set(filterText, at);
    return at;
  }

  /** Index of the first row at or after (pk, rk) in key order. */
  private lowerBound(pk: string, rk: string | undefined, inclusive = true): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = this.sorted[mid];
      let c = compareKeys(r.partitionKey, pk);
      if (c === 0 && rk !== undefined) c = compareKeys(r.rowKey, rk);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The page starting at `offset` (an index into the served order) for a query: rendered once, then
   * served from memory.
   */
  private page(
    filterText: string | undefined,
    filter: KeyFilter | undefined,
    select: string | undefined,
    offset: number,
    limit: number,
  ): Page {
    const cacheKey = `${filterText ?? ""}\u0001${select ?? ""}\u0001${limit}\u0001${offset}`;
    const cached = this.pages.get(cacheKey);
    if (cached) return cached;
    const rows = this.rows;
    let start = offset;
    let end = rows.length;
    if (!this.shape.unsorted && filter) {
      if (filter.pkFrom)
        start = Math.max(start, this.lowerBound(filter.pkFrom.key, undefined, filter.pkFrom.inclusive));
      if (filter.pkTo) end = this.lowerBound(filter.pkTo.key, undefined, !filter.pkTo.inclusive);
    }
    // Unsorted with a key range: only the rows in it are looked at (as the service's index does), not the
    // whole table once per range, so the harness's own CPU stays out of a ranged read's figures.
    const inRange =
      this.shape.unsorted && filter && (filter.pkFrom || filter.pkTo)
        ? this.inRange(filterText!, filter)
        : undefined;
    const selected = select ? new Set(select.split(",").map((s) => s.trim())) : undefined;
    const parts: Buffer[] = [];
    let count = 0;
    let i = start;
    const comma = Buffer.from(",");
    const take = (row: Row) => {
      if (filter && !filter.test(row)) return;
      if (count > 0) parts.push(comma);
      parts.push(selected ? Buffer.from(queryJson(row.entity, row.timestamp, selected)) : row.json);
      count++;
    };
    if (inRange) {
      let j = lowerBoundOf(inRange, offset);
      for (; j < inRange.length && count < limit; j++) take(rows[inRange[j]]);
      i = j < inRange.length ? inRange[j] : end;
    } else {
      for (; i < end && count < limit; i++) take(rows[i]);
    }
    const metadata = `http://127.0.0.1:${this.port}/${ACCOUNT}/$metadata#${this.shape.table}${select ? `&$select=${select}` : ""}`;
    const body = Buffer.concat([
      Buffer.from(`{"odata.metadata":${JSON.stringify(metadata)},"value":[`),
      ...parts,
      Buffer.from("]}"),
    ]);
    let next: [string, string] | undefined;
    if (i < end) {
      next = this.shape.unsorted
        ? [cosmosToken(i), "NA"]
        : [storageToken(rows[i].partitionKey), storageToken(rows[i].rowKey)];
    }
    let headers = "Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n";
    headers += this.shape.unsorted
      ? "Content-Type: application/json; odata=minimalmetadata\r\n"
      : `Content-Type: application/json;odata=minimalmetadata;streaming=true;charset=utf-8\r\nx-ms-version: ${STORAGE_VERSION}\r\n`;
    if (next)
      headers += `x-ms-continuation-NextPartitionKey: ${next[0]}\r\nx-ms-continuation-NextRowKey: ${next[1]}\r\n`;
    const page: Page = { body, headers, next, count };
    // A key range's pages (an unsorted read's, or a sorted one's lanes and probes) are asked for once (a
    // retry aside): kept, they would grow the harness's heap by the whole table and its collector would
    // pause the source mid-run.
    if (!filter) this.pages.set(cacheKey, page);
    return page;
  }

  private handle(req: RawRequest): RawAnswer {
    this.stats.requests++;
    const target = accountPath(req.url);
    const method = req.method;
    const cosmos = this.shape.unsorted;
    const error = (status: number, code: string, message: string) =>
      errorAnswer(status, code, message, cosmos);
    const unexpected = () => {
      this.stats.unexpected++;
      if (this.stats.unexpectedSeen.length < 10) this.stats.unexpectedSeen.push(`${method} ${req.url}`);
      return error(501, "NotImplemented", `The bench's free source does not answer ${method} ${req.url}.`);
    };
    if (!target) return unexpected();
    const { path, query } = target;
    const named = tableOfTablesPath(path);
    if (named !== undefined && method === "GET") {
      if (named !== this.shape.table)
        return error(404, "ResourceNotFound", "The specified resource does not exist.");
      return this.json(200, JSON.stringify({ TableName: named }));
    }
    if (path === "Tables" && method === "POST") {
      let name: unknown;
      try {
        name = (JSON.parse(req.body.toString("utf8")) as { TableName?: unknown }).TableName;
      } catch {
        name = undefined;
      }
      if (name === this.shape.table)
        return error(409, "TableAlreadyExists", "The table specified already exists.");
      return error(403, "AuthorizationPermissionMismatch", "The bench's free source serves one table.");
    }
    if (path === "Tables" && method === "GET") {
      return this.json(200, JSON.stringify({ value: [{ TableName: this.shape.table }] }));
    }
    const queried = /^([A-Za-z][A-Za-z0-9]*)(?:\(\))?$/.exec(path)?.[1];
    if (queried === undefined || method !== "GET") return unexpected();
    if (queried !== this.shape.table)
      return error(404, "TableNotFound", "The table specified does not exist.");
    return this.query(query);
  }

  private query(query: URLSearchParams): RawAnswer {
    const cosmos = this.shape.unsorted;
    const error = (status: number, code: string, message: string) =>
      errorAnswer(status, code, message, cosmos);
    const filterText = query.get("$filter") ?? undefined;
    const filter = filterText ? parseKeyFilter(filterText) : undefined;
    if (filterText && !filter)
      return error(
        501,
        "NotImplemented",
        `The bench's free source cannot evaluate the filter ${filterText}.`,
      );
    const select = query.get("$select") ?? undefined;
    const top = query.get("$top");
    let limit = this.shape.pageSize;
    if (top !== null) {
      const n = Number(top);
      if (!Number.isInteger(n) || n < 1) return error(400, "InvalidInput", "$top is invalid.");
      limit = cosmos ? n : Math.min(n, 1000);
    }
    const npk = query.get("NextPartitionKey");
    const nrk = query.get("NextRowKey");
    let offset = 0;
    if (npk !== null) {
      if (cosmos) {
        const at = fromCosmosToken(npk);
        if (at === undefined || nrk !== "NA")
          return error(400, "InvalidInput", "The continuation token is invalid.");
        offset = at;
      } else {
        const pk = fromStorageToken(npk);
        const rk = nrk === null ? undefined : fromStorageToken(nrk);
        if (pk === undefined || (nrk !== null && rk === undefined))
          return error(400, "InvalidInput", "The continuation token is invalid.");
        offset = this.lowerBound(pk, rk);
      }
    }
    const page = this.page(filterText, filter, select, offset, limit);
    this.stats.pages++;
    this.stats.entitiesServed += page.count;
    return { status: 200, headers: `${page.headers}Date: ${httpDate()}\r\n`, body: page.body };
  }

  private json(status: number, body: string): RawAnswer {
    return {
      status,
      headers:
        (this.shape.unsorted
          ? "Content-Type: application/json; odata=nometadata\r\n"
          : `Content-Type: application/json;odata=nometadata;streaming=true;charset=utf-8\r\nx-ms-version: ${STORAGE_VERSION}\r\n`) +
        `Date: ${httpDate()}\r\n`,
      body,
    };
  }
}
