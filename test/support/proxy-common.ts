// What the test proxies (fault-proxy.ts, throttle-proxy.ts) share: where to forward, and which headers.
import type { IncomingMessage, Server } from "node:http";

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
