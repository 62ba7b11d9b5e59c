// Makes the "Watching a migration" example in docs/ from a real run: two Azurite servers, a preflight, a full
// sync, then backfills with the source changing in between (its lag is the time each scan really took); the status step's job summary and the CLI's status text are written to docs/.
//   npm run build && node build/scripts/watch-example.js
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildStatusSummary } from "../src/action/status-summary.js";
import { formatStatus } from "../src/cli/status.js";
import { buildConfig } from "../src/config/schema.js";
import { runCopy } from "../src/engine/steps/full-sync.js";
import { runPreflight } from "../src/engine/steps/preflight.js";
import type { MigrationDeps } from "../src/engine/steps/engine-config.js";
import { runStatus } from "../src/engine/steps/status.js";
import { MemoryStateStore } from "../src/state/store.js";
import { startAzurite } from "../test/support/azurite.js";
import { seedEntities, simpleEntity } from "../test/support/tables.js";
import { faults, QUERY, startFaultProxy } from "../test/support/fault-proxy.js";

const [source, destination] = await Promise.all([startAzurite(), startAzurite()]);
// A source a little further away than Azurite is: each page of a query answers after 1 s, so a backfill's
// lag (the time its scan took, on the source's clock) grows with the pages it reads. Backfills wait
// WATCH_EXAMPLE_INTERVAL_MS (default 40 s) apart, so the chart spans a few minutes.
const slow = await startFaultProxy({
  target: source.connectionString,
  rules: [{ ...QUERY, fault: faults.stall(1_000, "forward") }],
});
const interval = Number(process.env.WATCH_EXAMPLE_INTERVAL_MS ?? 40_000);
try {
  const store = new MemoryStateStore();
  const deps: MigrationDeps = {
    store,
    source: { connectionString: slow.connectionString() },
    destination: { connectionString: destination.connectionString, kind: "cosmos" },
  };
  const config = (mode: string, extra: Record<string, string> = {}) =>
    buildConfig({
      mode,
      tables: "orders,customers",
      "source-connection-string": slow.connectionString(),
      "destination-connection-string": destination.connectionString,
      "state-store": "file",
      ...extra,
    });
  const rows = (table: string, n: number, from: number) =>
    Array.from({ length: n }, (_, i) =>
      simpleEntity(`tenant${(from + i) % 40}`, `${table}${String(from + i).padStart(6, "0")}`, {
        amount: from + i,
        note: "x".repeat(300),
      }),
    );
  await seedEntities(source.connectionString, "orders", rows("o", 6_000, 0));
  await seedEntities(source.connectionString, "customers", rows("c", 800, 0));
  await runPreflight(config("preflight"), deps);
  await runCopy(config("full-sync"), deps);
  // Busy at first, then quieter: the lag (each backfill's scan time) shrinks as the changes do.
  const changes = [2_400, 1_800, 1_500, 900, 600, 300, 120, 40];
  let next = 10_000;
  for (const n of changes) {
    await seedEntities(source.connectionString, "orders", rows("o", n, next));
    await seedEntities(source.connectionString, "customers", rows("c", Math.ceil(n / 10), next));
    next += n;
    await runCopy(config("backfill", { "overlap-seconds": "0" }), deps);
    await new Promise((r) => setTimeout(r, interval));
  }
  const status = await runStatus(config("status"), deps);
  const docs = join(import.meta.dirname, "..", "..", "docs");
  const state = (text: string) => text.replace(/memory/g, "the file .table-sync/state.json");
  writeFileSync(join(docs, "status-summary.md"), state(buildStatusSummary(status)));
  writeFileSync(join(docs, "status-cli.txt"), state(formatStatus(status)));
  console.log(state(buildStatusSummary(status)));
  console.log(state(formatStatus(status)));
} finally {
  await slow.stop();
  await Promise.all([source.stop(), destination.stop()]);
}
