// One keep-alive HTTP/1.1 connection to a table service, one request at a time, on node:net / node:tls.
//
// Why not undici's Client: with one entity per partition every entity is a request, and whatever a
// request costs is paid per entity. undici validates and re-joins every header, parses in WebAssembly one
// call per header field and value, and queues each request several times: up to a third more CPU per
// request, 1.3–1.6× the resident memory in a full copy (docs/performance.md has the figures). Our requests
// are few in kind and built by us; the answers come from two known services. So this speaks exactly the
// HTTP/1.1 they need:
// - a request is its head and a Content-Length body, written in one piece; no pipelining, no
//   `Expect: 100-continue`, no compression asked for (so none comes back);
// - an answer's body is framed by Content-Length, by chunked transfer coding, or (no framing, an old
//   server) by the connection closing; 1xx interim answers are skipped; 204, 304 and HEAD have none;
// - the connection is reused unless the answer says `Connection: close`, is HTTP/1.0 without keep-alive,
//   or was framed by closing; a connection idle longer than the keep-alive time (or the server's
//   `Keep-Alive: timeout` hint, less a second) is replaced before use, not risked;
// - TLS sessions are resumed across the connections to one service (a thousand connections over a far link
//   would each pay a full handshake otherwise).
// Anything malformed fails the request with a code our retry rules know (PARSE_ERROR, ECONNRESET).
// Through a proxy, each connection is a tunnel (proxy.ts) with TLS inside it; the first request waits
// for the tunnel.
import type { Socket } from "node:net";
import { dial, endpointOf, type TlsSessionCache } from "./dial.js";
import { Framing, failure, readHead, requestHead, type RequestOptions } from "./h1-head.js";
import { openTunnel } from "./proxy.js";

export type { RequestOptions } from "./h1-head.js";
export type { TlsSessionCache } from "./dial.js";

export interface ResponseHandler {
  /** Called before anything is sent: `abort` ends the request (and its connection) with that error. */
  onConnect(abort: (err: Error) => void): void;
  /** The answer's status and header lines as sent (`name: value`, CRLF between). */
  onHeaders(status: number, head: string): void;
  onData(chunk: Buffer): void;
  onComplete(): void;
  onError(err: Error): void;
}

const CRLF2 = Buffer.from("\r\n\r\n");
const CRLF = Buffer.from("\r\n");
/** A head longer than this is not an answer from a table service. */
const MAX_HEAD = 64 * 1024;
/** A connection not made in this long fails (as undici's default): a dropped SYN must not wait for the
 * request time-out, six times over, before the user hears that the endpoint cannot be reached. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface ConnectionOptions {
  /** Certificates to trust besides the system's (tests; users set NODE_EXTRA_CA_CERTS). */
  ca?: string | Buffer;
  /** CONNECT_TIMEOUT_MS unless given. */
  connectTimeoutMs?: number;
  /** The proxy to tunnel through (proxy.ts); undefined: straight to the service. */
  proxy?: URL;
}

export class H1Connection {
  private socket?: Socket;
  /** While a tunnel is being opened: the socket to the proxy, and the request waiting to go out. */
  private tunnel?: Socket;
  private waiting?: Buffer[];
  private handler?: ResponseHandler;
  private method = "";
  /** Bytes received and not yet consumed. */
  private pending?: Buffer;
  private status = 0;
  private framing = Framing.Length;
  /** Body bytes still to come (Length), or of the current chunk (Chunked). */
  private remaining = 0;
  /** Chunked: -1 reading a size line, 0.. reading data, -2 reading the CRLF after data, -3 trailers. */
  private chunkState = -1;
  private keepAlive = true;
  private idleSince = 0;
  private idleLimitMs: number;
  closed = false;

  constructor(
    private readonly url: URL,
    private readonly keepAliveMs: number,
    private readonly tlsSessions: TlsSessionCache,
    private readonly options: ConnectionOptions = {},
  ) {
    this.idleLimitMs = keepAliveMs;
  }

  get busy(): boolean {
    return this.handler !== undefined;
  }

