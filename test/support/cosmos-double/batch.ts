// `POST /$batch`: what Cosmos refuses is refused before anything is written (the first such operation
// fails the changeset), `X-HTTP-Method: MERGE` is made a MERGE (Azurite alone would take the POST for an
// insert), and Azurite's answer is put in Cosmos's framing: success parts 204 with ETag,
// Preference-Applied, Location and a 1-based Content-ID; a failure one part whose message starts `N:`.
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { DoubleContext } from "./context.js";
import {
  batchReply,
  buildBatchRequest,
  failurePart,
  parseBatchRequest,
  parseBatchResponse,
  partHeader,
  type BatchPart,
  type ResponsePart,
} from "./multipart.js";
import { EMPTY_KEY, methodNotAllowed, refuseBody, type Refusal } from "./refusals.js";
import { COSMOS_TEXT, errorOf, header, keysOfPath, wholeDoublesToInt32, type Reply } from "./wire.js";

/** What Cosmos refuses in one operation of a changeset. */
function refusedPart(p: BatchPart): Refusal | undefined {
  if (p.method === "PATCH") return methodNotAllowed("PATCH");
  if (p.method === "GET") return undefined;
  const keys = keysOfPath(new URL(p.url, "http://x").pathname);
  if (keys && (keys.pk === "" || keys.rk === "")) return EMPTY_KEY;
  if (p.method !== "DELETE") return refuseBody(p.body, !keys);
  return undefined;
}

/** Azurite's failed changeset as Cosmos answers it: one part, its message prefixed with the 0-based index. */
function failureReply(answers: ResponsePart[], failed: number, rid: string): Reply {
  const a = answers[failed];
  const { code, text } = errorOf(a.body);
  const prefixed = /^(\d+):([\s\S]*)$/.exec(text ?? "");
  const contentId = Number(a.headers["content-id"]);
  const index = prefixed
    ? Number(prefixed[1])
    : Number.isFinite(contentId) && contentId > 0
      ? contentId - 1
      : failed;
  const message = code && COSMOS_TEXT[code] ? COSMOS_TEXT[code] : (prefixed?.[2] ?? text ?? "");
  return batchReply(rid, [failurePart(index, a.status, code ?? "InvalidInput", message, rid)]);
}

/** A success part as Cosmos words it: `HTTP/1.1 204 No Content`, ETag, Preference-Applied, Location, Content-ID. */
function successPart(ctx: DoubleContext, a: ResponsePart, p: BatchPart | undefined, i: number): string {
  let head = `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status] ?? ""}\r\n`;
  if (a.headers.etag) head += `ETag: ${ctx.normalize(a.headers.etag)}\r\n`;
  const prefer = p && partHeader(p, "Prefer");
  if (prefer) head += `Preference-Applied: ${prefer}\r\n`;
  if (a.headers.location) head += `Location: ${a.headers.location}\r\n`;
  if (a.body) head += `Content-Type: application/json;odata=minimalmetadata\r\n`;
  else if (p?.method === "PUT") head += `Content-Type: application/json\r\n`;
  head += `Content-ID: ${i + 1}\r\n\r\n`;
  return `${head}${a.body ? ctx.normalize(a.body) : ""}\r\n`;
}

export async function batch(
  ctx: DoubleContext,
  req: IncomingMessage,
  path: string,
  body: Buffer,
  rid: string,
): Promise<Reply> {
  const contentType = header(req.headers, "content-type") ?? "";
  const parsed = parseBatchRequest(body.toString("utf8"), contentType);
  if (!parsed) return ctx.translate(await ctx.forward(req, "POST", path, body), rid);
  const { parts } = parsed;
  let rewritten = false;
  // What Cosmos refuses before anything is written: the first such operation fails the changeset.
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const override = partHeader(p, "X-HTTP-Method");
    if (override) {
      // Azurite takes `POST … X-HTTP-Method: MERGE` inside a changeset for an insert: say MERGE.
      p.method = override.toUpperCase();
      p.headerLines = p.headerLines.filter((l) => !/^x-http-method\s*:/i.test(l));
      rewritten = true;
    }
    const refused = refusedPart(p);
    if (refused) {
      ctx.count("batch-failure");
      return {
        ...batchReply(rid, [failurePart(i, refused.status, refused.code, refused.text, rid)]),
        note: refused.note,
      };
    }
    if (ctx.opts().wholeDoubles === "int32" && p.body) {
      const changed = wholeDoublesToInt32(p.body);
      if (changed !== p.body) {
        p.body = changed;
        rewritten = true;
      }
    }
  }
  const sent = rewritten ? Buffer.from(buildBatchRequest(parsed.outer, parsed.inner, parts), "utf8") : body;
  const up = await ctx.forward(req, "POST", path, sent);
  if (up.status !== 202) return ctx.translate(up, rid);
  const answers = parseBatchResponse(up.body.toString("utf8"));
  if (!answers) return ctx.translate(up, rid);
  const failed = answers.findIndex((a) => a.status >= 300);
  if (failed >= 0) {
    ctx.count("batch-failure");
    return failureReply(answers, failed, rid);
  }
  return batchReply(
    rid,
    answers.map((a, i) => successPart(ctx, a, parts[i], i)),
  );
}
