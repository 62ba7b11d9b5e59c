// The watermark rules, one test each, and the state document's validation.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { TableResult } from "../../src/engine/copy/result.js";
import { continuationFrom, storedContinuation } from "../../src/engine/copy/reader.js";
import {
  advanceWatermark,
  backfillStart,
  MissingWatermarkError,
  oldestWatermark,
  watermarkOf,
} from "../../src/state/watermark.js";
import {
  emptyState,
  MAX_STATE_BYTES,
  parseState,
  serializeState,
  StateError,
  type State,
} from "../../src/state/state.js";
import { parseTableKey, tableKey } from "../../src/state/table-key.js";

const ORDERS = tableKey({ source: "orders", destination: "orders2" });
const USERS = tableKey({ source: "users", destination: "users" });

function result(overrides: Partial<TableResult> = {}): TableResult {
  return {
    source: "orders",
    destination: "orders2",
    read: 10,
    written: 10,
    skipped: 0,
    failed: 0,
    conflicts: 0,
    transactions: 1,
    durationMs: 2000,
    sourceClockAtStart: "2024-05-01T12:00:00.000Z",
    failures: [],
    conflictDetails: [],
    throttled: 0,
    retries: 0,
    ...overrides,
  };
}

const backfill = { mode: "backfill" };

describe("watermark rules", () => {
  it("keeps a watermark per table", () => {
    let s = emptyState();
    s = advanceWatermark(s, ORDERS, result({ sourceClockAtStart: "2024-05-01T12:00:00.000Z" }), backfill);
    s = advanceWatermark(s, USERS, result({ sourceClockAtStart: "2024-05-01T12:05:00.000Z" }), backfill);
    expect(watermarkOf(s, ORDERS)).toBe("2024-05-01T12:00:00.000Z");
    expect(watermarkOf(s, USERS)).toBe("2024-05-01T12:05:00.000Z");
    expect(Object.keys(s.tables)).toEqual(["orders→orders2", "users→users"]);
    expect(parseTableKey(ORDERS)).toEqual({ source: "orders", destination: "orders2" });
  });

  it("advances only when the table's run had zero failed entities and no error", () => {
    const start = advanceWatermark(emptyState(), ORDERS, result(), backfill);
    const later = "2024-05-01T12:10:00.000Z";
    const failed = advanceWatermark(
      start,
      ORDERS,
      result({ sourceClockAtStart: later, failed: 1 }),
      backfill,
    );
    expect(failed).toBe(start);
    const errored = advanceWatermark(
      start,
      ORDERS,
      result({ sourceClockAtStart: later, error: "table missing" }),
      backfill,
    );
    expect(errored).toBe(start);
    // A failure in one table keeps the others' progress.
    const users = advanceWatermark(start, USERS, result({ sourceClockAtStart: later }), backfill);
    expect(watermarkOf(users, ORDERS)).toBe("2024-05-01T12:00:00.000Z");
    expect(watermarkOf(users, USERS)).toBe(later);
    // A first run that fails records nothing, so a backfill still asks for a full sync.
    expect(
      advanceWatermark(emptyState(), ORDERS, result({ failed: 3 }), { mode: "full-sync" }).tables,
    ).toEqual({});
    const ok = advanceWatermark(start, ORDERS, result({ sourceClockAtStart: later }), backfill);
    expect(watermarkOf(ok, ORDERS)).toBe(later);
  });

  it("never moves backwards", () => {
    const s = advanceWatermark(
      emptyState(),
      ORDERS,
      result({ sourceClockAtStart: "2024-05-01T12:10:00.000Z" }),
      backfill,
    );
    const older = advanceWatermark(
      s,
      ORDERS,
      result({ sourceClockAtStart: "2024-05-01T12:00:00.000Z" }),
      backfill,
    );
    expect(watermarkOf(older, ORDERS)).toBe("2024-05-01T12:10:00.000Z");
    // The run itself is still recorded as the last success.
    expect(older.tables[ORDERS].lastSuccess).toMatchObject({ mode: "backfill", read: 10, written: 10 });
  });

  it("takes the source server's clock at the start of the scan, never the runner's", () => {
    // The runner's clock is far off; the watermark must be the source's, whatever the runner thinks.
    const runnerNow = "2030-01-01T00:00:00.000Z";
    const s = advanceWatermark(
      emptyState(),
      ORDERS,
      result({ sourceClockAtStart: "2024-05-01T12:00:00.000Z" }),
      {
        mode: "full-sync",
        finishedAt: runnerNow,
      },
    );
    expect(watermarkOf(s, ORDERS)).toBe("2024-05-01T12:00:00.000Z");
    expect(s.tables[ORDERS].lastSuccess).toEqual({
      mode: "full-sync",
      at: runnerNow,
      read: 10,
      written: 10,
      skipped: 0,
    });
    // Without a finish time the informational time is derived from the source clock, not read from the runner.
    const t = advanceWatermark(emptyState(), ORDERS, result(), backfill);
    expect(t.tables[ORDERS].lastSuccess?.at).toBe("2024-05-01T12:00:02.000Z");
    // A successful run without a source clock cannot prove where it began: nothing moves.
    expect(
      advanceWatermark(emptyState(), ORDERS, result({ sourceClockAtStart: undefined }), backfill).tables,
    ).toEqual({});
  });

  it("leaves the state alone on a dry run", () => {
    const s = emptyState();
    expect(advanceWatermark(s, ORDERS, result(), { mode: "backfill", dryRun: true })).toBe(s);
  });

  it("takes a resumed scan's watermark from the checkpoint it resumed", () => {
    const s: State = {
      ...emptyState(),
      tables: {
        [ORDERS]: {
          checkpoint: {
            continuation: { nextPartitionKey: "p9", nextRowKey: "r1" },
            sourceClockAtStart: "2024-05-01T11:00:00.000Z",
            mode: "full-sync",
            read: 5000,
            at: "2024-05-01T11:30:00.000Z",
          },
        },
      },
    };
    const done = advanceWatermark(s, ORDERS, result({ sourceClockAtStart: "2024-05-01T12:00:00.000Z" }), {
      mode: "full-sync",
    });
    expect(watermarkOf(done, ORDERS)).toBe("2024-05-01T11:00:00.000Z");
    expect(done.tables[ORDERS].checkpoint).toBeUndefined();
  });

  it("does not mutate the state it is given", () => {
    const s = advanceWatermark(emptyState(), ORDERS, result(), backfill);
    const copy = structuredClone(s);
    advanceWatermark(s, ORDERS, result({ sourceClockAtStart: "2024-06-01T00:00:00.000Z" }), backfill);
    expect(s).toEqual(copy);
  });
});

