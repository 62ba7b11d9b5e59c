// A Cosmos DB for Table double: an HTTP proxy in front of an Azurite table endpoint that forwards each
// request and rewrites the answer the way the recorded service answers (../shared/REFERENCE.md, "Cosmos
// DB for Table on the wire"; azure-sdk-for-go `testdata/recordings/*_cosmos.json`):
//
// - queries: continuation headers `x-ms-continuation-NextPartitionKey: {"token":"…","range":{"min":"",
//   "max":"FF"}}` and `x-ms-continuation-NextRowKey: NA` (with a `$filter` the token is a query token,
//   `+RID:~…#RT:1#TRC:…#ISV:2#IEO:65551#QCF:8#FPC:…`), taken back URL-encoded as clients echo them;
//   pages are not sorted by PartitionKey/RowKey and not capped at 1,000 (see "Pages" below);
//   a `$filter` that names Timestamp answers 200 with no rows;
// - Timestamps with 7 fractional digits, the ETag's instant;
// - no `x-ms-version`, no echo of `x-ms-client-request-id`, no `x-ms-error-code`; a fresh
//   `x-ms-request-id`; `Content-Type: application/json; odata=minimalmetadata` (errors: fullmetadata);
// - error bodies `{"odata.error":{"code":…,"message":{"lang":"en-us","value":"…\nRequestID:<id>\n"}}}\r\n`,
//   backend errors with `ActivityId: <id>, documentdb-dotnet-sdk/2.14.0 …` before the RequestID;
// - $batch answers with `batchresponse_<guid>`/`changesetresponse_<guid>` boundaries, MIME part headers
//   ending in a bare LF and the inner HTTP lines in CRLF; success parts `HTTP/1.1 204 No Content` with
//   ETag, Preference-Applied (when asked), Location (inserts) and `Content-ID: n` (1-based); a failure is
//   one part whose message starts `N:` (0-based, also for 0) and ends `\n\nRequestID:<id>\n`;
// - PATCH → 405 MethodNotAllowed (MERGE, and POST with `X-HTTP-Method: MERGE`, work — also inside a
//   $batch, where Azurite alone would take the POST for an insert);
// - 429 TooManyRequests "Request rate is large…" without any retry header (see `throttle`);
// - a request body above 2 MB (2,097,152 bytes, a $batch too) → 413 RequestEntityTooLarge;
// - a property named ETag, id, rid or ResourceId (any case) → 500 InternalServerError "The property or
//   indexer 'Microsoft.Azure.Documents.Resource.ETag' cannot be used in this context because the set
//   accessor is inaccessible" (in a $batch: the failing part);
// - an empty (or missing) PartitionKey or RowKey → 400 PropertiesNeedValue; a key that is not a string →
//   400 InvalidInput;
// - creating a table that exists → 409 TableAlreadyExists "The specified table already exists.";
// - optionally (`wholeDoubles: "int32"`), a whole Double sent as `1` with `Edm.Double` is read back as a
//   bare `1`, an Int32 to every reader. Off by default: the engine's verify would call such a value
//   different (an Int32 is not a Double), and the engine never sends a whole Double without its `.0`.
//
// Pages. A scan is cut into windows of `windowSize` entities in Azurite's key order; the entities of a
// window are served in the order of a seeded hash of their keys, `pageSize` at a time. So a page holds
// entities of many partitions in no key order, and one partition's entities are spread over the pages of
// its window, as Cosmos interleaves them (`emptyPages` adds an empty page before each window, the first
// too). Every entity is returned exactly once: the token names the
// window by the Azurite continuations where it starts and ends (a window is re-read bounded by its end
// key, so writes during the scan move nothing across windows) and the hash the last page ended at.
//
// Shared Key (and Shared Key Lite) sign the request path, not the host or the query (except `comp`), so
// the double can rewrite query strings and forward to a path-style Azurite endpoint without re-signing.
//
// The double lives in cosmos-double/: server.ts (the HTTP server, counters and log, and the context it
// hands the handlers: context.ts; options and counters: options.ts), routes.ts (where each request goes),
// query.ts (pages, windows; tokens in continuation.ts), batch.ts ($batch; its framing in multipart.ts),
// upstream.ts (forwarding to Azurite, its answers in Cosmos's words), refusals.ts and throttle.ts (what
// the double refuses, its 429s), wire.ts (limits, error bodies, 7-digit Timestamps) and signed-request.ts
// (a raw client for tests). This file is the door everything else imports it by.
export { decodeContinuation, splitValueArray } from "./cosmos-double/continuation.js";
export type { AzuriteContinuation, Cursor } from "./cosmos-double/continuation.js";
export type {
  CosmosDouble,
  CosmosDoubleOptions,
  DoubleLogEntry,
  DoubleStats,
  ThrottleOptions,
} from "./cosmos-double/options.js";
export { startCosmosDouble } from "./cosmos-double/server.js";
export { signedRequest } from "./cosmos-double/signed-request.js";
export {
  COSMOS_MAX_REQUEST_BYTES,
  cosmosErrorBody,
  sevenDigits,
  TOO_MANY_REQUESTS,
} from "./cosmos-double/wire.js";
