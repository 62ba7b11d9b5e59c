// A local HTTP proxy in front of a table server that injects faults by rule: error statuses with or
// without retry hints, connection resets, stalls and truncated responses. Deterministic for a seed
// (given the order in which requests arrive), and it counts what it saw and what it did.
//
// Shared Key signs the request path, not the host, so a transparent proxy in front of a path-style
// Azurite endpoint needs no re-signing: point a connection string at the proxy and it just works.
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { performance } from "node:perf_hooks";
import {
  forwardableHeaders,
  requestsMatching,
  serveProxy,
  targetOrigin,
  whenWhole,
  type ProxyEndpoint,
} from "./proxy-common.js";
import { prng } from "./prng.js";

/** What to do to a request a rule picked. */
export type Fault =
  /** Answer with this status (the request never reaches the server). */
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: string }
  /** Destroy the client's socket without answering (the request never reaches the server). */
  | { kind: "reset" }
  /**
   * Hold the request `ms`, then destroy the socket (`then: "reset"`, the default: the server never
   * sees it) or forward it (`then: "forward"`: a slow answer; if the client gave up meanwhile the
   * server still executes it, as a real timed-out request may be).
   */
  | { kind: "stall"; ms: number; then?: "reset" | "forward" }
  /** Forward, then send only `fraction` (default ½) of the server's body and destroy the socket. */
  | { kind: "truncate"; fraction?: number };

