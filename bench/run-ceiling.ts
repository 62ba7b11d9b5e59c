// Child process of the matrix: one yardstick (ceiling-client.ts) in a process of its own, pinned where the
// tool runs. Input: JSON in argv[2]; output: one JSON line on stdout (the last).
import { inflightFor, operationsPerRequest, plainScan, prebuildWrites, sendAll } from "./ceiling-client.js";
import { shapeEntities } from "./free-source-rows.js";

export interface CeilingInput {
  mode: "scan" | "writes";
  /** Table endpoint through the link: `http://127.0.0.1:<port>/devstoreaccount1`. */
  endpoint: string;
  table: string;
  entities: number;
  perPartition: number;
  rttMs: number;
  /** Requests in flight for writes (default: enough to cover the round trip at 25,000 entities/s). */
  inflight?: number;
}

export interface CeilingOutput {
  mode: "scan" | "writes";
  entities: number;
  elapsedMs: number;
  cpuMs: number;
  maxRssKb: number;
  requests: number;
  failed: number;
  inflight?: number;
  prepareMs?: number;
  error?: string;
}

const input = JSON.parse(process.argv[2] ?? "{}") as CeilingInput;
const cpu = () => {
  const u = process.resourceUsage();
  return (u.userCPUTime + u.systemCPUTime) / 1000;
};
let out: CeilingOutput;
if (input.mode === "scan") {
  const cpu0 = cpu();
  const r = await plainScan(input.endpoint, input.table);
  out = {
    mode: "scan",
    entities: r.entities,
    elapsedMs: r.elapsedMs,
    cpuMs: cpu() - cpu0,
    maxRssKb: process.resourceUsage().maxRSS,
    requests: r.pages,
    failed: 0,
  };
} else {
  const prepStart = performance.now();
  const requests = prebuildWrites(
    input.endpoint,
    input.table,
    shapeEntities(input.entities, input.perPartition),
    input.perPartition,
  );
  const prepareMs = performance.now() - prepStart;
  const inflight = input.inflight ?? inflightFor(input.rttMs, operationsPerRequest(input.perPartition));
  const cpu0 = cpu();
  const r = await sendAll(input.endpoint, requests, inflight);
  out = {
    mode: "writes",
    entities: r.entities,
    elapsedMs: r.elapsedMs,
    cpuMs: cpu() - cpu0,
    maxRssKb: process.resourceUsage().maxRSS,
    requests: r.requests,
    failed: r.failed,
    inflight,
    prepareMs,
    error: r.firstError,
  };
}
process.stdout.write(`${JSON.stringify(out)}\n`);
