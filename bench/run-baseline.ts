// Child process of the bench: the two yardsticks our sync is measured against.
//
//   ceiling     the sink's ceiling: the same entities as 100-operation transactions, every body built
//               before the clock starts, sent straight to the destination with the same concurrency.
//   per-entity  a copy the way the Data Migration Tool does it: read the source, one upsert request
//               per entity, a fixed number in flight.
//
// Input: JSON in argv[2]; output: a Measured line on stdout.
import {
  buildBatchBytes,
  keyUrl,
  parseBatchResponse,
  type BatchBytes,
  type Operation,
} from "../src/engine/wire/batch.js";
import { entityJson } from "../src/engine/wire/edm.js";
import { TableReader } from "../src/engine/copy/reader.js";
import { MAX_OPERATIONS } from "../src/engine/copy/write-rules.js";
import { httpFor, report, usageMark, usageSince } from "./common.js";
import { entities } from "./data.js";

interface CeilingInput {
  mode: "ceiling";
  destination: string;
  table: string;
  entities: number;
  partitions: number;
  concurrency: number;
}

interface PerEntityInput {
  mode: "per-entity";
  source: string;
  sourceTable: string;
  destination: string;
  table: string;
  concurrency: number;
  /** Stop after this many entities (the per-entity copy is slow; its rate is steady). */
  limit: number;
}

const input = JSON.parse(process.argv[2] ?? "{}") as CeilingInput | PerEntityInput;

async function ceiling(inp: CeilingInput): Promise<void> {
  const http = httpFor(inp.destination);
  const tableUrl = `${http.url}/${inp.table}`;
  const prepStart = performance.now();
  const batches: { request: BatchBytes; count: number }[] = [];
  let ops: Operation[] = [];
  const close = () => {
    if (ops.length > 0) batches.push({ request: buildBatchBytes(tableUrl, ops), count: ops.length });
    ops = [];
  };
  for (const entity of entities(inp)) {
    if (
      ops.length >= MAX_OPERATIONS ||
      (ops.length > 0 && ops[0].entity.partitionKey !== entity.partitionKey)
    )
      close();
    ops.push({ kind: "upsert-replace", entity });
  }
  close();
  const prepareMs = performance.now() - prepStart;

  const mark = usageMark();
  const started = performance.now();
  let next = 0;
  let written = 0;
  let failed = 0;
  let error: string | undefined;
  const worker = async () => {
    while (next < batches.length) {
      const i = next++;
      const { request, count } = batches[i];
      const res = await http.send({
        method: "POST",
        url: `${http.url}/$batch`,
        headers: { "Content-Type": request.contentType, Accept: "application/json;odata=minimalmetadata" },
        body: request.body,
      });
      if (res.status === 202 && parseBatchResponse(res.body, count).ok) written += count;
      else {
        failed += count;
        error ??= `HTTP ${res.status}: ${res.body.slice(0, 300)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: inp.concurrency }, worker));
  report({
    entities: written,
    elapsedMs: performance.now() - started,
    ...usageSince(mark),
    failed,
    requests: batches.length,
    error,
    prepareMs,
  });
}

async function perEntity(inp: PerEntityInput): Promise<void> {
  const src = httpFor(inp.source);
  const dst = httpFor(inp.destination);
  const tableUrl = `${dst.url}/${inp.table}`;
  const mark = usageMark();
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let written = 0;
  let failed = 0;
  let error: string | undefined;
  const upsert = async (entity: Parameters<typeof entityJson>[0]) => {
    const res = await dst.send({
      method: "PUT",
      url: keyUrl(tableUrl, entity.partitionKey, entity.rowKey),
      headers: { "Content-Type": "application/json", Accept: "application/json;odata=nometadata" },
      body: entityJson(entity),
    });
    if (res.status >= 200 && res.status < 300) written++;
    else {
      failed++;
      error ??= `HTTP ${res.status}: ${res.body.slice(0, 300)}`;
    }
  };
  // The pages a sync asks for, so both read the same replayed source.
  const reader = new TableReader(src, inp.sourceTable);
  read: for await (const page of reader.pages()) {
    for (const entity of page.entities) {
      if (sent >= inp.limit) break read;
      while (inFlight.size >= inp.concurrency) await Promise.race(inFlight);
      const p: Promise<void> = upsert(entity).finally(() => inFlight.delete(p));
      inFlight.add(p);
      sent++;
    }
  }
  await Promise.all(inFlight);
  report({
    entities: written,
    elapsedMs: performance.now() - started,
    ...usageSince(mark),
    failed,
    requests: sent,
    error,
  });
}

if (input.mode === "ceiling") await ceiling(input);
else await perEntity(input);