  dispatch(opts: RequestOptions, handler: ResponseHandler): void {
    if (this.handler) throw new Error("H1Connection: one request at a time");
    // Checked before anything is taken: a request that cannot be sent as it is leaves the connection as
    // it was (its socket is not at fault).
    let head = requestHead(opts, this.url.host);
    let aborted: Error | undefined;
    this.handler = handler;
    this.method = opts.method;
    handler.onConnect((err) => {
      aborted ??= err;
      if (this.handler === handler) this.fail(err);
    });
    if (aborted) return;
    if (typeof head !== "string") {
      this.reset();
      return handler.onError(head);
    }
    const body = opts.body;
    if (body) head += `content-length: ${body.length}\r\n`;
    else if (opts.method !== "GET" && opts.method !== "HEAD") head += "content-length: 0\r\n";
    head += "\r\n";
    const socket = this.ready();
    if (!socket) {
      // A tunnel being opened: the request goes out once it is (see open).
      this.waiting = body?.length ? [Buffer.from(head, "latin1"), body] : [Buffer.from(head, "latin1")];
      return;
    }
    // A request in flight keeps the process alive; an idle connection does not (see complete).
    socket.ref();
    // One write: the head and the body in one buffer (a one-entity body is about a kilobyte).
    const headBytes = Buffer.byteLength(head, "latin1");
    if (!body || body.length === 0) socket.write(head, "latin1");
    else if (body.length <= 16 * 1024) {
      const out = Buffer.allocUnsafe(headBytes + body.length);
      out.write(head, 0, "latin1");
      body.copy(out, headBytes);
      socket.write(out);
    } else {
      socket.cork();
      socket.write(head, "latin1");
      socket.write(body);
      socket.uncork();
    }
  }

  /** Close the connection (no request may be on it). */
  close(): void {
    this.closed = true;
    this.socket?.destroy();
    this.socket = undefined;
    this.dropTunnel();
  }

  private dropTunnel(): void {
    this.tunnel?.destroy();
    this.tunnel = this.waiting = undefined;
  }

  /**
   * The socket to send on: the current one, unless it is gone or has been idle too long; undefined while a
   * tunnel to the service is being opened.
   */
  private ready(): Socket | undefined {
    const s = this.socket;
    if (
      s &&
      !s.destroyed &&
      s.writable &&
      !s.readableEnded &&
      performance.now() - this.idleSince < this.idleLimitMs
    )
      return s;
    if (s) s.destroy();
    return this.open();
  }

  private open(): Socket | undefined {
    const target = endpointOf(this.url);
    const proxy = this.options.proxy;
    if (!proxy) return this.attach(dial(target, this.tlsSessions, this.options.ca));
    this.socket = undefined;
    const connectMs = this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    // One time-out for the tunnel and the TLS inside it.
    const deadline = performance.now() + connectMs;
    // The callback is never called before openTunnel returns (it waits for the proxy), so `timer` is set.
    const tunnel = openTunnel(proxy, target.host, target.port, this.options, (err, raw) => {
      clearTimeout(timer);
      if (this.tunnel !== tunnel) return raw?.destroy(); // given up on meanwhile
      const waiting = this.waiting;
      this.tunnel = this.waiting = undefined;
      if (err || !raw) return this.fail(err ?? failure("no tunnel", "EPROXY"));
      const socket = this.attach(
        dial(target, this.tlsSessions, this.options.ca, raw),
        Math.max(1, deadline - performance.now()),
      );
      socket.ref();
      for (const bytes of waiting ?? []) socket.write(bytes);
    });
    const timer = setTimeout(() => {
      if (this.tunnel !== tunnel) return;
      this.dropTunnel();
      this.fail(failure(`no tunnel through the proxy ${proxy.host} within ${connectMs} ms`, "ETIMEDOUT"));
    }, connectMs);
    timer.unref();
    this.tunnel = tunnel;
    return undefined;
  }

  /** Make `socket` this connection's: its settings, its connect time-out and the framing's listeners. */
  private attach(socket: Socket, connectMs = this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS): Socket {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    const connectTimer = setTimeout(
      () => socket.destroy(failure(`no connection to ${this.url.host} within ${connectMs} ms`, "ETIMEDOUT")),
      connectMs,
    );
    connectTimer.unref();
    if (this.url.protocol === "https:") socket.once("secureConnect", () => clearTimeout(connectTimer));
    else if (socket.connecting) socket.once("connect", () => clearTimeout(connectTimer));
    else clearTimeout(connectTimer);
    socket.on("data", (chunk: Buffer) => this.received(socket, chunk));
    socket.on("error", (err) => {
      clearTimeout(connectTimer);
      if (this.socket === socket) this.fail(err);
    });
    // The server's FIN: the connection is done now, not when 'close' follows (a request sent in between
    // would go into a dead connection).
    socket.on("end", () => this.closedBy(socket));
    socket.on("close", () => {
      clearTimeout(connectTimer);
      this.closedBy(socket);
    });
    this.socket = socket;
    this.pending = undefined;
    this.idleLimitMs = this.keepAliveMs;
    return socket;
  }

  private closedBy(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    socket.destroy();
    if (!this.handler) return;
    if (this.status !== 0 && this.framing === Framing.UntilClose) return this.complete(false);
    this.fail(failure("other side closed", "ECONNRESET"));
  }

  /** End the request in flight with `err`; the connection is not reused. */
  private fail(err: Error): void {
    const h = this.handler;
    this.dropTunnel();
    this.reset();
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
    h?.onError(err);
  }

