// The lag history: a compact string per table, the last 48 backfills, oldest first; and the state it lives in
// stays within a repository variable's 48 KB (compressed when needed, and never failing a save for its sake).
import { describe, expect, it } from "vitest";
import { appendHistory, decodeHistory, encodeHistory, MAX_HISTORY_POINTS } from "../../src/state/history.js";
import { emptyState, MAX_STATE_BYTES, parseState, serializeState } from "../../src/state/state.js";
import { tableKey } from "../../src/state/table-key.js";
import { backfills, busyState, START, withHistory } from "../support/histories.js";

describe("lag history", () => {
  it("round-trips its points exactly (times in whole minutes)", () => {
    const points = backfills(20, 1);
    expect(decodeHistory(encodeHistory(points))).toEqual(points);
    expect(
      decodeHistory(encodeHistory([{ at: "2026-11-30T00:10:00.000Z", lagSeconds: 0, changed: 0 }])),
    ).toEqual([{ at: "2026-11-30T00:10:00.000Z", lagSeconds: 0, changed: 0 }]);
  });

  it("keeps the last 48 backfills, oldest first", () => {
    const points = backfills(49, 2);
    let text: string | undefined;
    for (const p of points) text = appendHistory(text, p);
    expect(decodeHistory(text)).toEqual(points.slice(1));
    expect(decodeHistory(text)).toHaveLength(MAX_HISTORY_POINTS);
  });

  it("takes about 5 characters per backfill for a table that keeps up", () => {
    const quiet = Array.from({ length: 48 }, (_, i) => ({
      at: new Date(START + i * 600_000).toISOString(),
      lagSeconds: 3 + (i % 20),
      changed: 100 + i * 10,
    }));
    expect(encodeHistory(quiet)!.length).toBeLessThanOrEqual(1 + 6 + 47 * 5);
  });

  it("reads a history it cannot decode as none, rather than failing the state", () => {
    expect(decodeHistory("z123")).toEqual([]);
    expect(decodeHistory("a12")).toEqual([]);
    expect(decodeHistory("a1*3")).toEqual([]);
  });
});

describe("the state with 200 tables and full histories", () => {
  it("serializes under 48 KB, and every table keeps all 48 points", () => {
    const state = busyState();
    const text = serializeState(state);
    const bytes = Buffer.byteLength(text, "utf8");
    console.log(
      `200 tables, 48 backfills each: ${bytes} bytes stored (${JSON.stringify(state).length} as plain JSON)`,
    );
    expect(bytes).toBeLessThan(MAX_STATE_BYTES);
    const back = parseState(text, "test");
    expect(back).toEqual(state);
    for (const entry of Object.values(back.tables)) expect(decodeHistory(entry.history)).toHaveLength(48);
  });

  it("fits even when every table's lags and counts are independent noise (the worst case for compression)", () => {
    let state = emptyState();
    for (let i = 0; i < 200; i++) {
      const name = `ledger${String(i).padStart(4, "0")}`;
      const key = tableKey({ source: name, destination: name });
      state = withHistory(state, key, backfills(MAX_HISTORY_POINTS, 1_000 + i), i);
    }
    const text = serializeState(state);
    console.log(`200 tables, independent noise: ${Buffer.byteLength(text)} bytes stored`);
    for (const entry of Object.values(parseState(text, "test").tables))
      expect(decodeHistory(entry.history)).toHaveLength(48);
  });

  it("a state small enough stays plain JSON", () => {
    const state = busyState(10);
    expect(JSON.parse(serializeState(state))).toEqual(state);
  });

  it("sheds the oldest history points before a save would fail", () => {
    // Far more tables than fit with full histories: the histories shrink, the watermarks all stay.
    const state = busyState(600);
    const back = parseState(serializeState(state), "test");
    expect(Object.keys(back.tables)).toHaveLength(600);
    for (const [key, entry] of Object.entries(back.tables)) {
      expect(entry.watermark).toBe(state.tables[key].watermark);
      const points = decodeHistory(entry.history);
      expect(points.length).toBeLessThan(48);
      expect(points).toEqual(decodeHistory(state.tables[key].history).slice(-points.length || Infinity));
    }
  });
});