export interface RequestInfo {
  method: string;
  /** Path and query, as the client sent them. */
  path: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

export interface FaultRule {
  /** Shown in stats and the log; defaults to `rule<index>`. */
  name?: string;
  /** Only these methods (case-insensitive). */
  method?: string | string[];
  /** Only requests whose path-and-query matches. */
  path?: RegExp;
  /** Any other condition. */
  match?: (req: RequestInfo) => boolean;
  /** Fault the Nth matching requests (1-based, counted per rule). */
  nth?: number[];
  /** Fault this share (0–1) of matching requests, drawn from the seeded generator. */
  probability?: number;
  /** Fault at most this many requests. */
  limit?: number;
  fault: Fault;
}

export interface ProxyLogEntry {
  seq: number;
  /** `performance.now()` when the request's body had arrived. */
  at: number;
  method: string;
  path: string;
  /** Request body bytes. */
  bytes: number;
  /** The request body, when `keepBodies` is set. */
  body?: string;
  /** The fault injected (`status:429`, `reset`, `stall`, `truncate`), if any. */
  fault?: string;
  rule?: string;
  /** The status the client was sent (injected or the server's), when it was sent one. */
  status?: number;
}

export interface ProxyStats {
  requests: number;
  forwarded: number;
  faults: number;
  /** Faults by kind: `status:429`, `status:503`, `reset`, `stall`, `truncate`. */
  byFault: Record<string, number>;
  byRule: Record<string, number>;
  log: ProxyLogEntry[];
}

export interface FaultProxyOptions {
  /** The server to forward to: a URL (only its origin is used), a connection string with TableEndpoint, or a port on 127.0.0.1. */
  target: string | number;
  rules?: FaultRule[];
  /** Seed for `probability` rules. */
  seed?: number;
  /** Keep each request body in the log (for inspecting transactions). */
  keepBodies?: boolean;
}

export interface FaultProxy extends ProxyEndpoint {
  readonly stats: ProxyStats;
  /** Replace the rules; their counters start again from zero. */
  setRules(rules: FaultRule[]): void;
  resetStats(): void;
  /** Log entries matching a method and path. */
  requests(method?: string, path?: RegExp): ProxyLogEntry[];
  stop(): Promise<void>;
}

/** Matches entity group transactions. */
export const BATCH: Pick<FaultRule, "method" | "path"> = { method: "POST", path: /\/\$batch(\?|$)/ };
/** Matches table queries (`GET /table()?…`). */
export const QUERY: Pick<FaultRule, "method" | "path"> = { method: "GET", path: /\(\)(\?|$)/ };

/** Fault builders. */
export const faults = {
  status(status: number, headers?: Record<string, string>): Fault {
    return { kind: "status", status, headers };
  },
  reset(): Fault {
    return { kind: "reset" };
  },
  stall(ms: number, then: "reset" | "forward" = "reset"): Fault {
    return { kind: "stall", ms, then };
  },
  truncate(fraction = 0.5): Fault {
    return { kind: "truncate", fraction };
  },
};

const ERROR_CODES: Record<number, string> = {
  408: "OperationTimedOut",
  429: "TooManyRequests",
  500: "InternalError",
  502: "BadGateway",
  503: "ServerBusy",
  504: "GatewayTimeout",
};

/** The OData JSON error body the Table service sends. */
export function odataError(code: string, message: string): string {
  return JSON.stringify({ "odata.error": { code, message: { lang: "en-US", value: message } } });
}

interface RuleState {
  rule: FaultRule;
  name: string;
  seen: number;
  fired: number;
}

function emptyStats(): ProxyStats {
  return { requests: 0, forwarded: 0, faults: 0, byFault: {}, byRule: {}, log: [] };
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const origin = targetOrigin(options.target, "fault proxy");
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let random = prng(options.seed ?? 1);
  let rules: RuleState[] = [];
  let stats = emptyStats();
  const timers = new Set<NodeJS.Timeout>();

  const setRules = (next: FaultRule[]) => {
    rules = next.map((rule, i) => ({ rule, name: rule.name ?? `rule${i}`, seen: 0, fired: 0 }));
    random = prng(options.seed ?? 1);
  };
  setRules(options.rules ?? []);

  const matches = (rule: FaultRule, info: RequestInfo): boolean => {
    if (rule.method !== undefined) {
      const methods = (Array.isArray(rule.method) ? rule.method : [rule.method]).map((m) => m.toUpperCase());
      if (!methods.includes(info.method.toUpperCase())) return false;
    }
    if (rule.path && !rule.path.test(info.path)) return false;
    if (rule.match && !rule.match(info)) return false;
    return true;
  };

  /** Every matching rule counts the request; the first that fires decides the fault. */
  const choose = (info: RequestInfo): RuleState | undefined => {
    let chosen: RuleState | undefined;
    for (const state of rules) {
      if (!matches(state.rule, info)) continue;
      state.seen++;
      if (chosen) continue;
      if (state.rule.limit !== undefined && state.fired >= state.rule.limit) continue;
      const { nth, probability } = state.rule;
      let fire: boolean;
      if (nth !== undefined || probability !== undefined) {
        fire = (nth?.includes(state.seen) ?? false) || (probability !== undefined && random() < probability);
      } else {
        fire = true;
      }
      if (fire) {
        state.fired++;
        chosen = state;
      }
    }
    return chosen;
  };

  const forward = (
    info: RequestInfo,
    res: ServerResponse,
    entry: ProxyLogEntry,
    onBody?: (status: number, headers: IncomingMessage["headers"], body: Buffer) => void,
  ) => {
    stats.forwarded++;
    const upstream = httpRequest(
      {
        protocol: origin.protocol,
        hostname: origin.hostname,
        port: origin.port,
        method: info.method,
        path: info.path,
        headers: forwardableHeaders(info.headers, info.body.length),
        agent,
      },
      (up) => {
        const chunks: Buffer[] = [];
        up.on("data", (c: Buffer) => chunks.push(c));
        up.on("error", () => res.destroy());
        up.on("end", () => {
          const body = Buffer.concat(chunks);
          entry.status = up.statusCode ?? 502;
          if (onBody) return onBody(entry.status, up.headers, body);
          if (res.destroyed) return;
          res.writeHead(entry.status, forwardableHeaders(up.headers, body.length));
          res.end(body);
        });
      },
    );
    upstream.on("error", (err) => {
      if (res.destroyed) return;
      const body = odataError("ProxyUpstreamError", `fault proxy: upstream failed: ${err.message}`);
      entry.status = 502;
      res.writeHead(502, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    });
    upstream.end(info.body);
  };

  const inject = (
    state: RuleState,
    info: RequestInfo,
    req: IncomingMessage,
    res: ServerResponse,
    entry: ProxyLogEntry,
  ) => {
    const fault = state.rule.fault;
    const label = fault.kind === "status" ? `status:${fault.status}` : fault.kind;
    stats.faults++;
    stats.byFault[label] = (stats.byFault[label] ?? 0) + 1;
    stats.byRule[state.name] = (stats.byRule[state.name] ?? 0) + 1;
    entry.fault = label;
    entry.rule = state.name;
    switch (fault.kind) {
      case "status": {
        const code = ERROR_CODES[fault.status] ?? `Status${fault.status}`;
        const body =
          fault.body ??
          odataError(code, `fault proxy: injected ${fault.status} (${state.name}).\nRequestId:proxy`);
        entry.status = fault.status;
        res.writeHead(fault.status, {
          "content-type": "application/json;odata=minimalmetadata;streaming=true;charset=utf-8",
          "x-ms-error-code": code,
          ...fault.headers,
          "content-length": Buffer.byteLength(body),
        });
        res.end(body);
        return;
      }
      case "reset":
        req.socket.destroy();
        return;
      case "stall": {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (fault.then === "forward") forward(info, res, entry);
          else req.socket.destroy();
        }, fault.ms);
        timers.add(timer);
        return;
      }
      case "truncate":
        forward(info, res, entry, (status, headers, body) => {
          if (res.destroyed) return;
          const cut = Math.floor(body.length * Math.min(1, Math.max(0, fault.fraction ?? 0.5)));
          // Announce the full length, send part of it, hang up: the client sees a body cut short.
          res.writeHead(status, forwardableHeaders(headers, body.length));
          res.write(body.subarray(0, cut), () => res.destroy());
        });
        return;
    }
  };

  const server = createServer((req, res) => {
    whenWhole(req, (body) => {
      const info: RequestInfo = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body,
      };
      stats.requests++;
      const entry: ProxyLogEntry = {
        seq: stats.requests,
        at: performance.now(),
        method: info.method,
        path: info.path,
        bytes: info.body.length,
      };
      if (options.keepBodies) entry.body = info.body.toString("utf8");
      stats.log.push(entry);
      const state = choose(info);
      if (state) inject(state, info, req, res, entry);
      else forward(info, res, entry);
    });
  });
  return {
    ...(await serveProxy(server)),
    get stats() {
      return stats;
    },
    setRules,
    resetStats: () => {
      stats = emptyStats();
    },
    requests: (method?: string, path?: RegExp) => requestsMatching(stats.log, method, path),
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
}
