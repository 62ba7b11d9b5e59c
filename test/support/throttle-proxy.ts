// A local HTTP proxy in front of a table server that throttles like Cosmos DB: a token bucket of
// `ruPerSecond` request units per second (capacity: one second of budget, full at the start), a cost
// per request that grows with its payload, and HTTP 429 with `x-ms-retry-after-ms` when the bucket
// cannot pay for a request (which then never reaches the server).
//
// Cost model (an approximation of Cosmos DB for Table's, documented so the bench's figures can be read):
// - a write (POST $batch, PUT/MERGE/POST entity, DELETE) costs, per operation, `writeRuPerOperation`
//   (5) RU plus `ruPerKb` (1) RU per KiB of its request body; a $batch's operations are its
//   `Content-Type: application/http` parts, and its body bytes are shared among them, so a batch of n
//   operations costs 5·n + body KiB;
// - a read (GET) costs 1 RU per KiB of the response body, at least 1 RU. The size is known only after
//   the server answered, so a read is admitted when the bucket holds 1 RU and charged afterwards (the
//   bucket may go below zero, as a Cosmos partition's does for a large query page).
// Every response the proxy forwards carries `x-ms-request-charge` with the RU it cost.
//
// Shared Key signs the request path, not the host, so a transparent proxy in front of a path-style
// Azurite endpoint needs no re-signing (see fault-proxy.ts).
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { performance } from "node:perf_hooks";
import { odataError } from "./fault-proxy.js";
import {
  forwardableHeaders,
  serveProxy,
  targetOrigin,
  whenWhole,
  type ProxyEndpoint,
} from "./proxy-common.js";

export interface ThrottleProxyOptions {
  /** The server to forward to: a URL (only its origin is used), a connection string with TableEndpoint, or a port on 127.0.0.1. */
  target: string | number;
  /** The budget: request units per second; the bucket holds one second of it. */
  ruPerSecond: number;
  /** RU per write operation before its size is counted (default 5). */
  writeRuPerOperation?: number;
  /** RU per KiB of a write's request body or a read's response body (default 1). */
  ruPerKb?: number;
  /** Clock in milliseconds (default `performance.now`), for tests. */
  now?: () => number;
}

export interface ThrottleStats {
  /** Requests that arrived (accepted + throttled). */
  requests: number;
  /** Requests answered 429 (never forwarded). */
  throttled: number;
  /** Requests forwarded to the server. */
  accepted: number;
  /** RU charged for accepted requests. */
  consumedRu: number;
  /** Write operations accepted (a $batch counts each of its operations). */
  operations: number;
  /** When the first request arrived and the last response was sent (ms, the proxy's clock). */
  startedAt?: number;
  endedAt?: number;
}

export interface ThrottleProxy extends ProxyEndpoint {
  readonly stats: ThrottleStats;
  /** The budget, RU/s. */
  readonly ruPerSecond: number;
  /** Budget used: consumed RU ÷ (RU/s × seconds from the first request to the last response). */
  budgetUsed(): number;
  /**
   * Budget used, counting the bucket's initial second of credit as budget too: consumed RU ÷ (RU/s ×
   * (seconds + 1)). Never above 1.
   */
  budgetUsedWithCredit(): number;
  /** Share of requests answered 429. */
  throttledShare(): number;
  /** Zero the stats and refill the bucket. */
  reset(): void;
  stop(): Promise<void>;
}

/** The RU a write costs: `perOperation` per operation plus `perKb` per KiB of the body. */
export function writeCost(
  body: Buffer,
  isBatch: boolean,
  perOperation = 5,
  perKb = 1,
): { ru: number; operations: number } {
  const operations = isBatch ? Math.max(1, countParts(body)) : 1;
  return { ru: perOperation * operations + (perKb * body.length) / 1024, operations };
}

const PART = Buffer.from("Content-Type: application/http", "latin1");

function countParts(body: Buffer): number {
  let n = 0;
  for (let i = body.indexOf(PART); i !== -1; i = body.indexOf(PART, i + PART.length)) n++;
  return n;
}

/** A token bucket of `rate` tokens per second holding at most `capacity`, full at the start. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly rate: number,
    readonly capacity: number,
    private readonly now: () => number,
  ) {
    this.tokens = capacity;
    this.at = now();
  }

  /** Tokens now (may be negative after a charge made afterwards). */
  level(): number {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.at) / 1000) * this.rate);
    this.at = t;
    return this.tokens;
  }

  /** Take `n` tokens if there are that many: 0; otherwise the ms until there will be, and take nothing. */
  take(n: number, need = n): number {
    const level = this.level();
    if (level >= need) {
      this.tokens -= n;
      return 0;
    }
    return Math.max(1, Math.ceil(((need - level) / this.rate) * 1000));
  }

  /** Charge `n` tokens unconditionally (the bucket may go below zero). */
  charge(n: number): void {
    this.level();
    this.tokens -= n;
  }
}

