// Our HTTP/1.1 connection against local servers that answer exactly as scripted, byte by byte where it
// matters: framing by length, chunks and closing, interim answers, keep-alive and its end, answers cut
// short, malformed heads, and TLS with sessions resumed.
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { H1Connection, type RequestOptions } from "../../../src/engine/wire/h1.js";
import { selfSignedCert } from "../../support/connect-proxy.js";

interface Answer {
  status: number;
  head: string;
  body: string;
}

/** One request through `conn`, its answer collected (or its failure's code and message). */
function send(conn: H1Connection, opts: Partial<RequestOptions> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let status = 0;
    let head = "";
    conn.dispatch(
      { path: "/t", method: "GET", headers: {}, ...opts },
      {
        onConnect: () => undefined,
        onHeaders: (s, h) => {
          status = s;
          head = h;
        },
        onData: (c) => chunks.push(Buffer.from(c)),
        onComplete: () => resolve({ status, head, body: Buffer.concat(chunks).toString("utf8") }),
        onError: reject,
      },
    );
  });
}

/** Each request's head and body as the server read it (one request at a time per connection). */
interface Seen {
  head: string;
  body: string;
  connection: number;
}

describe("H1Connection", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  /**
   * A server that reads each request (head and Content-Length body) and writes back what `answer`
   * returns, as the list of pieces given (each written on its own, a few ms apart). `null` closes.
   */
  async function start(
    answer: (req: Seen, n: number) => (string | null)[],
    wrap?: (listener: (s: Socket) => void) => Server,
  ): Promise<{ url: URL; seen: Seen[]; connections: () => number }> {
    const seen: Seen[] = [];
    let connections = 0;
    const onSocket = (socket: Socket) => {
      const id = ++connections;
      let buf = Buffer.alloc(0);
      socket.on("error", () => undefined);
      socket.on("data", (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          const end = buf.indexOf("\r\n\r\n");
          if (end < 0) return;
          const head = buf.toString("latin1", 0, end);
          const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          if (buf.length < end + 4 + length) return;
          const req = { head, body: buf.toString("utf8", end + 4, end + 4 + length), connection: id };
          buf = buf.subarray(end + 4 + length);
          seen.push(req);
          void (async () => {
            for (const piece of answer(req, seen.length)) {
              if (piece === null) {
                socket.end();
                return;
              }
              socket.write(piece);
              await new Promise((r) => setTimeout(r, 3));
            }
          })();
        }
      });
    };
    server = wrap ? wrap(onSocket) : createServer(onSocket);
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    const scheme = wrap ? "https" : "http";
    return { url: new URL(`${scheme}://127.0.0.1:${port}`), seen, connections: () => connections };
  }

  it("sends head and body as written, reads a Content-Length answer and reuses the connection", async () => {
    const s = await start((req) => [
      `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(req.body)}\r\nETag: "x"\r\n\r\n${req.body}`,
    ]);
    const conn = new H1Connection(s.url, 30_000, {});
    const body = Buffer.from('{"name":"é ü"}');
    const a = await send(conn, {
      method: "PUT",
      path: "/t(PartitionKey='a')",
      headers: { "x-a": "1" },
      body,
    });
    expect(a).toMatchObject({ status: 200, body: '{"name":"é ü"}' });
    expect(a.head).toContain('ETag: "x"');
    expect(s.seen[0].head.split("\r\n")).toEqual([
      "PUT /t(PartitionKey='a') HTTP/1.1",
      `host: ${s.url.host}`,
      "x-a: 1",
      `content-length: ${body.length}`,
    ]);
    const b = await send(conn, { method: "PUT", body: Buffer.from("second") });
    expect(b.body).toBe("second");
    expect(s.connections()).toBe(1);
    conn.close();
  });

  it("reads answers whose heads and bodies arrive a byte at a time", async () => {
    const text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    const s = await start(() => [...text]);
    const conn = new H1Connection(s.url, 30_000, {});
    expect(await send(conn)).toMatchObject({ status: 200, body: "hello" });
    conn.close();
  });

  it("reads chunked answers (extensions, trailers, any split) and keeps the connection", async () => {
    const chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "5;ext=1\r\nhello\r\n" +
      "1A\r\n, a chunk of 26 bytes here\r\n" +
      "0\r\nX-Trailer: t\r\n\r\n";
    const pieces = [chunked.slice(0, 50), chunked.slice(50, 53), chunked.slice(53, 70), chunked.slice(70)];
    const s = await start((_, n) => (n === 1 ? pieces : [...chunked]));
    const conn = new H1Connection(s.url, 30_000, {});
    expect((await send(conn)).body).toBe("hello, a chunk of 26 bytes here");
    expect((await send(conn)).body).toBe("hello, a chunk of 26 bytes here");
    expect(s.connections()).toBe(1);
    conn.close();
  });

  it("skips an interim 100 answer; a 204 without Content-Length keeps the connection", async () => {
    const s = await start((_, n) =>
      n === 1
        ? ["HTTP/1.1 100 Continue\r\n\r\n", 'HTTP/1.1 204 No Content\r\nETag: W/"1"\r\n\r\n']
        : ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"],
    );
    const conn = new H1Connection(s.url, 30_000, {});
    expect(await send(conn, { method: "PUT", body: Buffer.from("{}") })).toMatchObject({
      status: 204,
      body: "",
    });
    expect(await send(conn)).toMatchObject({ status: 200, body: "ok" });
    expect(s.connections()).toBe(1);
    conn.close();
  });

  it("reads an answer framed by closing, and opens a new connection after it and after Connection: close", async () => {
    const s = await start((_, n) =>
      n === 1
        ? ["HTTP/1.1 200 OK\r\n\r\n", "until ", "close", null]
        : n === 2
          ? ["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye"]
          : ["HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnew"],
    );
    const conn = new H1Connection(s.url, 30_000, {});
    expect((await send(conn)).body).toBe("until close");
    expect((await send(conn)).body).toBe("bye");
    expect((await send(conn)).body).toBe("new");
    expect(s.seen.map((r) => r.connection)).toEqual([1, 2, 3]);
    conn.close();
  });

  it("reconnects when the server closed an idle connection, and replaces one idle past its Keep-Alive hint", async () => {
    const s = await start((_, n) =>
      n === 1
        ? ["HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1", null]
        : n === 2
          ? ["HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 1\r\n\r\n2"]
          : ["HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n3"],
    );
    const conn = new H1Connection(s.url, 30_000, {});
    expect((await send(conn)).body).toBe("1");
    await new Promise((r) => setTimeout(r, 50)); // the server's close arrives
    expect((await send(conn)).body).toBe("2");
    // timeout=1 leaves no idle time at all (a second less than the hint): the next request opens anew.
    expect((await send(conn)).body).toBe("3");
    expect(s.seen.map((r) => r.connection)).toEqual([1, 2, 3]);
    conn.close();
  });

  it("fails an answer cut short, a malformed head or chunk, and goes on with a new connection", async () => {
    const s = await start(
      (_, n) =>
        [
          ["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", null],
          ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", null],
          ["NOT HTTP\r\n\r\n"],
          ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"],
          ["HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"],
          ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"],
        ][n - 1],
    );
    const conn = new H1Connection(s.url, 30_000, {});
    const code = (p: Promise<unknown>) =>
      p.then(
        () => "answered",
        (e: Error & { code?: string }) => e.code,
      );
    expect(await code(send(conn))).toBe("ECONNRESET");
    expect(await code(send(conn))).toBe("ECONNRESET");
    expect(await code(send(conn))).toBe("PARSE_ERROR");
    expect(await code(send(conn))).toBe("PARSE_ERROR");
    expect(await code(send(conn))).toBe("PARSE_ERROR");
    expect((await send(conn)).body).toBe("ok");
    expect(s.connections()).toBe(6);
    conn.close();
  });

  it("refuses what it cannot send as it is (line breaks, NUL, non-Latin-1, a bad header name), sending nothing", async () => {
    const s = await start(() => ["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]);
    const conn = new H1Connection(s.url, 30_000, {});
    expect(await send(conn)).toMatchObject({ status: 200 });
    const refused = (opts: Partial<RequestOptions>) =>
      send(conn, opts).then(
        () => "sent",
        (e: Error & { code?: string }) => e.code,
      );
    expect(await refused({ headers: { "if-match": 'W/"1"\r\nX-Evil: 1' } })).toBe("ERR_INVALID_ARG_VALUE");
    expect(await refused({ headers: { "x-a": "1\u0000" } })).toBe("ERR_INVALID_ARG_VALUE");
    expect(await refused({ headers: { "x-a\r\nx-evil": "1" } })).toBe("ERR_INVALID_ARG_VALUE");
    expect(await refused({ path: "/t HTTP/1.1\r\n" })).toBe("ERR_INVALID_ARG_VALUE");
    // Written as Latin-1, Ł would go out as another character: the path must come percent-encoded.
    expect(await refused({ path: "/t(PartitionKey='\u0141')" })).toBe("ERR_INVALID_ARG_VALUE");
    expect(await send(conn)).toMatchObject({ status: 200 });
    expect(s.seen).toHaveLength(2);
    // The refused requests left the connection as it was.
    expect(s.connections()).toBe(1);
    conn.close();
  });

  it("does not send on a connection the server has just closed (its FIN seen, 'close' not yet)", async () => {
    const s = await start((_, n) => [
      `HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${n}`,
      ...(n === 1 ? [null] : []),
    ]);
    const conn = new H1Connection(s.url, 30_000, {});
    expect((await send(conn)).body).toBe("1");
    const socket = (conn as unknown as { socket?: Socket }).socket;
    // Sent as soon as the FIN has been handled, before the socket is destroyed.
    const next = await new Promise<Answer>((resolve, reject) =>
      socket
        ? socket.once("end", () => process.nextTick(() => send(conn).then(resolve, reject)))
        : reject(new Error("no socket")),
    );
    expect(next.body).toBe("2");
    expect(s.connections()).toBe(2);
    conn.close();
  });

  it("gives up on a connection not made within the connect time-out (ETIMEDOUT, retried as a network failure)", async () => {
    // A TCP server that accepts and never speaks: the TLS handshake never completes.
    const s = await start(() => []);
    const tls = new URL(s.url.href.replace("http:", "https:"));
    const conn = new H1Connection(tls, 30_000, {}, { connectTimeoutMs: 200 });
    const started = performance.now();
    const err = await send(conn).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    expect(err?.code).toBe("ETIMEDOUT");
    expect(err?.message).toMatch(/within 200 ms/);
    expect(performance.now() - started).toBeLessThan(5_000);
    conn.close();
  });

  it("an abort ends the request in flight with its error, and the connection serves the next", async () => {
    const s = await start((_, n) => (n === 1 ? [] : ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]));
    const conn = new H1Connection(s.url, 30_000, {});
    let abort!: (err: Error) => void;
    const first = new Promise((resolve, reject) =>
      conn.dispatch(
        { path: "/hang", method: "GET", headers: {} },
        {
          onConnect: (a) => (abort = a),
          onHeaders: () => undefined,
          onData: () => undefined,
          onComplete: () => resolve("answered"),
          onError: reject,
        },
      ),
    );
    await new Promise((r) => setTimeout(r, 30));
    abort(new Error("timed out"));
    await expect(first).rejects.toThrow("timed out");
    expect(conn.busy).toBe(false);
    expect((await send(conn)).body).toBe("ok");
    conn.close();
  });

  it("speaks TLS, checks the certificate and resumes the session on the next connection", async () => {
    const { cert, key } = selfSignedCert(["localhost", "127.0.0.1"]);
    const resumed: boolean[] = [];
    const s = await start(
      () => ["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 6\r\n\r\nsecret", null],
      (listener) =>
        createTlsServer({ cert, key }, (socket: TLSSocket) => {
          resumed.push(socket.isSessionReused());
          listener(socket);
        }),
    );
    const untrusted = new H1Connection(s.url, 30_000, {});
    await expect(send(untrusted)).rejects.toThrow(/self[- ]signed/i);
    const sessions = {};
    const conn = new H1Connection(s.url, 30_000, sessions, { ca: cert });
    expect((await send(conn)).body).toBe("secret");
    expect((await send(conn)).body).toBe("secret");
    expect(resumed.slice(-2)).toEqual([false, true]);
    conn.close();
  });
});
