import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildConfig, ConfigError } from "../../src/config/schema.js";
import { cliMessage, normalizeSwitches, parseCliArgs } from "../../src/cli/args.js";
import { parseEnvFile } from "../../src/cli/env-file.js";
import { Masker, connectionStringSecrets } from "../../src/cli/mask.js";
import { stopWords } from "../../src/cli/cancel.js";
import { guardLine } from "../../src/cli/run-copy.js";
import { commandHelp, globalHelp } from "../../src/cli/help.js";
import { reportPathProblem, reportWriteFailure } from "../../src/cli/report-path.js";
import { packageVersion } from "../../src/cli/version.js";
import type { CheckResult } from "../../src/engine/steps/check-result.js";
import { formatSummary, nextSince, progressLine } from "../../src/cli/report.js";
import { formatCheck } from "../../src/cli/check-report.js";
import { duration } from "../../src/present/figures.js";
import type { RunResult } from "../../src/cli/report.js";
import { emptyResult } from "../../src/engine/copy/copy-table.js";
import { totals } from "../../src/engine/copy/result.js";

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

  it("recognises help, per command, and --version", () => {
    expect(parseCliArgs(["--help"])).toEqual({ kind: "help" });
    expect(parseCliArgs(["-h"])).toEqual({ kind: "help" });
    expect(parseCliArgs(["help"])).toEqual({ kind: "help" });
    expect(parseCliArgs(["full-sync", "--tables", "x", "--help"])).toEqual({
      kind: "help",
      command: "full-sync",
    });
    expect(parseCliArgs(["--help", "verify"])).toEqual({ kind: "help", command: "verify" });
    expect(parseCliArgs(["help", "preflight"])).toEqual({ kind: "help", command: "preflight" });
    expect(usageError(() => parseCliArgs(["bogus", "--help"]))).toMatch(/^Unknown command 'bogus'/);
    expect(usageError(() => parseCliArgs(["help", "bogus"]))).toMatch(/^Unknown command 'bogus'/);
    expect(parseCliArgs(["--version"])).toEqual({ kind: "version" });
    expect(usageError(() => parseCliArgs(["bogus", "--version"]))).toMatch(/^Unknown command 'bogus'/);
  });

  it("refuses a flag given twice", () => {
    expect(usageError(() => parseCliArgs(["full-sync", "--tables", "a1x", "--tables", "b1x"]))).toBe(
      "Option --tables is given twice; give it once (separate several values with commas).",
    );
    expect(usageError(() => parseCliArgs(["full-sync", "--dry-run", "--no-dry-run"]))).toBe(
      "Option --dry-run is given twice; give it once.",
    );
    expect(usageError(() => parseCliArgs(["full-sync", "--concurrency=2", "--concurrency", "3"]))).toMatch(
      /^Option --concurrency is given twice/,
    );
  });

  it("says how to write a switch when it gets a word that is not true or false", () => {
    expect(usageError(() => parseCliArgs(["full-sync", "--create-tables", "maybe"]))).toBe(
      "Option --create-tables is followed by 'maybe', which is not true or false; use --create-tables or --no-create-tables.",
    );
    expect(usageError(() => parseCliArgs(["full-sync", "--create-tables=maybe"]))).toBe(
      "Option --create-tables is 'maybe'; use --create-tables or --no-create-tables.",
    );
    expect(usageError(() => parseCliArgs(["verify", "--no-fail-on-difference=perhaps"]))).toBe(
      "Option --no-fail-on-difference is 'perhaps'; use --fail-on-difference or --no-fail-on-difference.",
    );
    // A command after a switch is the command, not the switch's value.
    expect(run(["--dry-run", "full-sync"]).raw["dry-run"]).toBe("true");
  });

  it("accepts a negated switch with a value", () => {
    expect(run(["verify", "--no-fail-on-difference=true"]).raw["fail-on-difference"]).toBe("false");
    expect(run(["verify", "--no-fail-on-difference=false"]).raw["fail-on-difference"]).toBe("true");
    expect(
      buildConfig({
        ...run(["verify", "--no-fail-on-difference=yes"]).raw,
        tables: "abc:abc2",
        "source-connection-string": "UseDevelopmentStorage=true",
        "destination-connection-string": "UseDevelopmentStorage=true",
      }).failOnDifference,
    ).toBe(false);
  });

  it.each(["", "0x10", "1e2", "8.0", " 8", "-1", "+4"])("requires digits for whole numbers: %j", (value) => {
    expect(usageError(() => parseCliArgs(["full-sync", `--concurrency=${value}`]))).toBe(
      `Option --concurrency is '${value}'; use auto (the default) or a whole number written in digits, e.g. --concurrency 64.`,
    );
  });

  it("takes whole numbers and fractional progress seconds in digits", () => {
    expect(run(["full-sync", "--concurrency", "16", "--read-ranges=2"]).raw).toMatchObject({
      concurrency: "16",
      "read-ranges": "2",
    });
    expect(run(["full-sync", "--progress-seconds", "0.5"]).options.progressSeconds).toBe(0.5);
    for (const bad of ["", "0x10", "1e2", "-1"]) {
      expect(usageError(() => parseCliArgs(["full-sync", `--progress-seconds=${bad}`]))).toMatch(
        /^Option --progress-seconds is/,
      );
    }
  });

  it.each([
    [
      ["full-sync", "--repair"],
      "Option --repair is for verify only; drop it for full-sync, or run 'table-sync verify'.",
    ],
    [
      ["full-sync", "--sample", "0.5"],
      "Option --sample is for verify and switch only; drop it for full-sync.",
    ],
    [
      ["backfill", "--no-fail-on-difference"],
      "Option --fail-on-difference is for verify only; drop it for backfill, or run 'table-sync verify'.",
    ],
    [["verify", "--dry-run"], "Option --dry-run is for full-sync and backfill only; drop it for verify."],
    [
      ["verify", "--query-filter", "x"],
      "Option --query-filter is for full-sync, backfill and switch only; drop it for verify.",
    ],
    [
      ["status", "--state-file", "s.json", "--ru-per-second", "5000"],
      "Option --ru-per-second is for preflight only; drop it for status, or run 'table-sync preflight'.",
    ],
    [
      ["full-sync", "--report-path", "r.json"],
      "Option --report-path is for verify, switch and preflight only; drop it for full-sync.",
    ],
    [["switch", "--shard", "1/2"], "Option --shard is for full-sync and backfill only; drop it for switch."],
  ])("refuses an option the command does not take: %j", (argv, message) => {
    expect(usageError(() => parseCliArgs(argv))).toBe(message);
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

  it("names flags instead of the action's inputs in engine and state sentences", () => {
    // The sentences as src/engine and src/state write them (file:line in the comments).
    const cases: [string, string][] = [
      [
        // src/engine/steps/verify.ts runVerify failure
        "The destination differs from the source in 3 entities; run verify with 'repair: true' to copy them (and 'delete-extra: true' to remove entities the source no longer has).",
        "The destination differs from the source in 3 entities; run verify with --repair to copy them (and --delete-extra to remove entities the source no longer has).",
      ],
      [
        // src/engine/steps/verify.ts runVerify
        "Input 'delete-extra' only works with 'repair: true'; set both, or neither.",
        "Option --delete-extra only works with --repair; set both, or neither.",
      ],
      [
        "delete-extra is refused for table t1x: a switch was recorded at 2024-01-01T00:00:00.000Z, so an entity only the destination holds is probably a new write by the app; run verify with repair but without delete-extra.",
        "--delete-extra is refused for table t1x: a switch was recorded at 2024-01-01T00:00:00.000Z, so an entity only the destination holds is probably a new write by the app; run verify with --repair but without --delete-extra.",
      ],
      [
        // src/state/watermark.ts MissingWatermarkError
        "No watermark is stored for table 't1x', so a backfill does not know where to start: run 'full-sync' first, or set 'since' to the UTC time from which changes should be copied.",
        "No watermark is stored for table 't1x', so a backfill does not know where to start: run 'table-sync full-sync' first, or pass --since with the UTC time from which changes should be copied.",
      ],
      [
        // src/engine/wire/tables.ts requireTable
        "Destination table t1x does not exist and create-tables is off; create it (with enough throughput) or set create-tables to true.",
        "Destination table t1x does not exist and --no-create-tables was given; create it (with enough throughput) or drop --no-create-tables.",
      ],
      [
        // src/engine/copy/reader.ts
        "The source rejected the filter \"x\" for table t1x (HTTP 400: bad); check the 'query-filter' input, which is ANDed with the watermark filter.",
        'The source rejected the filter "x" for table t1x (HTTP 400: bad); check --query-filter, which is ANDed with the watermark filter.',
      ],
      [
        // src/engine/steps/plan.ts
        "Table t1x: a backfill cannot read from Cosmos DB for Table, which silently returns no rows for Timestamp filters; use mode 'full-sync', or 'verify' with 'repair: true'.",
        "Table t1x: a backfill cannot read from Cosmos DB for Table, which silently returns no rows for Timestamp filters; use 'table-sync full-sync', or 'table-sync verify' with --repair.",
      ],
    ];
    for (const [engine, cli] of cases) expect(cliMessage(engine)).toBe(cli);
    // Paths, flags already spelt as flags, and unknown words stay as they are.
    expect(cliMessage("Report: /tmp/table-sync-report.json --dry-run --no-create-tables re-read")).toBe(
      "Report: /tmp/table-sync-report.json --dry-run --no-create-tables re-read",
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

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "cli-units-"));
  tmpDirs.push(d);
  return d;
}

describe("help", () => {
  /** The flags in the option column (not those mentioned in an explanation). */
  const flagsIn = (text: string) =>
    new Set(
      text
        .split("\n")
        .filter((l) => /^ {2}-/.test(l))
        .flatMap(
          (l) =>
            l
              .slice(2)
              .split(/ {2,}/)[0]
              .match(/--[a-z][a-z-]+/g) ?? [],
        ),
    );

  it("lists every command and flag, the exit codes and --version", () => {
    const help = globalHelp();
    for (const word of [
      "full-sync",
      "backfill",
      "verify",
      "switch",
      "preflight",
      "--repair",
      "--shard",
      "--version",
    ]) {
      expect(help).toContain(word);
    }
    expect(help).toMatch(/^\s+130\s+cancelled by Ctrl\+C \(SIGINT/m);
    expect(help).toMatch(/^\s+143\s+cancelled by SIGTERM/m);
  });

  it("shows a command only the options it takes", () => {
    const verify = commandHelp("verify");
    expect(verify).toMatch(/^Usage: table-sync verify --tables/);
    const flags = flagsIn(verify);
    for (const f of ["--repair", "--delete-extra", "--no-fail-on-difference", "--sample", "--report-path"]) {
      expect(flags).toContain(f);
    }
    for (const f of [
      "--since",
      "--dry-run",
      "--shard",
      "--checkpoint-seconds",
      "--write-mode",
      "--query-filter",
    ]) {
      expect(flags).not.toContain(f);
    }
    const full = flagsIn(commandHelp("full-sync"));
    for (const f of ["--checkpoint-seconds", "--dry-run", "--shard", "--state-file"])
      expect(full).toContain(f);
    for (const f of ["--repair", "--sample", "--report-path", "--since"]) expect(full).not.toContain(f);
    const preflight = flagsIn(commandHelp("preflight"));
    // With --state-file, preflight keeps each table's size for the full sync's ETA.
    expect(preflight).toContain("--state-file");
    expect(preflight).toContain("--ru-per-second");
    expect(preflight).not.toContain("--concurrency");
    const status = flagsIn(commandHelp("status"));
    expect(status).toContain("--state-file");
    expect(status).toContain("--source-connection-string");
    for (const f of [
      "--destination-connection-string",
      "--concurrency",
      "--property-renames",
      "--ru-per-second",
    ])
      expect(status).not.toContain(f);
    expect(commandHelp("backfill")).not.toEqual(commandHelp("verify"));
  });

  it("help of a command names no option that command refuses", () => {
    for (const command of ["full-sync", "backfill", "verify", "switch", "preflight", "status"] as const) {
      for (const flag of flagsIn(commandHelp(command))) {
        const name = flag.replace(/^--(no-)?/, "");
        if (["help", "version", "delete-extra"].includes(name)) continue;
        const value = ["dry-run", "create-tables", "repair", "fail-on-difference", "json"].includes(name)
          ? []
          : [name === "shard" ? "1/2" : "1"];
        expect(() => parseCliArgs([command, `--${name}`, ...value]), `${command} --${name}`).not.toThrow();
      }
    }
  });
});

describe("--version", () => {
  it("finds the package's version above the bundle, passing over dist/package.json", () => {
    const root = tmp();
    writeFileSync(join(root, "package.json"), JSON.stringify({ name: "azure-table-sync", version: "9.8.7" }));
    mkdirSync(join(root, "dist", "cli"), { recursive: true });
    writeFileSync(join(root, "dist", "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(join(root, "dist", "cli", "index.js"), "");
    mkdirSync(join(root, "build", "src", "cli"), { recursive: true });
    writeFileSync(join(root, "build", "src", "cli", "index.js"), "");
    expect(packageVersion(join(root, "dist", "cli", "index.js"))).toBe("9.8.7");
    expect(packageVersion(join(root, "build", "src", "cli", "index.js"))).toBe("9.8.7");
    expect(packageVersion(join(tmp(), "x.js"))).toBeUndefined();
  });
});

describe("report path", () => {
  it("accepts a writable file or a path whose directories are missing", () => {
    const d = tmp();
    expect(reportPathProblem(join(d, "r.json"), "r.json")).toBeUndefined();
    expect(reportPathProblem(join(d, "new", "deeper", "r.json"), undefined)).toBeUndefined();
    writeFileSync(join(d, "exists.json"), "{}");
    expect(reportPathProblem(join(d, "exists.json"), undefined)).toBeUndefined();
  });

  it("names a directory, a file in the way, and an unwritable place", () => {
    const d = tmp();
    expect(reportPathProblem(d, d)).toBe(
      `Option --report-path is '${d}', which is a directory; give a file path, e.g. ${join(d, "table-sync-report.json")}.`,
    );
    writeFileSync(join(d, "afile"), "");
    expect(reportPathProblem(join(d, "afile", "x", "r.json"), "given.json")).toBe(
      `Option --report-path is 'given.json', but ${join(d, "afile")} is a file, not a directory; give a path inside a directory.`,
    );
    if (process.getuid?.() !== 0) {
      const locked = join(d, "locked");
      mkdirSync(locked);
      chmodSync(locked, 0o500);
      expect(reportPathProblem(join(locked, "r.json"), undefined)).toMatch(/cannot be written \(EACCES\)/);
      chmodSync(locked, 0o700);
    }
    expect(
      reportWriteFailure(
        "/dev/full",
        Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }),
      ),
    ).toBe(
      "The JSON report could not be written to /dev/full (ENOSPC: no space left on device); the result above stands, but give --report-path a file you can write to.",
    );
  });
});

describe("cancel wording", () => {
  const config = (over: Record<string, string>) =>
    buildConfig({
      tables: "abc:abc2",
      "source-connection-string": "UseDevelopmentStorage=true",
      "destination-connection-string": "UseDevelopmentStorage=true",
      ...over,
    });
  const store = { load: async () => undefined, save: async () => undefined, describe: () => "x" };

  it("promises a checkpoint only when one can be saved", () => {
    expect(stopWords(config({ mode: "full-sync" }), store).stopping).toContain("saving a checkpoint");
    expect(stopWords(config({ mode: "full-sync" }), store).quit).toBe(
      "Stopped at once; the last saved checkpoint stands.",
    );
    const none = stopWords(config({ mode: "full-sync" }), undefined);
    expect(none.stopping).not.toContain("saving a checkpoint");
    expect(none.stopping).toContain("without --state-file no checkpoint is saved");
    for (const mode of ["verify", "preflight"]) {
      const w = stopWords(config({ mode }), undefined);
      expect(w.stopping).toContain("no verdict");
      expect(w.stopping).not.toContain("checkpoint");
    }
  });

  it("says what --conflict does after a switch", () => {
    expect(guardLine({ switchedAt: "2024-01-01T00:00:00.000Z", policy: "skip" })).toBe(
      "switched at 2024-01-01T00:00:00.000Z: the app's writes on the destination are kept (--conflict skip).",
    );
    const wins = guardLine({ switchedAt: "2024-01-01T00:00:00.000Z", policy: "source-wins" });
    expect(wins).toContain("--conflict source-wins");
    expect(wins).not.toContain("are kept");
  });

  it("a cancelled check shows the tables it finished and no verdict", () => {
    const table = (name: string, error?: string) => ({
      source: name,
      destination: name,
      checked: 2,
      sourceCount: 2,
      destinationCount: 2,
      missing: 0,
      extra: 0,
      different: 0,
      untransformable: 0,
      missingSamples: [],
      extraSamples: [],
      differentSamples: [],
      untransformableSamples: [],
      notes: [],
      inSync: !error,
      sampled: false,
      durationMs: 1,
      ...(error ? { error } : {}),
    });
    const result = {
      mode: "verify",
      verify: [table("done1"), table("cut1", "the run was cancelled")],
      preflight: [],
      inSync: false,
      differences: 0,
      notices: [],
      ok: false,
      failure: "1 of 2 tables could not be verified: the run was cancelled",
      durationMs: 5,
    } as unknown as CheckResult;
    const text = formatCheck(result, "/r.json", { cancelled: true });
    expect(text).toContain("done1");
    expect(text).not.toContain("cut1");
    expect(text).toContain("verify cancelled: no verdict (1 of 2 tables compared before the cancel).");
    expect(text).not.toMatch(/verify: \d+ difference|in sync\.|could not be verified/);
    expect(text).toContain("Report (marked cancelled): /r.json");
    expect(
      formatCheck(
        { ...result, verify: [table("done1")], inSync: true, ok: true, failure: undefined },
        undefined,
      ),
    ).toContain("verify: in sync.\nReport: not written.");
  });
});
