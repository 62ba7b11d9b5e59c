// A source that answers from a recording: the query pages one Azurite server gave for a table, each sent
// back after as long as Azurite took to produce it.
//
// Why: on this 2-core machine the Azurite source has to share a CPU with the tool, and serving a table
// costs it more CPU than the whole sync costs us (about 7 s against 5 s for 100 000 entities). A real
// source (Table Storage) runs elsewhere and takes nothing from the runner. Replaying Azurite's own
// answers (the same bytes, the same continuation headers) at Azurite's own pace keeps the source exactly
// as fast as Azurite and takes that CPU away from the tool's core. The sync still reads every page over
// HTTP, parses it and writes it; only where the source's work happens changes.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { forwardableHeaders, listenLocal, targetOrigin } from "../test/support/proxy-common.js";

interface Recorded {
  status: number;
  /** As forwarded, without the upstream clock: a replay tells the time it answers. */
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** How long the upstream server took for it, from the request to the last byte. */
  serviceMs: number;
}

/** What identifies a query page: the path and the query parameters that choose the page. */
function pageKey(url: string): string {
  const u = new URL(url, "http://x");
  const params = ["$filter", "$select", "$top", "NextPartitionKey", "NextRowKey"].map(
    (p) => `${p}=${u.searchParams.get(p) ?? ""}`,
  );
  return `${decodeURIComponent(u.pathname)}?${params.join("&")}`;
}

export class ReplaySource {
  private readonly pages = new Map<string, Recorded>();
  private recording = true;
  /** Requests that had no recording and went to the upstream server instead (none in a clean bench). */
  unrecorded = 0;
  /**
   * One-entity queries (`$top=1`: whether lanes pay, lane-reader.ts), which go to the upstream server: no
   * page of the scan, so not counted as unrecorded.
   */
  probes = 0;
  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly upstream: URL,
  ) {}

  /** A server on a free local port in front of `upstream` (a connection string or URL); it records until `replay()`. */
  static async start(upstream: string): Promise<ReplaySource> {
    const origin = targetOrigin(upstream, "replay source");
    const ready: { self?: ReplaySource } = {};
    const server = createServer((req, res) => ready.self?.handle(req, res));
    ready.self = new ReplaySource(server, await listenLocal(server), origin);
    return ready.self;
  }

  /** The connection string of the replaying server, for `account` (Azurite's development account). */
  connectionString(upstreamConnectionString: string): string {
    return upstreamConnectionString.replace(
      /TableEndpoint=http:\/\/[^/;]+/i,
      `TableEndpoint=http://127.0.0.1:${this.port}`,
    );
  }

  get recorded(): number {
    return this.pages.size;
  }

  /** Milliseconds Azurite took for all recorded pages together: one sequential scan at its pace. */
  get recordedServiceMs(): number {
    let total = 0;
    for (const page of this.pages.values()) total += page.serviceMs;
    return total;
  }

  /** From now on, answer recorded pages from memory. */
  replay(): void {
    this.recording = false;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const key = req.method === "GET" ? pageKey(req.url ?? "/") : undefined;
    const page = key !== undefined && !this.recording ? this.pages.get(key) : undefined;
    if (page) {
      setTimeout(() => {
        res.writeHead(page.status, { ...page.headers, date: new Date().toUTCString() });
        res.end(page.body);
      }, page.serviceMs);
      return;
    }
    if (!this.recording) {
      if (key?.includes("$top=1&")) this.probes++;
      else this.unrecorded++;
    }
    this.forward(req, res, key);
  }

  private forward(req: IncomingMessage, res: ServerResponse, key: string | undefined): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const sent = Buffer.concat(chunks);
      const started = performance.now();
      const up = request(
        {
          host: this.upstream.hostname,
          port: this.upstream.port,
          method: req.method,
          path: req.url,
          headers: forwardableHeaders(req.headers, sent.length),
        },
        (upRes) => {
          const body: Buffer[] = [];
          upRes.on("data", (c: Buffer) => body.push(c));
          upRes.on("end", () => {
            const bytes = Buffer.concat(body);
            const headers = forwardableHeaders(upRes.headers, bytes.length);
            if (this.recording && key !== undefined && upRes.statusCode === 200) {
              const { date: _clock, ...kept } = headers;
              this.pages.set(key, {
                status: 200,
                headers: kept,
                body: bytes,
                serviceMs: Math.round(performance.now() - started),
              });
            }
            res.writeHead(upRes.statusCode ?? 502, headers);
            res.end(bytes);
          });
        },
      );
      up.on("error", (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      up.end(sent);
    });
  }
}
