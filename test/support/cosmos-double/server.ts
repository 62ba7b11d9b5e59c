// The double's HTTP server: it keeps the options, the counters and the throttle, hands the request
// handlers (routes.ts) a context over them, logs every request and answers what the handlers reply.
// What the double reproduces, and why: ../cosmos-double.ts.
import { createServer, type ServerResponse } from "node:http";
import { requestsMatching, serveProxy, whenWhole } from "../proxy-common.js";
import type { DoubleContext } from "./context.js";
import {
  emptyStats,
  type CosmosDouble,
  type CosmosDoubleOptions,
  type DoubleLogEntry,
  type DoubleStats,
  type LiveOptions,
} from "./options.js";
import { handle } from "./routes.js";
import { Throttle } from "./throttle.js";
import { openUpstream } from "./upstream.js";
import type { Reply } from "./wire.js";

/** The answer when the double itself fails (Azurite out of reach, say). */
function upstreamError(err: unknown): string {
  return `{"odata.error":{"code":"ProxyUpstreamError","message":{"lang":"en-us","value":${JSON.stringify(
    `cosmos double: ${err instanceof Error ? err.message : String(err)}`,
  )}}}}`;
}

export async function startCosmosDouble(options: CosmosDoubleOptions): Promise<CosmosDouble> {
  let opts: LiveOptions = { ...options };
  let stats: DoubleStats = emptyStats();
  let throttle = new Throttle(opts.throttle);
  const count = (event: string) => (stats.events[event] = (stats.events[event] ?? 0) + 1);
  const azurite = openUpstream(options.target, () => stats.forwarded++);
  const ctx: DoubleContext = {
    opts: () => opts,
    stats: () => stats,
    count,
    throttled: (method, path, body) => throttle.hits(method, path, body),
    forward: azurite.forward,
    translate: azurite.translate,
    cosmosHeaders: azurite.cosmosHeaders,
    normalize: azurite.normalize,
  };

  const answer = (res: ServerResponse, entry: DoubleLogEntry, reply: Reply) => {
    if (reply.note) {
      entry.note = reply.note;
      count(reply.note);
    }
    entry.status = reply.status;
    stats.byStatus[reply.status] = (stats.byStatus[reply.status] ?? 0) + 1;
    if (res.destroyed) return;
    const out = typeof reply.body === "string" ? Buffer.from(reply.body, "utf8") : reply.body;
    res.writeHead(reply.status, { ...reply.headers, "Content-Length": String(out.length) });
    res.end(out);
  };

  const fail = (res: ServerResponse, entry: DoubleLogEntry, err: unknown) => {
    entry.status = 502;
    stats.byStatus[502] = (stats.byStatus[502] ?? 0) + 1;
    if (res.destroyed) return;
    const text = upstreamError(err);
    res.writeHead(502, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
    res.end(text);
  };

  const server = createServer((req, res: ServerResponse) => {
    whenWhole(req, (body) => {
      const method = (req.method ?? "GET").toUpperCase();
      stats.requests++;
      stats.byMethod[method] = (stats.byMethod[method] ?? 0) + 1;
      stats.maxRequestBytes = Math.max(stats.maxRequestBytes, body.length);
      const entry: DoubleLogEntry = { seq: stats.requests, method, path: req.url ?? "/", bytes: body.length };
      stats.log.push(entry);
      handle(ctx, req, body).then(
        (reply) => answer(res, entry, reply),
        (err: unknown) => fail(res, entry, err),
      );
    });
  });
  return {
    ...(await serveProxy(server)),
    get stats() {
      return stats;
    },
    configure: (next) => {
      opts = { ...opts, ...next };
      throttle = new Throttle(opts.throttle);
    },
    resetStats: () => {
      stats = emptyStats();
    },
    requests: (method?: string, path?: RegExp) => requestsMatching(stats.log, method, path),
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      azurite.close();
    },
  };
}
