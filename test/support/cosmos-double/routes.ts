// Where each request goes: refusals first (a body above the size limit, a 429, PATCH), then $batch,
// table requests, single-entity requests (checked for what Cosmos refuses) and queries; whatever is
// left is forwarded to Azurite and its answer translated.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { batch } from "./batch.js";
import type { DoubleContext } from "./context.js";
import { query } from "./query.js";
import { EMPTY_KEY, methodNotAllowed, refusal, refuseBody, TOO_LARGE } from "./refusals.js";
import { throttledAnswer } from "./throttle.js";
import {
  COSMOS_MAX_REQUEST_BYTES,
  keysOfPath,
  WRITE_METHODS,
  wholeDoublesToInt32,
  type Reply,
} from "./wire.js";

export async function handle(ctx: DoubleContext, req: IncomingMessage, body: Buffer): Promise<Reply> {
  const rid = randomUUID();
  const opts = ctx.opts();
  const method = (req.method ?? "GET").toUpperCase();
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? "" : url.slice(q + 1);
  const isBatch = method === "POST" && /\/\$batch$/.test(path);
  if (body.length > (opts.maxRequestBytes ?? COSMOS_MAX_REQUEST_BYTES)) return refusal(TOO_LARGE, rid);
  if (ctx.throttled(method, path, body)) return throttledAnswer(rid, isBatch && !!opts.throttle?.inChangeset);
  if (method === "PATCH") return refusal(methodNotAllowed("PATCH"), rid);
  if (isBatch) return batch(ctx, req, path, body, rid);
  const segments = path.split("/").filter(Boolean);
  const resource = segments[1] ?? "";
  if (/^Tables(\(|$)/i.test(resource)) {
    return ctx.translate(await ctx.forward(req, method, url, body), rid);
  }
  const keys = keysOfPath(path);
  if (keys) {
    if (WRITE_METHODS.has(method) && (keys.pk === "" || keys.rk === "")) return refusal(EMPTY_KEY, rid);
    if (method === "PUT" || method === "MERGE" || (method === "POST" && body.length > 0)) {
      const refused = refuseBody(body.toString("utf8"), false);
      if (refused) return refusal(refused, rid);
    }
  } else if (method === "POST") {
    // An insert: its keys are in the body.
    const refused = refuseBody(body.toString("utf8"), true);
    if (refused) return refusal(refused, rid);
  } else if (method === "GET" && /^[^()]+(\(\))?$/.test(resource)) {
    return query(ctx, req, path, rawQuery, rid);
  }
  let sent = body;
  if (opts.wholeDoubles === "int32" && body.length > 0 && WRITE_METHODS.has(method)) {
    const text = body.toString("utf8");
    const changed = wholeDoublesToInt32(text);
    if (changed !== text) sent = Buffer.from(changed, "utf8");
  }
  return ctx.translate(await ctx.forward(req, method, url, sent), rid);
}
