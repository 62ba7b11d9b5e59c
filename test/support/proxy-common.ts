// What the test proxies (fault-proxy.ts, throttle-proxy.ts) share: where to forward, and which headers.
import type { IncomingMessage, Server } from "node:http";
import { AZURITE_ACCOUNT, connectionStringFor } from "./azurite.js";

/** The origin to forward to: a port on 127.0.0.1, a URL, or a connection string with TableEndpoint. */
export function targetOrigin(target: string | number, who: string): URL {
  if (typeof target === "number") return new URL(`http://127.0.0.1:${target}`);
  const endpoint = /(?:^|;)\s*TableEndpoint=([^;]+)/i.exec(target)?.[1];
  const url = new URL(endpoint ?? target);
  if (url.protocol !== "http:") throw new Error(`${who}: only http targets are supported, not ${url.href}`);
  return url;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "proxy-connection",
  "upgrade",
  "te",
  "trailer",
]);

/** End-to-end headers only, with the length of the body actually sent. */
export function forwardableHeaders(
  headers: IncomingMessage["headers"],
  bodyLength: number,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k.toLowerCase())) continue;
    out[k] = v;
  }
  out["content-length"] = String(bodyLength);
  return out;
}

/** Listen on a free port of 127.0.0.1; resolves to the port. */
export async function listenLocal(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  return typeof address === "object" && address ? address.port : 0;
}

/** Where a proxy in front of Azurite listens, as a test reaches it. */
export interface ProxyEndpoint {
  port: number;
  /** The proxied table endpoint: `http://127.0.0.1:<port>/devstoreaccount1`. */
  url: string;
  /** A Shared Key connection string for Azurite's account, through the proxy. */
  connectionString(): string;
}

/** Serve a proxy on a free local port, with a keep-alive timeout like Azurite's own. */
export async function serveProxy(server: Server): Promise<ProxyEndpoint> {
  server.keepAliveTimeout = 5_000;
  const port = await listenLocal(server);
  return {
    port,
    url: `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`,
    connectionString: () => connectionStringFor(port),
  };
}

/** The requests a double logged with this method (any case) and a path matching `path`; all when neither is given. */
export function requestsMatching<E extends { method: string; path: string }>(
  log: E[],
  method?: string,
  path?: RegExp,
): E[] {
  return log.filter(
    (e) =>
      (method === undefined || e.method.toUpperCase() === method.toUpperCase()) &&
      (!path || path.test(e.path)),
  );
}

/**
 * Calls `then` with the whole body of a request (or an answer) once it has ended. A stream error is
 * ignored: the client gave up, and its socket's close ends the exchange.
 */
export function whenWhole(stream: NodeJS.ReadableStream, then: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.on("error", () => undefined);
  stream.on("end", () => then(Buffer.concat(chunks)));
}
