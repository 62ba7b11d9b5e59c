// The double's options, its counters and what startCosmosDouble hands back.
import type { ProxyEndpoint } from "../proxy-common.js";

export interface ThrottleOptions {
  /** Every Nth request that `match` admits is answered 429 (deterministic: counted in arrival order). */
  everyNth?: number;
  /**
   * A budget in RU/s (a token bucket holding one second of it, full at the start; costs as
   * throttle-proxy.ts counts them): a request the bucket cannot pay for is answered 429.
   */
  ruPerSecond?: number;
  /** Which requests may be throttled (default: all). */
  match?: (req: { method: string; path: string }) => boolean;
  /** A throttled $batch is answered 202 with a failing `0:` part of status 429, not with a 429 response. */
  inChangeset?: boolean;
}

export interface CosmosDoubleOptions {
  /** The Azurite table server to forward to: a URL, a connection string with TableEndpoint, or a port on 127.0.0.1. */
  target: string | number;
  /** Entities per query page at most (default 1,500: Cosmos does not cap pages at 1,000); `$top` lowers it. */
  pageSize?: number;
  /** Entities (in Azurite's key order) whose order is mixed together (default 2 × pageSize). */
  windowSize?: number;
  /** Seed of the order within a window. */
  seed?: string | number;
  /** Request bodies above this many bytes are answered 413 (default 2 MB). */
  maxRequestBytes?: number;
  throttle?: ThrottleOptions;
  /** "int32": a whole Double sent as `1` with `Edm.Double` is stored, and read back, as a bare `1`. Default "keep". */
  wholeDoubles?: "keep" | "int32";
  /**
   * Answer an empty page (with a continuation) before each window, the first too, as Cosmos may when a
   * scan moves on to another partition range. Default false.
   */
  emptyPages?: boolean;
}

/** The options that can change while the double runs (all but the target). */
export type LiveOptions = Omit<CosmosDoubleOptions, "target">;

export interface DoubleLogEntry {
  seq: number;
  method: string;
  /** Path and query as the client sent them. */
  path: string;
  /** Request body bytes. */
  bytes: number;
  /** The status the client was sent. */
  status?: number;
  /** What the double did itself: `throttled`, `too-large`, `patch`, `reserved`, `empty-key`, `timestamp-filter`, … */
  note?: string;
}

export interface DoubleStats {
  requests: number;
  /** Requests sent on to Azurite (a query page may take several). */
  forwarded: number;
  byMethod: Record<string, number>;
  byStatus: Record<number, number>;
  /** Refusals and rewrites by kind (the `note`s of the log). */
  events: Record<string, number>;
  /** Query pages served, and how many of those requests carried a continuation token. */
  pages: number;
  continued: number;
  /** Entities served in query pages. */
  entitiesServed: number;
  /** Largest request body seen (bytes). */
  maxRequestBytes: number;
  log: DoubleLogEntry[];
}

export interface CosmosDouble extends ProxyEndpoint {
  readonly stats: DoubleStats;
  /** Change options while running (the throttle's counters start again). */
  configure(options: Partial<LiveOptions>): void;
  resetStats(): void;
  /** Log entries matching a method and a path. */
  requests(method?: string, path?: RegExp): DoubleLogEntry[];
  stop(): Promise<void>;
}

export function emptyStats(): DoubleStats {
  return {
    requests: 0,
    forwarded: 0,
    byMethod: {},
    byStatus: {},
    events: {},
    pages: 0,
    continued: 0,
    entitiesServed: 0,
    maxRequestBytes: 0,
    log: [],
  };
}
