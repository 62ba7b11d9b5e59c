import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createServiceClient } from "../../../src/engine/wire/connection.js";
import {
  backoffMs,
  DEFAULT_RETRY,
  isRetryableStatus,
  NetworkError,
  retryAfterMs,
  serviceMessage,
  sleep,
  TableHttp,
  type RetryOptions,
} from "../../../src/engine/wire/http.js";
import { connectionStringFor } from "../../support/azurite.js";

describe("retryAfterMs", () => {
  const now = Date.parse("2024-01-01T00:00:00Z");

  it("reads x-ms-retry-after-ms, retry-after-ms and Retry-After (seconds or HTTP date)", () => {
    expect(retryAfterMs({ "x-ms-retry-after-ms": "250" }, now)).toBe(250);
    expect(retryAfterMs({ "retry-after-ms": "1500.5" }, now)).toBe(1500.5);
    expect(retryAfterMs({ "retry-after": "3" }, now)).toBe(3000);
    expect(retryAfterMs({ "retry-after": "0" }, now)).toBe(0);
    expect(retryAfterMs({ "retry-after": "Mon, 01 Jan 2024 00:00:05 GMT" }, now)).toBe(5000);
  });

  it("prefers the millisecond headers, x-ms- first", () => {
    expect(
      retryAfterMs({ "x-ms-retry-after-ms": "10", "retry-after-ms": "20", "retry-after": "30" }, now),
    ).toBe(10);
    expect(retryAfterMs({ "retry-after-ms": "20", "retry-after": "30" }, now)).toBe(20);
  });

  it("never asks for a negative wait, and ignores what it cannot read", () => {
    expect(retryAfterMs({ "x-ms-retry-after-ms": "-5" }, now)).toBe(0);
    expect(retryAfterMs({ "retry-after": "Sun, 31 Dec 2023 23:59:00 GMT" }, now)).toBe(0);
    expect(retryAfterMs({}, now)).toBeUndefined();
    expect(retryAfterMs({ "x-ms-retry-after-ms": "" }, now)).toBeUndefined();
    expect(retryAfterMs({ "x-ms-retry-after-ms": "soon" }, now)).toBeUndefined();
    expect(retryAfterMs({ "retry-after": "later" }, now)).toBeUndefined();
    expect(retryAfterMs({ "x-ms-retry-after-ms": "nope", "retry-after": "2" }, now)).toBe(2000);
  });
});

describe("backoffMs", () => {
  const opts: RetryOptions = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };

  it("doubles per attempt, with jitter in the upper half, capped at maxDelayMs", () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const exp = Math.min(1000, 100 * 2 ** attempt);
      for (let i = 0; i < 50; i++) {
        const d = backoffMs(attempt, opts);
        expect(d).toBeGreaterThanOrEqual(exp / 2);
        expect(d).toBeLessThanOrEqual(exp);
      }
    }
  });

  it("jitters", () => {
    const samples = new Set(Array.from({ length: 50 }, () => backoffMs(5, opts)));
    expect(samples.size).toBeGreaterThan(5);
  });
});

describe("status classes and messages", () => {
  it("retries throttling, timeouts and server errors only", () => {
    for (const s of [408, 429, 500, 502, 503, 504]) expect(isRetryableStatus(s), String(s)).toBe(true);
    for (const s of [200, 202, 204, 400, 401, 403, 404, 409, 412, 413, 501])
      expect(isRetryableStatus(s), String(s)).toBe(false);
  });

  it("reads the service message from JSON, XML or the error-code header, without request ids", () => {
    expect(
      serviceMessage({
        status: 404,
        headers: {},
        body: '{"odata.error":{"code":"TableNotFound","message":{"lang":"en-US","value":"The table specified does not exist.\\nRequestId:1\\nTime:2"}}}',
      }),
    ).toEqual({ code: "TableNotFound", message: "The table specified does not exist." });
    expect(
      serviceMessage({
        status: 403,
        headers: {},
        body: "<?xml version='1.0'?><Error><Code>AuthorizationFailure</Code><Message>Not allowed.\nRequestId:x</Message></Error>",
      }),
    ).toEqual({ code: "AuthorizationFailure", message: "Not allowed." });
    expect(serviceMessage({ status: 503, headers: { "x-ms-error-code": "ServerBusy" }, body: "" })).toEqual({
      code: "ServerBusy",
      message: "ServerBusy",
    });
    expect(serviceMessage({ status: 502, headers: {}, body: "<html>bad gateway</html>" })).toEqual({
      code: undefined,
      message: "HTTP 502",
    });
  });
});

