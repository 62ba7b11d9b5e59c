// The CLI's argument parsing (src/cli/args.ts): flags mapped to the action's input names, switches, help and
// --version recognised, options a command does not take refused, and the engine's sentences in flag words.
import { describe, expect, it } from "vitest";
import { buildConfig } from "../../src/config/schema.js";
import { cliMessage, normalizeSwitches, parseCliArgs } from "../../src/cli/args.js";
import { usageError } from "./usage-error.js";

function run(argv: string[]) {
  const parsed = parseCliArgs(argv);
  if (parsed.kind !== "run") throw new Error("expected a run");
  return parsed;
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
