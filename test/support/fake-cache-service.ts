// A local double of the GitHub Actions cache service v2, just as much as @actions/cache 6 uses:
//  - Twirp JSON at POST /twirp/github.actions.results.api.v1.CacheService/{CreateCacheEntry,
//    FinalizeCacheEntryUpload, GetCacheEntryDownloadURL}, with the runtime token as a bearer token;
//  - the blob behind the signed URLs it hands out: upload through @azure/storage-blob's BlockBlobClient (a single
//    PUT with x-ms-blob-type: BlockBlob for archives up to 128 MiB; `?comp=block` + `?comp=blocklist` above),
//    download with a plain GET (the library uses the Azure SDK only for *.blob.core.windows.net hosts).
// Lookups follow the service: key and version must match, the exact key first, then the newest entry whose key
// starts with each restore key in turn; only finalized entries are found.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const SERVICE = "/twirp/github.actions.results.api.v1.CacheService/";

export interface CacheEntry {
  id: number;
  key: string;
  version: string;
  /** The uploaded archive (empty until the upload). */
  data: Buffer;
  finalized: boolean;
  /** Creation order: larger is newer. */
  created: number;
  sig: string;
  blocks: Map<string, Buffer>;
}

export interface CacheFaults {
  /** CreateCacheEntry: `conflict` answers a Twirp 409 already_exists, `not-ok` answers {ok: false, message}. */
  create?: "conflict" | "not-ok";
  /** FinalizeCacheEntryUpload answers {ok: false}. */
  finalize?: "not-ok";
  /** The blob PUT answers 403 (not retried by the SDK). */
  upload?: "forbidden";
  /** GetCacheEntryDownloadURL answers a Twirp 400 (not retried). */
  lookup?: "error";
}

export interface FakeCacheRequest {
  method: string;
  path: string;
}

