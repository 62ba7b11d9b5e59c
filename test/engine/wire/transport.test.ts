// The transport's own bookkeeping of requests in flight (answers, time-outs, cancels), against a local
// HTTP server that answers some requests and leaves others hanging.
import { createServer, type Server, type ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { Transport } from "../../../src/engine/wire/transport.js";

describe("Transport", () => {
  let server: Server | undefined;
  const hanging: ServerResponse[] = [];
  afterEach(async () => {
    for (const res of hanging.splice(0)) res.destroy();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  /** A server that answers paths starting /ok at once and leaves every other request hanging. */
  async function start(): Promise<string> {
    server = createServer((req, res) => {
      req.resume();
      if (req.url?.startsWith("/ok")) res.end(req.url);
      else hanging.push(res);
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  it("answers, times out and cancels requests in any order, and keeps working", async () => {
    const origin = await start();
    const transport = new Transport(origin, 300);
    // Interleaved: answered and hanging requests settle in an order unlike the one they were sent in.
    const sent = Array.from({ length: 60 }, (_, i) =>
      transport.request(i % 3 === 0 ? `/ok/${i}` : `/hang/${i}`, "GET", {}, undefined).then(
        (res) => `ok ${res.body}`,
        (err: Error & { code?: string }) => `failed ${err.code}`,
      ),
    );
    // Once every answered one is in, exactly the hanging ones are in flight.
    await Promise.all(sent.filter((_, i) => i % 3 === 0));
    expect(transport.pending).toBe(40);
    const outcomes = await Promise.all(sent);
    expect(transport.pending).toBe(0);
    outcomes.forEach((outcome, i) => expect(outcome).toBe(i % 3 === 0 ? `ok /ok/${i}` : "failed ETIMEDOUT"));
    // Nothing is left in flight, so nothing else times out: later requests are answered.
    const later = await Promise.all(
      Array.from({ length: 10 }, (_, i) => transport.request(`/ok/later${i}`, "GET", {}, undefined)),
    );
    expect(later.map((r) => r.body)).toEqual(Array.from({ length: 10 }, (_, i) => `/ok/later${i}`));
    await transport.close();
  });

  it("cancels every request in flight when the run is aborted", async () => {
    const origin = await start();
    const abort = new AbortController();
    const transport = new Transport(origin, 60_000, abort.signal);
    const sent = Array.from({ length: 25 }, (_, i) =>
      transport.request(`/hang/${i}`, "GET", {}, undefined).catch((err: Error) => err.message),
    );
    await new Promise((r) => setTimeout(r, 100));
    abort.abort(new Error("stopped by the user"));
    expect(await Promise.all(sent)).toEqual(Array.from({ length: 25 }, () => "stopped by the user"));
  });
});
