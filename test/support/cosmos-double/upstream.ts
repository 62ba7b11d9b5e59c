// The Azurite behind the double: requests sent on to it, and its answers put in Cosmos's words (its own
// request id, no version or client id echo, reworded errors, Timestamps and ETags with 7 digits).
import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { forwardableHeaders, targetOrigin } from "../proxy-common.js";
import type { DoubleContext } from "./context.js";
import {
  COSMOS_TEXT,
  cosmosErrorBody,
  errorOf,
  header,
  sevenDigits,
  type Reply,
  type Upstream,
} from "./wire.js";

export type AzuriteSide = Pick<DoubleContext, "forward" | "translate" | "cosmosHeaders" | "normalize"> & {
  /** Close the connections kept open to Azurite. */
  close(): void;
};

/** The way to the Azurite at `target`; `onForward` is told of each request sent on. */
export function openUpstream(target: string | number, onForward: () => void): AzuriteSide {
  const origin = targetOrigin(target, "cosmos double");
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  /** ETags the double padded to 7 digits → Azurite's own, for If-Match on the way back. */
  const etags = new Map<string, string>();

  const normalize = (text: string): string => {
    const out = sevenDigits(text);
    if (out !== text) {
      for (const m of text.matchAll(/W\/\\?"datetime'[^']*'\\?"/g)) {
        const original = m[0].replace(/\\"/g, '"');
        const padded = sevenDigits(original);
        if (padded !== original) {
          if (etags.size > 100_000) etags.clear();
          etags.set(padded, original);
        }
      }
    }
    return out;
  };

  const forward = (req: IncomingMessage, method: string, path: string, body: Buffer): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      onForward();
      const headers = forwardableHeaders(req.headers, body.length);
      delete headers["accept-encoding"]; // the double reads every answer: no compression
      const ifMatch = header(req.headers, "if-match");
      if (ifMatch && etags.has(ifMatch)) headers["if-match"] = etags.get(ifMatch) as string;
      const up = httpRequest(
        {
          protocol: origin.protocol,
          hostname: origin.hostname,
          port: origin.port,
          method,
          path,
          headers,
          agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      up.on("error", reject);
      up.end(body);
    });

  const cosmosHeaders = (
    up: IncomingHttpHeaders | undefined,
    rid: string,
    error: boolean,
  ): Record<string, string> => {
    const out: Record<string, string> = { "x-ms-request-id": rid };
    const date = up && header(up, "date");
    out.Date = date ?? new Date().toUTCString();
    if (!up) return out;
    const type = header(up, "content-type");
    if (type) {
      out["Content-Type"] = /^application\/json/i.test(type)
        ? `application/json; odata=${error ? "fullmetadata" : "minimalmetadata"}`
        : type;
    }
    const etag = header(up, "etag");
    if (etag) out.ETag = normalize(etag);
    for (const [name, wire] of [
      ["location", "Location"],
      ["preference-applied", "Preference-Applied"],
      ["x-ms-continuation-nexttablename", "x-ms-continuation-NextTableName"],
    ]) {
      const v = header(up, name);
      if (v !== undefined) out[wire] = v;
    }
    return out;
  };

  const translate = (up: Upstream, rid: string): Reply => {
    const type = header(up.headers, "content-type") ?? "";
    if (up.status >= 400 && /json/i.test(type)) {
      const { code, text } = errorOf(up.body.toString("utf8"));
      if (code !== undefined) {
        return {
          status: up.status,
          headers: cosmosHeaders(up.headers, rid, true),
          body: cosmosErrorBody(code, COSMOS_TEXT[code] ?? text ?? "", rid),
        };
      }
    }
    const body = /json/i.test(type) ? normalize(up.body.toString("utf8")) : up.body;
    return { status: up.status, headers: cosmosHeaders(up.headers, rid, up.status >= 400), body };
  };

  return { forward, translate, cosmosHeaders, normalize, close: () => agent.destroy() };
}