function emptyStats(): ThrottleStats {
  return { requests: 0, throttled: 0, accepted: 0, consumedRu: 0, operations: 0 };
}

const WRITE_METHODS = new Set(["POST", "PUT", "MERGE", "DELETE", "PATCH"]);

export async function startThrottleProxy(options: ThrottleProxyOptions): Promise<ThrottleProxy> {
  if (!(options.ruPerSecond > 0)) throw new Error("throttle proxy: ruPerSecond must be positive");
  const origin = targetOrigin(options.target, "throttle proxy");
  const now = options.now ?? (() => performance.now());
  const perOperation = options.writeRuPerOperation ?? 5;
  const perKb = options.ruPerKb ?? 1;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let bucket = new TokenBucket(options.ruPerSecond, options.ruPerSecond, now);
  let stats = emptyStats();

  const throttle = (res: ServerResponse, waitMs: number) => {
    stats.throttled++;
    const body = odataError(
      "TooManyRequests",
      'Message: {"Errors":["Request rate is large. More Request Units may be needed, so no changes were made. Please retry this request later."]}\nRequestId:throttle-proxy',
    );
    res.writeHead(429, {
      "content-type": "application/json;odata=minimalmetadata;streaming=true;charset=utf-8",
      "x-ms-error-code": "TooManyRequests",
      "x-ms-retry-after-ms": String(waitMs),
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
    stats.endedAt = now();
  };

  const forward = (
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
    charge: (responseBody: Buffer) => number,
  ) => {
    const upstream = httpRequest(
      {
        protocol: origin.protocol,
        hostname: origin.hostname,
        port: origin.port,
        method: req.method,
        path: req.url,
        headers: forwardableHeaders(req.headers, body.length),
        agent,
      },
      (up) => {
        const chunks: Buffer[] = [];
        up.on("data", (c: Buffer) => chunks.push(c));
        up.on("error", () => res.destroy());
        up.on("end", () => {
          const out = Buffer.concat(chunks);
          const ru = charge(out);
          stats.endedAt = now();
          if (res.destroyed) return;
          res.writeHead(up.statusCode ?? 502, {
            ...forwardableHeaders(up.headers, out.length),
            "x-ms-request-charge": ru.toFixed(2),
          });
          res.end(out);
        });
      },
    );
    upstream.on("error", (err) => {
      if (res.destroyed) return;
      const text = odataError("ProxyUpstreamError", `throttle proxy: upstream failed: ${err.message}`);
      res.writeHead(502, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    });
    upstream.end(body);
  };

  const server = createServer((req, res) => {
    whenWhole(req, (body) => {
      const method = (req.method ?? "GET").toUpperCase();
      stats.requests++;
      stats.startedAt ??= now();
      if (WRITE_METHODS.has(method)) {
        const isBatch = method === "POST" && /\/\$batch(\?|$)/.test(req.url ?? "");
        const cost = writeCost(body, isBatch, perOperation, perKb);
        const wait = bucket.take(cost.ru);
        if (wait > 0) return throttle(res, wait);
        stats.accepted++;
        stats.consumedRu += cost.ru;
        stats.operations += cost.operations;
        forward(req, body, res, () => cost.ru);
        return;
      }
      // A read: admitted with 1 RU in the bucket, charged by its response's size afterwards.
      const wait = bucket.take(0, 1);
      if (wait > 0) return throttle(res, wait);
      stats.accepted++;
      forward(req, body, res, (out) => {
        const ru = Math.max(1, (perKb * out.length) / 1024);
        bucket.charge(ru);
        stats.consumedRu += ru;
        return ru;
      });
    });
  });
  return {
    ...(await serveProxy(server)),
    get stats() {
      return stats;
    },
    ruPerSecond: options.ruPerSecond,
    budgetUsed: () => {
      const { startedAt, endedAt } = stats;
      if (startedAt === undefined || endedAt === undefined || endedAt <= startedAt) return 0;
      return stats.consumedRu / ((options.ruPerSecond * (endedAt - startedAt)) / 1000);
    },
    budgetUsedWithCredit: () => {
      const { startedAt, endedAt } = stats;
      if (startedAt === undefined || endedAt === undefined || endedAt <= startedAt) return 0;
      return stats.consumedRu / (options.ruPerSecond * ((endedAt - startedAt) / 1000 + 1));
    },
    throttledShare: () => (stats.requests === 0 ? 0 : stats.throttled / stats.requests),
    reset: () => {
      stats = emptyStats();
      bucket = new TokenBucket(options.ruPerSecond, options.ruPerSecond, now);
    },
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
}
