import { describe, expect, it } from "vitest";
import { DefaultAzureCredential } from "@azure/identity";
import type { TokenCredential } from "@azure/core-auth";
import { buildConfig, ConfigError } from "../../src/config/schema.js";
import { cliMessage, normalizeSwitches, parseCliArgs } from "../../src/cli/args.js";
import { parseEnvFile } from "../../src/cli/env-file.js";
import { Masker, connectionStringSecrets } from "../../src/cli/mask.js";
import { engineConfig } from "../../src/cli/main.js";
import { duration, formatSummary, nextSince, progressLine } from "../../src/cli/report.js";
import type { RunResult } from "../../src/cli/report.js";
import { emptyResult } from "../../src/engine/sync.js";
import { totals } from "../../src/engine/result.js";

function run(argv: string[]) {
  const parsed = parseCliArgs(argv);
  if (parsed.kind !== "run") throw new Error("expected a run");
  return parsed;
}

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("no error");
}

describe("args", () => {
  it("maps flags to the action's input names", () => {
    const p = run([
      "backfill",
      "--tables",
      "a1x,b1x:c1x",
      "--source-connection-string=UseDevelopmentStorage=true",
      "--destination-endpoint",
      "https://acct.table.cosmos.azure.com",
      "--write-mode",
      "merge",
      "--property-renames",
      "id:entityId",
      "--query-filter",
      "PartitionKey eq 'x'",
      "--concurrency",
      "4",
      "--destination-kind",
      "cosmos",
      "--source-kind",
      "table",
      "--since",
      "2024-05-01T12:00:00Z",
      "--overlap-seconds",
      "30",
      "--dry-run",
      "--no-create-tables",
      "--json",
    ]);
    expect(p.command).toBe("backfill");
    expect(p.raw).toEqual({
      mode: "backfill",
      tables: "a1x,b1x:c1x",
      "source-connection-string": "UseDevelopmentStorage=true",
      "destination-endpoint": "https://acct.table.cosmos.azure.com",
      "write-mode": "merge",
      "property-renames": "id:entityId",
      "query-filter": "PartitionKey eq 'x'",
      concurrency: "4",
      "destination-kind": "cosmos",
      "source-kind": "table",
      since: "2024-05-01T12:00:00Z",
      "overlap-seconds": "30",
      "dry-run": "true",
      "create-tables": "false",
    });
    expect(p.options.json).toBe(true);
    const config = buildConfig(p.raw);
    expect(config).toMatchObject({ mode: "backfill", dryRun: true, createTables: false, concurrency: 4 });
  });

  it("accepts switches bare, negated or with a value", () => {
    expect(normalizeSwitches(["--create-tables", "false", "--dry-run", "--tables", "x"])).toEqual([
      "--create-tables=false",
      "--dry-run=true",
      "--tables",
      "x",
    ]);
    expect(run(["full-sync", "--create-tables", "false"]).raw["create-tables"]).toBe("false");
    expect(run(["full-sync", "--create-tables"]).raw["create-tables"]).toBe("true");
    expect(run(["full-sync", "--dry-run", "no"]).raw["dry-run"]).toBe("no");
    expect(usageError(() => parseCliArgs(["full-sync", "--", "--dry-run"]))).toMatch(
      /^Unexpected argument '--dry-run'/,
    );
  });

  it("recognises help", () => {
    expect(parseCliArgs(["--help"]).kind).toBe("help");
    expect(parseCliArgs(["-h"]).kind).toBe("help");
    expect(parseCliArgs(["full-sync", "--tables", "x", "--help"]).kind).toBe("help");
    expect(parseCliArgs(["help"]).kind).toBe("help");
  });

  it("maps --state-file to the file store", () => {
    const p = run(["backfill", "--state-file", "s.json"]);
    expect(p.raw).toMatchObject({ "state-store": "file", "state-key": "s.json" });
  });

  it("reports argument errors as one sentence", () => {
    expect(usageError(() => parseCliArgs(["full-sync", "--tabels", "x"]))).toBe(
      "Unknown option --tabels; run 'table-sync --help' for the list.",
    );
    expect(usageError(() => parseCliArgs(["full-sync", "--tables"]))).toMatch(
      /^Option --tables needs a value/,
    );
    expect(usageError(() => parseCliArgs([]))).toMatch(/^No command given/);
    expect(usageError(() => parseCliArgs(["sync"]))).toMatch(/^Unknown command 'sync'/);
    expect(usageError(() => parseCliArgs(["full-sync", "extra"]))).toMatch(/^Unexpected argument 'extra'/);
    expect(usageError(() => parseCliArgs(["full-sync", "--progress-seconds", "x"]))).toMatch(
      /--progress-seconds/,
    );
  });

  it("names flags instead of inputs in config errors", () => {
    expect(cliMessage("Input 'write-mode' is 'x'; use one of: replace, merge, insert.")).toBe(
      "Option --write-mode is 'x'; use one of: replace, merge, insert.",
    );
    expect(cliMessage("Both 'source-connection-string' and 'source-endpoint' are set; keep one.")).toBe(
      "Both --source-connection-string and --source-endpoint are set; keep one.",
    );
    expect(cliMessage("Input 'tables' has 'full-sync', which is not valid.")).toBe(
      "Option --tables has 'full-sync', which is not valid.",
    );
  });
});