describe("sleep", () => {
  it("waits, and ends early on abort", async () => {
    let t = Date.now();
    await sleep(30);
    expect(Date.now() - t).toBeGreaterThanOrEqual(29);
    const ac = new AbortController();
    t = Date.now();
    setTimeout(() => ac.abort(), 10);
    await sleep(5_000, ac.signal);
    expect(Date.now() - t).toBeLessThan(1_000);
    await sleep(5_000, ac.signal); // already aborted: returns at once
    expect(Date.now() - t).toBeLessThan(1_000);
  });
});

describe("TableHttp against a scripted server", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  /** A server that answers request n with script[n] (the last one repeats). */
  async function scripted(
    script: ((req: IncomingMessage, res: ServerResponse) => void)[],
  ): Promise<{ http: TableHttp; hits: () => number; url: string }> {
    let n = 0;
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => script[Math.min(n++, script.length - 1)](req, res));
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    const http = new TableHttp(createServiceClient({ connectionString: connectionStringFor(port) }, "test"), {
      ...DEFAULT_RETRY,
      baseDelayMs: 5,
      maxDelayMs: 20,
      maxRetries: 3,
      maxNetworkRetries: 2,
    });
    return { http, hits: () => n, url: `http://127.0.0.1:${port}/devstoreaccount1/t()` };
  }

  const answer =
    (status: number, body = "", headers: Record<string, string> = {}) =>
    (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(body);
    };

  it("retries 503 and 429 until an answer comes, counting throttles and retries", async () => {
    const { http, hits, url } = await scripted([
      answer(503),
      answer(429, "", { "x-ms-retry-after-ms": "1" }),
      answer(200, '{"value":[]}'),
    ]);
    const res = await http.send({ method: "GET", url });
    expect(res.status).toBe(200);
    expect(hits()).toBe(3);
    expect(http.stats).toEqual({ requests: 3, throttled: 1, retries: 2 });
  });

  it("returns the last answer after maxRetries", async () => {
    const { http, hits, url } = await scripted([answer(500, '{"odata.error":{"code":"InternalError"}}')]);
    const res = await http.send({ method: "GET", url });
    expect(res.status).toBe(500);
    expect(hits()).toBe(4);
  });

  it("does not retry a client error", async () => {
    const { http, hits, url } = await scripted([answer(404), answer(200)]);
    expect((await http.send({ method: "GET", url })).status).toBe(404);
    expect(hits()).toBe(1);
  });

  it("retries a 200 whose body the caller finds incomplete", async () => {
    const { http, hits, url } = await scripted([answer(200, '{"value":['), answer(200, '{"value":[]}')]);
    const res = await http.send({
      method: "GET",
      url,
      isComplete: (r) => r.body.endsWith("}"),
    });
    expect(res.body).toBe('{"value":[]}');
    expect(hits()).toBe(2);
  });

  it("keeps a successful answer's headers unless told they will not be read; a failed one's always", async () => {
    const { http, url } = await scripted([
      answer(204, "", { etag: 'W/"1"' }),
      answer(204, "", { etag: 'W/"2"' }),
      answer(409, '{"odata.error":{"code":"EntityAlreadyExists"}}', {
        "x-ms-error-code": "EntityAlreadyExists",
      }),
    ]);
    expect((await http.send({ method: "PUT", url, body: "{}" })).headers.etag).toBe('W/"1"');
    const lean = await http.send({ method: "PUT", url, body: "{}", successHeaders: false });
    expect(lean.status).toBe(204);
    expect(lean.headers).toEqual({});
    const failed = await http.send({ method: "PUT", url, body: "{}", successHeaders: false });
    expect(failed.status).toBe(409);
    expect(failed.headers["x-ms-error-code"]).toBe("EntityAlreadyExists");
    expect(serviceMessage(failed).code).toBe("EntityAlreadyExists");
  });

  it("reads a throttled answer's retry hint even when success headers are not kept", async () => {
    const { http, hits, url } = await scripted([
      answer(429, "", { "x-ms-retry-after-ms": "1" }),
      answer(204),
    ]);
    const hints: (number | undefined)[] = [];
    http.onThrottle = (hint) => hints.push(hint);
    expect((await http.send({ method: "PUT", url, body: "{}", successHeaders: false })).status).toBe(204);
    expect(hits()).toBe(2);
    expect(hints).toEqual([1]);
  });

  it("retries dropped connections, then gives up with a NetworkError", async () => {
    const drop = (req: IncomingMessage) => req.socket.destroy();
    const ok = await scripted([drop, answer(204)]);
    expect((await ok.http.send({ method: "GET", url: ok.url })).status).toBe(204);
    expect(ok.hits()).toBe(2);
    await new Promise<void>((r) => server!.close(() => r()));

    const bad = await scripted([drop]);
    const err = await bad.http.send({ method: "GET", url: bad.url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).message).toMatch(/ECONNRESET|socket hang up/);
    expect(bad.hits()).toBe(3);
  });
});
