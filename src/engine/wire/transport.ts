// One HTTP exchange over a keep-alive connection pool, as cheaply as it can be had: our own HTTP/1.1
// connections (h1.ts) called with a handler of our own (no response stream, no promise per chunk, no
// abort signal per request), one timer per service sweeping the time-outs of every request in flight,
// and a stack of idle connections, one request each.
//
// A table with one entity per partition is one request per entity: whatever a request costs here is
// paid for every entity of it. undici's convenience API (`request`) cost about twice as much CPU as its
// dispatcher, and its dispatcher up to a third more than h1.ts (see there).
import { isAscii } from "node:buffer";
import {
  H1Connection,
  type ConnectionOptions,
  type RequestOptions,
  type ResponseHandler,
  type TlsSessionCache,
} from "./h1.js";
import { eachHeader } from "./h1-head.js";

export interface RawResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
}

/** Sockets per service at most: the flow control's largest window, plus room for reads and checks. */
export const MAX_CONNECTIONS = 2_304;

/** How long an idle connection is kept for the next request. */
const KEEP_ALIVE_MS = 30_000;

export function timeoutError(): Error {
  return Object.assign(
    new Error("The operation was aborted: no complete response within the request time-out."),
    { name: "AbortError", code: "ETIMEDOUT" },
  );
}

/** An answer's header lines (`name: value`, CRLF between), read into an object on demand. */
function headerObject(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  eachHeader(head, (name, value) => {
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  });
  return headers;
}

/**
 * An answer. Its headers are read from the raw lines only when asked for: a one-entity write looks at
 * nothing but the status.
 */
class Answer implements RawResponse {
  private parsed?: Record<string, string>;

  constructor(
    readonly status: number,
    private readonly raw: string,
    readonly body: string,
  ) {}

  get headers(): Record<string, string> {
    return (this.parsed ??= headerObject(this.raw));
  }
}

/** One request in flight: the connection's handler, collecting the answer. */
class Exchange implements ResponseHandler {
  status = 0;
  private raw = "";
  private chunks: Buffer[] = [];
  private abort?: (err: Error) => void;
  private cancelled?: Error;
  /** The connection it went out on, handed back when it is done. */
  client?: H1Connection;
  /** Its place among the transport's requests in flight; -1 once settled. */
  slot = -1;

  constructor(
    readonly deadline: number,
    private readonly resolve: (res: RawResponse) => void,
    private readonly reject: (err: Error) => void,
    private readonly onStart: ((status: number, headers: Record<string, string>) => void) | undefined,
    private readonly done: (x: Exchange) => void,
    /** Whether a 2xx answer keeps its header lines (see RequestSpec.successHeaders). */
    private readonly successHeaders: boolean,
  ) {}

  /** Give up on it (time-out or cancel): the connection then reports the error through onError. */
  cancel(err: Error): void {
    if (this.cancelled) return;
    this.cancelled = err;
    this.abort?.(err);
  }

  onConnect(abort: (err: Error) => void): void {
    this.abort = abort;
    if (this.cancelled) abort(this.cancelled);
  }

  onHeaders(status: number, head: string): void {
    this.status = status;
    if (this.successHeaders || status < 200 || status >= 300) this.raw = head;
    if (this.onStart) this.onStart(status, headerObject(head));
  }