export class FakeCacheService {
  readonly entries: CacheEntry[] = [];
  readonly requests: FakeCacheRequest[] = [];
  faults: CacheFaults = {};
  readonly token = `fake-runtime-token-${randomBytes(8).toString("hex")}`;
  private seq = 0;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakeCacheService> {
    const server = createServer();
    const fake = new FakeCacheService(server);
    server.on("request", (req, res) => {
      fake.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ code: "internal", msg: String(err) }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** ACTIONS_RESULTS_URL: the library resolves `/twirp/…` against it. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** The variables a runner gives a step for cache service v2. */
  env(): Record<string, string> {
    return {
      ACTIONS_RESULTS_URL: this.url,
      ACTIONS_RUNTIME_TOKEN: this.token,
      ACTIONS_CACHE_SERVICE_V2: "true",
    };
  }

  finalizedKeys(): string[] {
    return this.entries.filter((e) => e.finalized).map((e) => e.key);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    this.requests.push({ method: req.method ?? "", path: url.pathname + url.search });
    const body = await readBody(req);
    if (url.pathname.startsWith(SERVICE) && req.method === "POST") {
      if (req.headers.authorization !== `Bearer ${this.token}`) {
        return twirpError(res, 401, "unauthenticated", "invalid runtime token");
      }
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
      } catch {
        return twirpError(res, 400, "malformed", "body is not JSON");
      }
      const method = url.pathname.slice(SERVICE.length);
      if (method === "CreateCacheEntry") return this.create(json, res);
      if (method === "FinalizeCacheEntryUpload") return this.finalize(json, res);
      if (method === "GetCacheEntryDownloadURL") return this.lookup(json, res);
      return twirpError(res, 404, "bad_route", `no method ${method}`);
    }
    const blob = /^\/blob\/(\d+)$/.exec(url.pathname);
    if (blob) return this.blob(Number(blob[1]), url, req, body, res);
    res.writeHead(404).end();
  }

  private create(json: Record<string, unknown>, res: ServerResponse): void {
    const key = String(json.key ?? "");
    const version = String(json.version ?? "");
    if (!key || !version) return twirpError(res, 400, "invalid_argument", "key and version are required");
    if (this.faults.create === "not-ok")
      return sendJson(res, 200, { ok: false, message: "cache entry refused" });
    const exists = this.entries.some((e) => e.key === key && e.version === version);
    if (this.faults.create === "conflict" || exists) {
      return twirpError(
        res,
        409,
        "already_exists",
        "cache entry with the same key, version, and scope already exists",
      );
    }
    const entry: CacheEntry = {
      id: this.entries.length + 1,
      key,
      version,
      data: Buffer.alloc(0),
      finalized: false,
      created: ++this.seq,
      sig: randomBytes(12).toString("hex"),
      blocks: new Map(),
    };
    this.entries.push(entry);
    sendJson(res, 200, { ok: true, signed_upload_url: this.signedUrl(entry, "w") });
  }

  private finalize(json: Record<string, unknown>, res: ServerResponse): void {
    const entry = this.entries.find((e) => e.key === json.key && e.version === json.version && !e.finalized);
    if (this.faults.finalize === "not-ok" || !entry) return sendJson(res, 200, { ok: false, entry_id: "0" });
    if (String(entry.data.length) !== String(json.size_bytes)) {
      return sendJson(res, 200, {
        ok: false,
        message: `size ${String(json.size_bytes)} != ${entry.data.length}`,
      });
    }
    entry.finalized = true;
    sendJson(res, 200, { ok: true, entry_id: String(entry.id) });
  }

  private lookup(json: Record<string, unknown>, res: ServerResponse): void {
    if (this.faults.lookup === "error") return twirpError(res, 400, "internal", "lookup failed");
    const key = String(json.key ?? "");
    const version = String(json.version ?? "");
    const restoreKeys = Array.isArray(json.restore_keys) ? json.restore_keys.map(String) : [];
    const candidates = this.entries.filter((e) => e.finalized && e.version === version);
    const newest = (list: CacheEntry[]) => list.sort((a, b) => b.created - a.created)[0];
    let hit = candidates.find((e) => e.key === key);
    for (const prefix of [key, ...restoreKeys]) {
      if (hit) break;
      hit = newest(candidates.filter((e) => e.key.startsWith(prefix)));
    }
    if (!hit) return sendJson(res, 200, { ok: false });
    sendJson(res, 200, { ok: true, signed_download_url: this.signedUrl(hit, "r"), matched_key: hit.key });
  }

  private blob(id: number, url: URL, req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const entry = this.entries.find((e) => e.id === id);
    if (!entry || url.searchParams.get("sig") !== entry.sig) {
      return blobError(res, 403, "AuthenticationFailed");
    }
    const perm = url.searchParams.get("sp");
    if (req.method === "PUT") {
      if (perm !== "w" || entry.finalized) return blobError(res, 403, "AuthorizationPermissionMismatch");
      if (this.faults.upload === "forbidden") return blobError(res, 403, "AuthorizationFailure");
      const comp = url.searchParams.get("comp");
      if (comp === "block") {
        entry.blocks.set(url.searchParams.get("blockid") ?? "", body);
      } else if (comp === "blocklist") {
        const ids = [...body.toString("utf8").matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)].map(
          (m) => m[1],
        );
        const parts = ids.map((blockId) => entry.blocks.get(blockId));
        if (parts.some((p) => !p)) return blobError(res, 400, "InvalidBlockList");
        entry.data = Buffer.concat(parts as Buffer[]);
        entry.blocks.clear();
      } else if (req.headers["x-ms-blob-type"] === "BlockBlob") {
        entry.data = body;
      } else {
        return blobError(res, 400, "InvalidHeaderValue");
      }
      res.writeHead(201, blobHeaders({ etag: `"0x${entry.created.toString(16)}"` })).end();
      return;
    }
    if (req.method === "GET" || req.method === "HEAD") {
      if (perm !== "r" || !entry.finalized) return blobError(res, 404, "BlobNotFound");
      res.writeHead(200, {
        ...blobHeaders({}),
        "Content-Type": "application/octet-stream",
        "Content-Length": String(entry.data.length),
        "x-ms-blob-type": "BlockBlob",
      });
      res.end(req.method === "GET" ? entry.data : undefined);
      return;
    }
    blobError(res, 405, "UnsupportedHttpVerb");
  }

  private signedUrl(entry: CacheEntry, perm: "r" | "w"): string {
    const expiry = new Date(Date.now() + 3600_000).toISOString();
    return `${this.url}blob/${entry.id}?sv=2024-08-04&se=${encodeURIComponent(expiry)}&sp=${perm}&sig=${entry.sig}`;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function twirpError(res: ServerResponse, status: number, code: string, msg: string): void {
  sendJson(res, status, { code, msg });
}

function blobHeaders(extra: Record<string, string>): Record<string, string> {
  return {
    "x-ms-request-id": randomBytes(8).toString("hex"),
    "x-ms-version": "2024-08-04",
    "x-ms-request-server-encrypted": "true",
    "Last-Modified": new Date().toUTCString(),
    Date: new Date().toUTCString(),
    ...extra,
  };
}

function blobError(res: ServerResponse, status: number, code: string): void {
  const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`;
  res.writeHead(status, { ...blobHeaders({}), "Content-Type": "application/xml", "x-ms-error-code": code });
  res.end(xml);
}