describe("oldestWatermark", () => {
  it("is the oldest of the tables asked for, and undefined until each has one", () => {
    let s = advanceWatermark(
      emptyState(),
      ORDERS,
      result({ sourceClockAtStart: "2024-05-01T12:10:00.000Z" }),
      backfill,
    );
    s = advanceWatermark(s, USERS, result({ sourceClockAtStart: "2024-05-01T12:00:00.000Z" }), backfill);
    expect(oldestWatermark(s, [ORDERS, USERS])).toBe("2024-05-01T12:00:00.000Z");
    expect(oldestWatermark(s, [{ source: "orders", destination: "orders2" }])).toBe(
      "2024-05-01T12:10:00.000Z",
    );
    expect(oldestWatermark(s, [ORDERS, tableKey({ source: "items", destination: "items" })])).toBeUndefined();
    expect(oldestWatermark(s, [])).toBeUndefined();
    expect(oldestWatermark(undefined, [ORDERS])).toBeUndefined();
  });
});

describe("backfillStart", () => {
  const s = advanceWatermark(
    emptyState(),
    ORDERS,
    result({ sourceClockAtStart: "2024-05-01T12:00:00.000Z" }),
    backfill,
  );

  it("starts at the watermark minus the overlap", () => {
    expect(backfillStart(s, ORDERS, undefined, 120).toISOString()).toBe("2024-05-01T11:58:00.000Z");
    expect(backfillStart(s, ORDERS, undefined, 0).toISOString()).toBe("2024-05-01T12:00:00.000Z");
  });

  it("lets 'since' override the watermark, minus the overlap", () => {
    expect(backfillStart(s, ORDERS, "2024-04-01T00:00:00Z", 60).toISOString()).toBe(
      "2024-03-31T23:59:00.000Z",
    );
    expect(backfillStart(undefined, ORDERS, new Date("2024-04-01T00:00:00Z"), 0).toISOString()).toBe(
      "2024-04-01T00:00:00.000Z",
    );
  });

  it("without a stored watermark and without 'since' tells the user to run full-sync first or set since", () => {
    for (const state of [undefined, emptyState(), s]) {
      const key = state === s ? USERS : ORDERS;
      let caught: unknown;
      try {
        backfillStart(state, key, undefined, 120);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(MissingWatermarkError);
      expect(caught).toBeInstanceOf(StateError);
      expect((caught as Error).message).toMatch(/run 'full-sync' first, or set 'since'/);
    }
    expect(() => backfillStart(undefined, ORDERS, undefined, 120)).toThrow(
      "No watermark is stored for table 'orders' → 'orders2', so a backfill does not know where to start: " +
        "run 'full-sync' first, or set 'since' to the UTC time from which changes should be copied.",
    );
  });

  it("refuses a negative overlap and an invalid since", () => {
    expect(() => backfillStart(s, ORDERS, undefined, -1)).toThrow(StateError);
    expect(() => backfillStart(s, ORDERS, "yesterday", 0)).toThrow(/'since' 'yesterday' is not a valid time/);
  });
});

describe("the state document", () => {
  it("round-trips as compact, versioned JSON", () => {
    const s = advanceWatermark(emptyState(), ORDERS, result(), backfill);
    const text = serializeState(s);
    expect(text).not.toMatch(/\n| {2}/);
    expect(JSON.parse(text)).toMatchObject({ format: "azure-table-sync/state", version: 1 });
    expect(parseState(text, "test")).toEqual(s);
  });

  it("keeps fields it does not know (a later version's additions survive a round trip)", () => {
    const text = JSON.stringify({
      format: "azure-table-sync/state",
      version: 1,
      note: "x",
      tables: { [ORDERS]: { watermark: "2024-05-01T12:00:00.000Z", future: [1, 2] } },
    });
    expect(JSON.parse(serializeState(parseState(text, "test")))).toEqual(JSON.parse(text));
  });

  it("refuses corrupt, foreign, damaged and newer states with a clear error", () => {
    expect(() => parseState("{", "the file x")).toThrow(/^The state in the file x is not valid JSON/);
    expect(() => parseState("", "the file x")).toThrow(/not valid JSON/);
    expect(() => parseState("[]", "the file x")).toThrow(/not an azure-table-sync state/);
    expect(() => parseState('{"lastSync":"2024-01-01"}', "the file x")).toThrow(
      /not an azure-table-sync state/,
    );
    expect(() =>
      parseState('{"format":"azure-table-sync/state","version":2,"tables":{}}', "the file x"),
    ).toThrow(/has version 2, written by a newer azure-table-sync/);
    expect(() =>
      parseState(
        '{"format":"azure-table-sync/state","version":1,"tables":{"a→a":{"watermark":"yesterday"}}}',
        "the file x",
      ),
    ).toThrow(/is damaged: tables\.a→a\.watermark: expected an ISO-8601 UTC time/);
    expect(() => parseState('{"format":"azure-table-sync/state","version":1}', "the file x")).toThrow(
      /damaged/,
    );
  });

  it("fails clearly when a state would not fit in a repository variable, even deflated", () => {
    let s = emptyState();
    // Names that do not compress (a digest each): deflating cannot bring these under the limit.
    for (let i = 0; i < 4_000; i++) {
      const name = `t${createHash("sha256").update(String(i)).digest("hex").slice(0, 40)}`;
      s = advanceWatermark(s, tableKey({ source: name, destination: `${name}copy` }), result(), backfill);
    }
    expect(Buffer.byteLength(JSON.stringify(s))).toBeGreaterThan(MAX_STATE_BYTES);
    expect(() => serializeState(s)).toThrow(/more than the 48000 bytes a state may hold .*split the tables/);
    // 150 tables with long names still fit.
    let fits = emptyState();
    for (let j = 0; j < 150; j++) {
      const name = `t${j}`.padEnd(40, "x");
      fits = advanceWatermark(fits, tableKey({ source: name, destination: name }), result(), backfill);
    }
    expect(() => serializeState(fits)).not.toThrow();
  });
});

describe("a ranged read's checkpoint", () => {
  it("is stored under a field of its own, reads back as a ranged continuation, and is no service token", () => {
    const point = { nextPartitionKey: "user-0042", ranged: true };
    const stored = storedContinuation(point);
    expect(stored).toEqual({ rangedFrom: "user-0042" });
    const state = emptyState();
    state.tables[tableKey({ source: "a", destination: "b" })] = {
      checkpoint: {
        continuation: stored,
        sourceClockAtStart: "2024-05-01T12:00:00.000Z",
        mode: "full-sync",
        read: 10,
        at: "2024-05-01T12:01:00.000Z",
      },
    };
    const text = serializeState(state);
    // A release before ranged reads requires `nextPartitionKey` and refuses this state rather than
    // sending the key to the service as a continuation token.
    expect(text).not.toContain("nextPartitionKey");
    const back = parseState(text, "a test").tables[tableKey({ source: "a", destination: "b" })].checkpoint!;
    expect(continuationFrom(back.continuation)).toEqual(point);
    // A service's token stays as it was.
    const token = { nextPartitionKey: '{"token":"x","range":{"min":"","max":"FF"}}', nextRowKey: "NA" };
    expect(continuationFrom(storedContinuation(token))).toEqual(token);
    expect(storedContinuation({ nextPartitionKey: "p" })).toEqual({ nextPartitionKey: "p" });
  });
});

describe("table names are case-insensitive", () => {
  it("one key for every spelling of a table pair", () => {
    expect(tableKey({ source: "Users", destination: "USERS2" })).toBe(
      tableKey({ source: "users", destination: "users2" }),
    );
  });

  it("a state saved with keys in other cases reads as one entry per table, never less safe", () => {
    const old = {
      format: "azure-table-sync/state",
      version: emptyState().version,
      tables: {
        "Users→users2": {
          watermark: "2024-05-01T12:00:00.000Z",
          switchedAt: "2024-05-03T00:00:00.000Z",
          postSwitchWrites: ["aaa"],
          checkpoint: {
            continuation: { nextPartitionKey: "p", nextRowKey: "r" },
            sourceClockAtStart: "2024-05-01T12:00:00.000Z",
            mode: "full-sync",
            read: 100,
            at: "2024-05-01T12:01:00.000Z",
          },
        },
        "users→users2": {
          watermark: "2024-05-02T12:00:00.000Z",
          switchedAt: "2024-05-02T00:00:00.000Z",
          postSwitchWrites: ["bbb"],
          checkpoint: {
            continuation: { nextPartitionKey: "q", nextRowKey: "s" },
            sourceClockAtStart: "2024-05-02T12:00:00.000Z",
            mode: "full-sync",
            read: 200,
            at: "2024-05-02T12:01:00.000Z",
          },
        },
        "Orders→Orders": { watermark: "2024-05-04T00:00:00.000Z" },
      },
      fullSync: { startedAt: "2024-05-01T12:00:00.000Z", done: ["Orders→Orders"] },
    };
    expect(old.format).toBe(emptyState().format);
    const s = parseState(JSON.stringify(old), "a test");
    const users = tableKey({ source: "users", destination: "users2" });
    expect(Object.keys(s.tables).sort()).toEqual([
      tableKey({ source: "orders", destination: "orders" }),
      users,
    ]);
    // The older watermark, the earlier switch, both post-switch writes; the checkpoints disagree, so neither.
    expect({ ...s.tables[users], postSwitchWrites: s.tables[users].postSwitchWrites?.sort() }).toEqual({
      watermark: "2024-05-01T12:00:00.000Z",
      switchedAt: "2024-05-02T00:00:00.000Z",
      postSwitchWrites: ["aaa", "bbb"],
    });
    expect(s.fullSync?.done).toEqual(["orders→orders"]);
    expect(watermarkOf(s, tableKey({ source: "ORDERS", destination: "orders" }))).toBe(
      "2024-05-04T00:00:00.000Z",
    );
  });
});