  onData(chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onComplete(): void {
    this.done(this);
    const chunks = this.chunks;
    // A write's answer (204) has no body: nothing to join or decode.
    if (chunks.length === 0) return this.resolve(new Answer(this.status, this.raw, ""));
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    this.chunks = [];
    // An all-ASCII body (the usual query page) decoded as Latin-1: the same characters, several times
    // faster for a page of a megabyte, which Node then keeps outside the JS heap.
    this.resolve(new Answer(this.status, this.raw, body.toString(isAscii(body) ? "latin1" : "utf8")));
  }

  onError(err: Error): void {
    this.done(this);
    const code = (err as { code?: string }).code;
    // A body cut short by the peer (ECONNRESET mid-answer, or malformed): retried as a page cut short.
    if (this.status !== 0 && !this.cancelled && code !== "ETIMEDOUT") {
      this.reject(
        Object.assign(new Error(`Error reading response as text: ${err.message}`), { code: "PARSE_ERROR" }),
      );
    } else this.reject(this.cancelled ?? err);
  }
}

export class Transport {
  /** Connected (or connectable) clients with no request on them, the most recently used last. */
  private readonly idle: H1Connection[] = [];
  private clients = 0;
  /** Closed: connections are closed as their requests finish, not kept. */
  private closing = false;
  /** Requests waiting for a connection (only when more are in flight than MAX_CONNECTIONS). */
  private readonly queue: { opts: RequestOptions; x: Exchange }[] = [];
  /**
   * Requests in flight, each at its `slot` (removed by moving the last into its place). Not a Set: its
   * table, reallocated as it grows and shrinks and held by this long-lived object, made the collector
   * keep finished requests' objects through scavenges (measured: 230 MB promoted to the old generation
   * per 80,000 one-entity writes with a Set, 50 MB with this array).
   */
  private readonly inFlight: Exchange[] = [];
  private sweeper?: NodeJS.Timeout;
  private readonly settled = (x: Exchange) => {
    const i = x.slot;
    if (i >= 0) {
      const last = this.inFlight.pop()!;
      if (last !== x) {
        this.inFlight[i] = last;
        last.slot = i;
      }
      x.slot = -1;
    }
    if (x.client) this.release(x.client);
    if (this.inFlight.length === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  };

  private readonly url: URL;
  private readonly tlsSessions: TlsSessionCache = {};

  constructor(
    origin: string,
    private readonly timeoutMs: number,
    private readonly signal?: AbortSignal,
    /** How connections are made (a proxy to tunnel through; tests: certificates to trust). */
    private readonly connection: ConnectionOptions = {},
  ) {
    this.url = new URL(origin);
    // One listener for the run, not one per request: cancelling aborts every request in flight.
    signal?.addEventListener(
      "abort",
      () => {
        this.cancelWhere(
          () => true,
          () => abortError(signal),
        );
      },
      { once: true },
    );
  }

  request(
    path: string,
    method: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    onStart?: (status: number, headers: Record<string, string>) => void,
    successHeaders = true,
  ): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const x = new Exchange(
        performance.now() + this.timeoutMs,
        resolve,
        reject,
        onStart,
        this.settled,
        successHeaders,
      );
      x.slot = this.inFlight.length;
      this.inFlight.push(x);
      this.sweeper ??= this.startSweeper();
      if (this.signal?.aborted) x.cancel(abortError(this.signal));
      const opts: RequestOptions = { path, method, headers, body };
      const client = this.idle.pop() ?? this.connect();
      if (client) this.send(client, opts, x);
      else this.queue.push({ opts, x });
    });
  }

  /** Requests sent and not yet settled. */
  get pending(): number {
    return this.inFlight.length;
  }

  /** Close every connection; requests in flight finish first. */
  close(): Promise<void> {
    this.closing = true;
    for (const c of this.idle) c.close();
    this.idle.length = 0;
    return Promise.resolve();
  }

  private send(client: H1Connection, opts: RequestOptions, x: Exchange): void {
    x.client = client;
    client.dispatch(opts, x);
  }

  /** A new connection, unless there are MAX_CONNECTIONS already. */
  private connect(): H1Connection | undefined {
    if (this.clients >= MAX_CONNECTIONS) return undefined;
    this.clients++;
    return new H1Connection(this.url, KEEP_ALIVE_MS, this.tlsSessions, this.connection);
  }

  private release(client: H1Connection): void {
    if (this.closing && this.queue.length === 0) client.close();
    if (client.closed) {
      // Never handed out again (a dropped connection reconnects by itself on its next request; a closed
      // one is not used again).
      this.clients--;
      const next = this.queue.shift();
      if (next) {
        const fresh = this.connect();
        if (fresh) this.send(fresh, next.opts, next.x);
        else this.queue.unshift(next);
      }
      return;
    }
    const next = this.queue.shift();
    if (next) this.send(client, next.opts, next.x);
    else this.idle.push(client);
  }

  /**
   * Cancel the requests in flight that `which` picks. From the last to the first: a cancelled request may
   * settle at once, and the last one then takes its place (already visited).
   */
  private cancelWhere(which: (x: Exchange) => boolean, err: () => Error): void {
    for (let i = this.inFlight.length - 1; i >= 0; i--) {
      const x = this.inFlight[i];
      if (x && which(x)) x.cancel(err());
    }
  }

  /** Time out the requests past their deadline, a few times per time-out period. */
  private startSweeper(): NodeJS.Timeout {
    const every = Math.min(1_000, Math.max(10, this.timeoutMs / 4));
    const timer = setInterval(() => {
      const now = performance.now();
      this.cancelWhere((x) => x.deadline <= now, timeoutError);
    }, every);
    timer.unref?.();
    return timer;
  }
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error
    ? reason
    : Object.assign(new Error("The operation was aborted."), { name: "AbortError" });
}
