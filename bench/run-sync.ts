// Child process of the bench: one full sync with the engine, alone in its process so that its peak
// RSS is its own. Input: JSON in argv[2]; output: a Measured line on stdout.
import { runSync } from "../src/engine/copy/run-sync.js";
import { report, usageMark, usageSince } from "./common.js";

interface Input {
  source: string;
  destination: string;
  sourceTable: string;
  destinationTable: string;
  concurrency: number;
}

const input = JSON.parse(process.argv[2] ?? "{}") as Input;
const mark = usageMark();
const started = performance.now();
const result = await runSync({
  source: { connectionString: input.source },
  destination: { connectionString: input.destination },
  tables: [{ source: input.sourceTable, destination: input.destinationTable }],
  writeMode: "replace",
  propertyRenames: [],
  concurrency: input.concurrency,
  createTables: true,
  dryRun: false,
  maxFailuresKept: 5,
});
const elapsedMs = performance.now() - started;
const table = result.tables[0];
report({
  entities: result.totals.written,
  elapsedMs,
  ...usageSince(mark),
  failed: result.totals.failed,
  requests: table ? table.transactions : 0,
  error: table?.error ?? (table?.failures[0] ? JSON.stringify(table.failures[0]) : undefined),
});