describe(".env", () => {
  it("reads KEY=VALUE with quotes, comments and export", () => {
    const env = parseEnvFile(
      [
        "# a comment",
        "",
        'SOURCE_CONNECTION_STRING="AccountName=a;AccountKey=k==;TableEndpoint=https://a.table.core.windows.net/"',
        "export DESTINATION_CONNECTION_STRING='x;sig=a#b' # trailing comment",
        "PLAIN=value with spaces # comment",
        "HASH=a#b",
        'ESCAPED="line1\\nline2 \\"q\\""',
        'MULTI="first',
        'second"',
        "EMPTY=",
      ].join("\r\n"),
    );
    expect(env).toEqual({
      SOURCE_CONNECTION_STRING:
        "AccountName=a;AccountKey=k==;TableEndpoint=https://a.table.core.windows.net/",
      DESTINATION_CONNECTION_STRING: "x;sig=a#b",
      PLAIN: "value with spaces",
      HASH: "a#b",
      ESCAPED: 'line1\nline2 "q"',
      MULTI: "first\nsecond",
      EMPTY: "",
    });
  });

  it("names the bad line without echoing it", () => {
    expect(usageError(() => parseEnvFile("OK=1\nAccountKey secret\n"))).toBe(
      "Line 2 of .env is not KEY=VALUE; fix or remove it.",
    );
    expect(usageError(() => parseEnvFile('A="open\n'))).toMatch(/^Line 1 of \.env opens a double quote/);
  });
});

describe("masking", () => {
  it("masks connection strings, keys and signatures", () => {
    const cs =
      "DefaultEndpointsProtocol=https;AccountName=acct;TableEndpoint=https://acct.table.core.windows.net;" +
      "SharedAccessSignature=sv=2022-11-02&ss=t&sig=abc%2Bdef%3D";
    const m = new Masker(connectionStringSecrets(cs));
    const text = `got ${cs} and sig=abc%2Bdef%3D and abc+def= and AccountKey=other;`;
    const masked = m.mask(text);
    expect(masked).not.toContain("abc");
    expect(masked).not.toContain("other");
    expect(masked).toContain("AccountKey=***");
  });

  it("masks unknown keys by pattern", () => {
    expect(new Masker().mask("x AccountKey=zzz; y https://h/t?sv=1&sig=qqq&se=2")).toBe(
      "x AccountKey=***; y https://h/t?sv=1&sig=***&se=2",
    );
  });
});

describe("report", () => {
  const base = (over: Partial<ReturnType<typeof emptyResult>> = {}) => ({
    ...emptyResult({ source: "orders", destination: "orders2" }),
    read: 2000,
    written: 1999,
    failed: 1,
    durationMs: 2000,
    sourceClockAtStart: "2024-05-01T12:00:00.000Z",
    failures: [
      { partitionKey: "p", rowKey: "r", message: "Table orders, PartitionKey 'p', RowKey 'r': bad" },
    ],
    ...over,
  });

  it("formats the summary with failures", () => {
    const tables = [base()];
    const result: RunResult = {
      tables,
      totals: totals(tables, 2100),
    };
    const text = formatSummary(result, { command: "full-sync", dryRun: false, overlapSeconds: 120 });
    expect(text).toContain("full-sync finished with failures in 1 of 1 table");
    expect(text).toMatch(
      /orders → orders2\s+2,000\s+1,999\s+0\s+1\s+2\.0 s\s+1,000\s+2024-05-01T12:00:00\.000Z/,
    );
    expect(text).toContain("  PartitionKey 'p', RowKey 'r': bad\n");
    expect(text).not.toContain("Next backfill");
  });

  it("suggests the next --since: the earliest source clock (the backfill applies the overlap itself)", () => {
    const tables = [
      base({ failed: 0, failures: [] }),
      base({ source: "b", sourceClockAtStart: "2024-05-01T11:00:00.000Z", failed: 0, failures: [] }),
    ];
    const result: RunResult = {
      tables,
      totals: totals(tables, 4000),
    };
    expect(nextSince(result)?.toISOString()).toBe("2024-05-01T11:00:00.000Z");
    expect(formatSummary(result, { command: "full-sync", dryRun: false, overlapSeconds: 60 })).toContain(
      "Next backfill: table-sync backfill --since 2024-05-01T11:00:00Z",
    );
  });

  it("formats progress and durations", () => {
    expect(progressLine({ table: "t", read: 12345, written: 12000, skipped: 0, failed: 2 }, 3000)).toBe(
      "[t] 12,345 read, 12,000 written, 2 failed, 4,115 entities/s, 3.0 s elapsed",
    );
    expect(duration(125_000)).toBe("2 min 05 s");
    expect(duration(3_725_000)).toBe("1 h 02 min");
  });
});

describe("engine config", () => {
  const raw = {
    mode: "full-sync",
    tables: "abc",
    "source-endpoint": "https://src.table.core.windows.net",
    "destination-connection-string": "UseDevelopmentStorage=true",
  };

  it("gives endpoints DefaultAzureCredential by default", async () => {
    const engine = await engineConfig(
      buildConfig({ ...raw, "client-id": "00000000-0000-0000-0000-000000000001" }),
    );
    expect(engine.source.credential).toBeInstanceOf(DefaultAzureCredential);
    expect(engine.source.endpoint).toBe("https://src.table.core.windows.net");
    expect(engine.destination).toEqual({ connectionString: "UseDevelopmentStorage=true", kind: "auto" });
  });

  it("uses an injected credential, once for both sides", async () => {
    let made = 0;
    const fake: TokenCredential = {
      getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 60_000 }),
    };
    const engine = await engineConfig(
      buildConfig({
        ...raw,
        "destination-connection-string": undefined,
        "destination-endpoint": "https://d.table.cosmos.azure.com",
      }),
      {
        credential: () => {
          made++;
          return fake;
        },
      },
    );
    expect(engine.source.credential).toBe(fake);
    expect(engine.destination.credential).toBe(fake);
    expect(made).toBe(1);
  });
});
