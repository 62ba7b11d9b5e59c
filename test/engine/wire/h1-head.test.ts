// The framing read from an answer's head (RFC 9112 §6.3): what decides where a body ends and whether the
// connection carries the next request.
import { describe, expect, it } from "vitest";
import { Framing, readHead } from "../../../src/engine/wire/h1-head.js";

describe("readHead", () => {
  it("skips interim answers and reads the framing of the real one", () => {
    expect(readHead("HTTP/1.1 100 Continue", "PUT")).toBeUndefined();
    expect(readHead("HTTP/1.1 200 OK\r\nContent-Length: 12", "GET")).toMatchObject({
      status: 200,
      framing: Framing.Length,
      length: 12,
      keepAlive: true,
    });
    expect(readHead("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked", "GET")).toMatchObject({
      framing: Framing.Chunked,
    });
  });

  it("gives 204, 304 and HEAD answers no body, whatever their headers say", () => {
    for (const [head, method] of [
      ['HTTP/1.1 204 No Content\r\nETag: W/"1"', "PUT"],
      ["HTTP/1.1 304 Not Modified\r\nContent-Length: 40", "GET"],
      ["HTTP/1.1 200 OK\r\nContent-Length: 40", "HEAD"],
    ]) {
      expect(readHead(head, method)).toMatchObject({ framing: Framing.Length, length: 0, keepAlive: true });
    }
  });

  it("keeps a connection only where the answer allows it", () => {
    expect(readHead("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0", "GET")?.keepAlive).toBe(
      false,
    );
    expect(readHead("HTTP/1.0 200 OK\r\nContent-Length: 0", "GET")?.keepAlive).toBe(false);
    expect(readHead("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0", "GET")?.keepAlive).toBe(
      true,
    );
    // Framed by closing, or by both chunks and a length: not reused.
    expect(readHead("HTTP/1.1 200 OK", "GET")).toMatchObject({
      framing: Framing.UntilClose,
      keepAlive: false,
    });
    expect(
      readHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5", "GET"),
    ).toMatchObject({ framing: Framing.Chunked, keepAlive: false });
    expect(
      readHead("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0", "GET")?.idleHintMs,
    ).toBe(4_000);
  });

  it("refuses what it cannot frame with PARSE_ERROR", () => {
    for (const head of [
      "HTTP/2 200",
      "HTTP/1.1 2000 OK",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip",
      "HTTP/1.1 200 OK\r\nContent-Length: -1",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2",
    ]) {
      expect(() => readHead(head, "GET"), head).toThrow(expect.objectContaining({ code: "PARSE_ERROR" }));
    }
  });
});
