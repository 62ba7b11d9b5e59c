// The reader asks for the next page as soon as a page's headers arrive. These tests run it against a
// small local table server whose pages we control exactly (when the body follows the headers, and a
// retried page that ends somewhere else than its first attempt said), which Azurite cannot be made to do.
import { createServer, type Server, type ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { TableReader } from "../../../src/engine/copy/reader.js";
import { serveProxy } from "../../support/proxy-common.js";
import { httpFor } from "../../support/tables.js";

const ROWS = Array.from({ length: 10 }, (_, i) => `r${String(i).padStart(3, "0")}`);

interface Seen {
  /** The row the request starts at (NextRowKey), "" for the table's start. */
  from: string;
  at: number;
}

/** A table of ten entities in partition "p", three to a page, with hooks to bend a page's answer. */
async function fakeTable(
  answer: (from: string, attempt: number, res: ServerResponse, page: () => PageAnswer) => void,
): Promise<{ server: Server; connectionString: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const attempts = new Map<string, number>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const from = url.searchParams.get("NextRowKey") ?? "";
    seen.push({ from, at: performance.now() });
    const attempt = (attempts.get(from) ?? 0) + 1;
    attempts.set(from, attempt);
    answer(from, attempt, res, () => pageFrom(from, 3));
  });
  const endpoint = await serveProxy(server);
  return { server, connectionString: endpoint.connectionString(), seen };
}

interface PageAnswer {
  body: string;
  next?: string;
}

function pageFrom(from: string, size: number): PageAnswer {
  const start = from === "" ? 0 : ROWS.indexOf(from);
  const rows = ROWS.slice(start, start + size);
  const value = rows.map((r) => `{"PartitionKey":"p","RowKey":"${r}","N":1}`).join(",");
  return { body: `{"odata.metadata":"m","value":[${value}]}`, next: ROWS[start + size] };
}

function headersFor(next: string | undefined): Record<string, string> {
  return {
    "content-type": "application/json;odata=minimalmetadata",
    ...(next ? { "x-ms-continuation-NextPartitionKey": "p", "x-ms-continuation-NextRowKey": next } : {}),
  };
}

async function readAll(connectionString: string): Promise<string[]> {
  const rows: string[] = [];
  const reader = new TableReader(httpFor(connectionString), "fake");
  for await (const page of reader.pages()) for (const e of page.entities) rows.push(e.rowKey);
  return rows;
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

describe("reading the next page early", () => {
  it("asks for the next page when a page's headers arrive, before its body", async () => {
    const bodySent = new Map<string, number>();
    const fake = await fakeTable((from, _attempt, res, page) => {
      const { body, next } = page();
      res.writeHead(200, headersFor(next));
      res.flushHeaders();
      // The body follows 300 ms after the headers, as a large page downloads.
      setTimeout(() => res.end(body, () => bodySent.set(from, performance.now())), 300);
    });
    server = fake.server;
    const started = performance.now();
    expect(await readAll(fake.connectionString)).toEqual(ROWS);
    const froms = fake.seen.map((s) => s.from);
    expect(froms).toEqual(["", "r003", "r006", "r009"]);
    // The second page was asked for while the first was still downloading …
    expect(fake.seen[1].at).toBeLessThan(bodySent.get("") ?? 0);
    // … and so on as far as readAhead (2) allows: four pages took about two downloads, where one after
    // another they take four.
    expect(performance.now() - started).toBeLessThan(4 * 300);
  });

  it("drops the early request when a retried page ends elsewhere: nothing skipped, nothing doubled", async () => {
    const fake = await fakeTable((from, attempt, res, page) => {
      if (from === "" && attempt === 1) {
        // The first answer says the next page starts at r005, then breaks off mid-body; the retry
        // (a smaller page, as a busy service may give) says r003.
        res.writeHead(200, { ...headersFor("r005"), "content-length": "1000" });
        res.flushHeaders();
        setTimeout(() => res.socket?.destroy(), 50);
        return;
      }
      const { body, next } = page();
      res.writeHead(200, headersFor(next));
      res.end(body);
    });
    server = fake.server;
    expect(await readAll(fake.connectionString)).toEqual(ROWS);
    const froms = fake.seen.map((s) => s.from);
    expect(froms).toContain("r005"); // asked for early, on the broken answer's headers …
    expect(froms.filter((f) => f === "r003")).toHaveLength(1); // … then the page the retry named
    expect(froms.filter((f) => f === "")).toHaveLength(2);
  });

  it("holds at most readAhead pages ahead of a slow consumer, the early one included", async () => {
    const fake = await fakeTable((_from, _attempt, res, page) => {
      const { body, next } = page();
      res.writeHead(200, headersFor(next));
      res.end(body);
    });
    server = fake.server;
    const reader = new TableReader(httpFor(fake.connectionString), "fake", { readAhead: 2 });
    const pages = reader.pages();
    await pages.next(); // the consumer holds the first page …
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.seen).toHaveLength(3); // … while two more wait, and no third
    let rows = 3;
    for await (const page of pages) rows += page.entities.length;
    expect(rows).toBe(10);
  });
});
