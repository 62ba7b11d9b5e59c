// A minimal HTTP/1.1 server on node:net for the bench's free source and sink: keep-alive connections,
// request bodies by Content-Length or chunked, answers in request order (pipelining), each answer written
// in one piece. node:http's server spends several times more CPU per request, and the servers share one
// CPU with the latency links: what limits a copy through them should be the copy, not the bench.
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface RawRequest {
  method: string;
  /** The request target as sent (path and query, not decoded). */
  url: string;
  /** Header names in lower case; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface RawAnswer {
  status: number;
  /** Header lines, each ending in CRLF, without Content-Length (added here). */
  headers: string;
  body?: Buffer | string;
}

export type RawHandler = (req: RawRequest) => RawAnswer | Promise<RawAnswer>;

const REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Request Entity Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
};

const CRLF2 = Buffer.from("\r\n\r\n");
const CRLF = Buffer.from("\r\n");

/** Serialize an answer: status line, headers, Content-Length, body. */
export function answerBytes(a: RawAnswer): Buffer {
  const body = a.body === undefined ? undefined : typeof a.body === "string" ? Buffer.from(a.body) : a.body;
  const noBody = a.status === 204 || a.status === 304;
  const head =
    `HTTP/1.1 ${a.status} ${REASONS[a.status] ?? "Unknown"}\r\n${a.headers}` +
    (noBody ? "\r\n" : `Content-Length: ${body?.length ?? 0}\r\n\r\n`);
  if (noBody || !body || body.length === 0) return Buffer.from(head, "latin1");
  const out = Buffer.allocUnsafe(head.length + body.length);
  out.write(head, 0, "latin1");
  body.copy(out, head.length);
  return out;
}

class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  /** Requests dispatched, and answers written (answers go out in request order). */
  private issued = 0;
  private written = 0;
  /** Answers done before an earlier one, by request number. */
  private readonly ready = new Map<number, Buffer>();
  private closeAfter = false;

  constructor(
    private readonly socket: Socket,
    private readonly handler: RawHandler,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", () => socket.destroy());
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const parsed = this.parse();
      if (parsed === undefined) return;
      if (parsed === null) {
        this.socket.end(answerBytes({ status: 400, headers: "Connection: close\r\n" }));
        this.buffer = Buffer.alloc(0);
        return;
      }
      this.dispatch(parsed);
    }
  }

  /** The next complete request in the buffer (consumed), undefined when incomplete, null when malformed. */
  private parse(): RawRequest | undefined | null {
    const buf = this.buffer;
    const end = buf.indexOf(CRLF2);
    if (end < 0) return buf.length > 64 * 1024 ? null : undefined;
    const head = buf.toString("latin1", 0, end);
    const lines = head.split("\r\n");
    const [method, url, version] = lines[0].split(" ");
    if (!method || !url || !version?.startsWith("HTTP/1.")) return null;
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(":");
      if (colon <= 0) return null;
      headers[lines[i].slice(0, colon).trim().toLowerCase()] = lines[i].slice(colon + 1).trim();
    }
    let at = end + 4;
    let body: Buffer;
    if (headers["transfer-encoding"]?.toLowerCase().includes("chunked")) {
      const pieces: Buffer[] = [];
      for (;;) {
        const lineEnd = buf.indexOf(CRLF, at);
        if (lineEnd < 0) return undefined;
        const size = parseInt(buf.toString("latin1", at, lineEnd), 16);
        if (!Number.isFinite(size) || size < 0) return null;
        at = lineEnd + 2;
        if (size === 0) {
          // Trailers (none expected) end with an empty line.
          const trailerEnd = buf.indexOf(CRLF, at);
          if (trailerEnd < 0) return undefined;
          at = trailerEnd + 2;
          break;
        }
        if (buf.length < at + size + 2) return undefined;
        pieces.push(buf.subarray(at, at + size));
        at += size + 2;
      }
      body = Buffer.concat(pieces);
    } else {
      const length = Number(headers["content-length"] ?? "0");
      if (!Number.isInteger(length) || length < 0) return null;
      if (buf.length < at + length) return undefined;
      body = buf.subarray(at, at + length);
      at += length;
    }
    this.buffer = at === buf.length ? Buffer.alloc(0) : buf.subarray(at);
    if (version === "HTTP/1.0" || headers["connection"]?.toLowerCase() === "close") this.closeAfter = true;
    return { method, url, headers, body };
  }

  private dispatch(req: RawRequest): void {
    const seq = this.issued++;
    let answer: RawAnswer | Promise<RawAnswer>;
    try {
      answer = this.handler(req);
    } catch (err) {
      answer = { status: 500, headers: "", body: String(err) };
    }
    if (answer instanceof Promise) {
      answer.then(
        (a) => this.fill(seq, a),
        (err: unknown) => this.fill(seq, { status: 500, headers: "", body: String(err) }),
      );
    } else this.fill(seq, answer);
  }

  /** Keep the answer to request `seq`; write every answer that is ready, in request order. */
  private fill(seq: number, answer: RawAnswer): void {
    const bytes = answerBytes(answer);
    if (seq !== this.written) {
      this.ready.set(seq, bytes);
      return;
    }
    const out = [bytes];
    this.written++;
    for (let b = this.ready.get(this.written); b !== undefined; b = this.ready.get(this.written)) {
      this.ready.delete(this.written++);
      out.push(b);
    }
    if (this.socket.destroyed) return;
    this.socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
    if (this.closeAfter && this.written === this.issued) this.socket.end();
  }
}

export interface RawServer {
  server: Server;
  port: number;
  sockets: Set<Socket>;
}

/** A server on a free port of 127.0.0.1. */
export async function listenRaw(handler: RawHandler): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    new Connection(socket, handler);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

/** Stop a server and drop its connections. */
export async function closeRaw(server: RawServer): Promise<void> {
  for (const s of server.sockets) s.destroy();
  await new Promise<void>((resolve) => server.server.close(() => resolve()));
}
