// The double's query pages at wire level: JSON continuation tokens with NextRowKey NA, pages unsorted
// and partitions interleaved, every entity exactly once (windows bounded by their end keys, writes
// during a scan), empty pages, tokens echoed however a client encodes them, $filter, $top, $select.
import { describe, expect, it } from "vitest";
import { decodeContinuation, splitValueArray } from "../cosmos-double.js";
import { uniqueTable } from "../tables.js";
import { cosmosError, keyOf, rows, sorted, type Entity, useCosmosDouble } from "./harness.js";

const cosmos = useCosmosDouble();
const { call, createTable, seed, scan } = cosmos;

describe("query pages", () => {
  it("continue with a JSON token and NextRowKey NA, unsorted, partitions interleaved, every entity once", async () => {
    const t = uniqueTable("cdPages");
    const all = rows(157, 6);
    await seed(t, all);
    cosmos.double.configure({ pageSize: 20, windowSize: 50 });
    const { pages, replies } = await scan(t);
    const seen = pages.flat();
    expect(seen.map(keyOf).sort()).toEqual(all.map((e) => `${e.PartitionKey}/${e.RowKey}`).sort());
    expect(new Set(seen.map(keyOf)).size).toBe(157);
    expect(pages.length).toBeGreaterThanOrEqual(8);
    expect(Math.max(...pages.map((p) => p.length))).toBeLessThanOrEqual(20);
    // No page in key order, and each partition spread over several pages that hold other partitions too
    // (a window mixes the partitions it holds; one of 50 entities here holds two or three).
    expect(pages.filter((p) => p.length > 2).every((p) => !sorted(p))).toBe(true);
    for (const pk of ["p0", "p3", "p5"]) {
      const holding = pages.filter((p) => p.some((e) => e.PartitionKey === pk));
      expect(holding.length).toBeGreaterThanOrEqual(3);
      expect(
        holding.filter((p) => new Set(p.map((e) => e.PartitionKey)).size > 1).length,
      ).toBeGreaterThanOrEqual(2);
    }
    // Not "sorted within windows": the order across the scan is not the key order either.
    expect(sorted(seen)).toBe(false);
    for (const r of replies.slice(0, -1)) {
      const token = JSON.parse(r.headers["x-ms-continuation-nextpartitionkey"]) as {
        token: string;
        range: unknown;
      };
      expect(token.range).toEqual({ min: "", max: "FF" });
      expect(token.token).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(decodeContinuation(r.headers["x-ms-continuation-nextpartitionkey"])).toBeDefined();
    }
    // Deterministic: the same scan gives the same pages.
    expect((await scan(t)).pages.map((p) => p.map(keyOf))).toEqual(pages.map((p) => p.map(keyOf)));
  });

  it("bounds each window by its end key: keys with quotes, spaces and non-ASCII, writes during the scan", async () => {
    const t = uniqueTable("cdBounds");
    const tricky = ["a'b", "a b", "ü", "Ω x", "z''"];
    const all = Array.from({ length: 75 }, (_, i) => ({
      PartitionKey: tricky[i % tricky.length],
      RowKey: `${tricky[(i * 3) % tricky.length]}-${String(i).padStart(3, "0")}`,
      n: i,
    }));
    await seed(t, all);
    cosmos.double.configure({ pageSize: 6, windowSize: 16 });
    const pages: Entity[][] = [];
    let next: string | undefined;
    let wrote = false;
    do {
      const r = await call(
        "GET",
        `${t}()${next ? `?NextPartitionKey=${encodeURIComponent(next)}&NextRowKey=NA` : ""}`,
      );
      expect(r.status, r.body).toBe(200);
      pages.push((JSON.parse(r.body) as { value: Entity[] }).value);
      next = r.headers["x-ms-continuation-nextpartitionkey"];
      if (!wrote && pages.length === 3) {
        // New entities in every partition (some in windows already served, some in the one being served).
        wrote = true;
        await seed(
          t,
          tricky.flatMap((pk) =>
            [`${tricky[0]}-0005`, `${tricky[2]}-0500`].map((rk) => ({ PartitionKey: pk, RowKey: rk, n: -1 })),
          ),
        );
      }
    } while (next);
    const seen = pages.flat().filter((e) => e.n !== -1);
    expect(seen.map(keyOf).sort()).toEqual(all.map((e) => `${e.PartitionKey}/${e.RowKey}`).sort());
    const keys = pages.flat().map(keyOf);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("may answer empty pages that still continue (emptyPages)", async () => {
    const t = uniqueTable("cdEmptyPages");
    await seed(t, rows(50, 3));
    cosmos.double.configure({ pageSize: 8, windowSize: 20, emptyPages: true });
    const { pages } = await scan(t);
    expect(pages.filter((p) => p.length === 0)).toHaveLength(3); // before each of the three windows
    expect(pages[0]).toHaveLength(0);
    expect(pages.at(-1)?.length).toBeGreaterThan(0);
    expect(new Set(pages.flat().map(keyOf)).size).toBe(50);
    expect(pages.flat()).toHaveLength(50);
  });

  it("takes the token back however the client encoded it (form-encoded, or raw JSON)", async () => {
    const t = uniqueTable("cdEcho");
    await seed(t, rows(60, 4));
    cosmos.double.configure({ pageSize: 9, windowSize: 25 });
    const form = (v: string) => new URLSearchParams({ x: v }).toString().slice(2);
    const goStyle = (v: string) =>
      v.replace(/%/g, "%25").replace(/\+/g, "%2B").replace(/:/g, "%3A").replace(/#/g, "%23");
    for (const echo of [encodeURIComponent, form, goStyle]) {
      const { pages } = await scan(t, {}, echo);
      expect(pages.length).toBeGreaterThan(6);
      expect(new Set(pages.flat().map(keyOf)).size).toBe(60);
      expect(pages.flat()).toHaveLength(60);
    }
  });

  it("with a $filter the token is a query token (+RID:~…#RT:1#TRC:…), and the scan returns exactly the matches", async () => {
    const t = uniqueTable("cdFilter");
    await seed(t, rows(120, 5));
    cosmos.double.configure({ pageSize: 11, windowSize: 40 });
    const { pages, replies } = await scan(t, { $filter: "n ge 30 and PartitionKey ne 'p2'" });
    const seen = pages.flat();
    expect(seen.map((e) => e.n as number).sort((a, b) => a - b)).toEqual(
      rows(120, 5)
        .filter((e) => e.n >= 30 && e.PartitionKey !== "p2")
        .map((e) => e.n),
    );
    const first = JSON.parse(replies[0].headers["x-ms-continuation-nextpartitionkey"]) as { token: string };
    expect(first.token).toMatch(
      /^\+RID:~[A-Za-z0-9+/]+=*#RT:1#TRC:\d+#ISV:2#IEO:65551#QCF:8#FPC:[A-Za-z0-9+/]+=*$/,
    );
  });

  it("honours $top (a smaller page) and $select (keys only when selected)", async () => {
    const t = uniqueTable("cdTop");
    await seed(
      t,
      rows(40, 2, (i) => ({ s: `v${i}` })),
    );
    const { pages } = await scan(t, { $top: "7", $select: "s" });
    expect(Math.max(...pages.map((p) => p.length))).toBe(7);
    const seen = pages.flat() as unknown as Record<string, unknown>[];
    expect(seen).toHaveLength(40);
    for (const e of seen) {
      expect(Object.keys(e).sort()).toEqual(["odata.etag", "s"]);
    }
    expect(new Set(seen.map((e) => e.s)).size).toBe(40);
  });

  it("is not capped at 1,000 entities a page", async () => {
    const t = uniqueTable("cdBig");
    await seed(t, rows(1_100, 3));
    const { pages } = await scan(t);
    expect(pages).toHaveLength(1);
    expect(pages[0]).toHaveLength(1_100);
    expect(sorted(pages[0])).toBe(false);
  });

  it("answers an empty table with an empty page, and a token it did not issue with 400", async () => {
    const t = uniqueTable("cdEmpty");
    await createTable(t);
    const r = await call("GET", `${t}()`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ value: [] });
    expect(r.headers["x-ms-continuation-nextpartitionkey"]).toBeUndefined();
    const bad = await call("GET", `${t}()?NextPartitionKey=1!8!cDA-&NextRowKey=1!8!cjA-`);
    expect(bad.status).toBe(400);
    expect(cosmosError(bad).code).toBe("BadRequest");
  });

  it("splits a page body into its entity texts exactly", () => {
    const body = `{"odata.metadata":"m","value":[{"a":"}{\\"","b":{"c":[1,2]}},{"d":1.0}]}`;
    expect(splitValueArray(body)).toEqual({
      metadata: "m",
      items: [`{"a":"}{\\"","b":{"c":[1,2]}}`, `{"d":1.0}`],
    });
    expect(splitValueArray(`{"value":[]}`)).toEqual({ metadata: undefined, items: [] });
    expect(splitValueArray(`{"PartitionKey":"p"}`)).toBeUndefined();
  });
});