  private reset(): void {
    this.handler = undefined;
    this.pending = undefined;
    this.status = 0;
    this.chunkState = -1;
  }

  private complete(reuse: boolean): void {
    const h = this.handler!;
    const leftover = this.pending !== undefined && this.pending.length > 0;
    this.reset();
    // Bytes after the answer we did not ask for, or of our request not yet sent (an early answer, say a 503
    // to a large body the server did not read): the connection's framing cannot be trusted.
    if (!reuse || leftover || (this.socket?.writableLength ?? 0) > 0) {
      this.socket?.destroy();
      this.socket = undefined;
    } else {
      this.idleSince = performance.now();
      this.socket?.unref();
    }
    h.onComplete();
  }

  private received(socket: Socket, chunk: Buffer): void {
    if (this.socket !== socket) return;
    if (!this.handler) {
      // Nothing asked for: a server's unsolicited bytes (a 408 before closing). Not reusable.
      this.socket = undefined;
      socket.destroy();
      return;
    }
    let data = this.pending && this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    try {
      while (this.handler && data.length > 0) {
        if (this.status === 0) {
          const end = data.indexOf(CRLF2);
          if (end < 0) {
            if (data.length > MAX_HEAD) throw failure("response head too large", "PARSE_ERROR");
            this.pending = data;
            return;
          }
          const head = data.toString("latin1", 0, end);
          data = data.subarray(end + 4);
          if (!this.head(head)) continue; // 1xx: the real answer follows
          if (this.noBody()) {
            this.pending = data;
            this.complete(this.keepAlive);
            return;
          }
          continue;
        }
        const rest = this.body(data);
        // Nothing consumed: a chunk's size line or end is not all here yet.
        if (rest.length === data.length && this.handler) {
          this.pending = rest;
          return;
        }
        data = rest;
      }
      if (data.length > 0) this.pending = data;
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** Read a head (h1-head.ts); false for an interim (1xx) answer. */
  private head(head: string): boolean {
    const h = readHead(head, this.method);
    if (!h) return false;
    this.keepAlive = h.keepAlive;
    if (h.idleHintMs !== undefined) this.idleLimitMs = Math.min(this.keepAliveMs, h.idleHintMs);
    this.framing = h.framing;
    this.remaining = h.length;
    this.chunkState = -1;
    this.status = h.status;
    this.handler!.onHeaders(h.status, h.lines);
    return true;
  }

  private noBody(): boolean {
    return this.framing === Framing.Length && this.remaining === 0;
  }

  /** Consume body bytes from `data`; what is left after the answer's end is returned. */
  private body(data: Buffer): Buffer {
    const h = this.handler!;
    if (this.framing === Framing.UntilClose) {
      h.onData(data);
      return data.subarray(data.length);
    }
    if (this.framing === Framing.Length) {
      const take = Math.min(this.remaining, data.length);
      if (take > 0) h.onData(take === data.length ? data : data.subarray(0, take));
      this.remaining -= take;
      const rest = data.subarray(take);
      if (this.remaining === 0) {
        this.pending = rest;
        this.complete(this.keepAlive);
        return Buffer.alloc(0);
      }
      return rest;
    }
    return this.chunked(data);
  }

  private chunked(data: Buffer): Buffer {
    while (data.length > 0) {
      if (this.chunkState === -1 || this.chunkState === -3) {
        const eol = data.indexOf(CRLF);
        if (eol < 0) {
          if (data.length > 4096) throw failure("malformed chunk size", "PARSE_ERROR");
          return data; // kept as pending: the line is not complete yet
        }
        const line = data.toString("latin1", 0, eol);
        data = data.subarray(eol + 2);
        if (this.chunkState === -3) {
          // Trailers: skipped up to the empty line that ends the answer.
          if (line === "") {
            this.pending = data;
            this.complete(this.keepAlive);
            return Buffer.alloc(0);
          }
          continue;
        }
        const size = /^([0-9a-fA-F]{1,12})\s*(;.*)?$/.exec(line);
        if (!size) throw failure(`malformed chunk size ${line.slice(0, 20)}`, "PARSE_ERROR");
        this.remaining = parseInt(size[1], 16);
        this.chunkState = this.remaining === 0 ? -3 : 0;
      } else if (this.chunkState === 0) {
        const take = Math.min(this.remaining, data.length);
        this.handler!.onData(take === data.length ? data : data.subarray(0, take));
        this.remaining -= take;
        data = data.subarray(take);
        if (this.remaining === 0) this.chunkState = -2;
      } else {
        // -2: the CRLF after a chunk's data.
        if (data.length < 2) return data;
        if (data[0] !== 13 || data[1] !== 10) throw failure("malformed chunk end", "PARSE_ERROR");
        data = data.subarray(2);
        this.chunkState = -1;
      }
    }
    return data;
  }
}
