// CPU per request on our request path, against the matrix's free sink (which answers at once): a
// single-entity write, a point read, and a full transaction (per entity). Beside each, the same
// requests pre-built and sent through our connections alone (src/engine/wire/h1.ts) and through undici's
// dispatcher (what the tool used before h1.ts), through the same sink: "h1 alone" against ours is the
// price of our own layers (signing, flow control, the writer, retries' bookkeeping), "undici alone"
// against "h1 alone" what the connections themselves save.
//
//   npm run build && node build/bench/request-cpu.js [--entities 20000] [--rounds 3] [--in-flight 64]
//
// The tool runs pinned to CPU 0 and the sink's process to CPU 1 (where `taskset` works), so the sink
// never takes the tool's CPU. Targets (issue 11): ≤ 60 µs per single-entity write or point read, ≤ 20 µs
// per entity in full transactions.
import { Client } from "undici";
import { createServiceClient } from "../src/engine/wire/connection.js";
import { TableHttp } from "../src/engine/wire/http.js";
import { readDestinationEntity } from "../src/engine/copy/post-switch.js";
import { FlowControl } from "../src/engine/copy/rate.js";
import { TableWriter } from "../src/engine/copy/writer.js";
import { entityJson, type WireEntity } from "../src/engine/wire/edm.js";
import { TaskPool } from "../src/engine/copy/pool.js";
import { H1Connection } from "../src/engine/wire/h1.js";
import { benchArgs, numberOption } from "./args.js";
import { canPin, pin } from "./common.js";
import { shapeEntities } from "./free-source-rows.js";
import { Harness } from "./harness.js";

/** The synopsis above, printed by --help and after a refused option. */
const USAGE = `
npm run build && node build/bench/request-cpu.js [--entities 20000] [--rounds 3] [--in-flight 64]
`;

const AZURITE_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const TABLE = "benchdest";

interface Figure {
  name: string;
  requests: number;
  entities: number;
  cpuUs: number;
  seconds: number;
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function measure(
  name: string,
  entities: number,
  requests: number,
  run: () => Promise<void>,
): Promise<Figure> {
  const c0 = cpuNow();
  const t0 = performance.now();
  await run();
  return { name, requests, entities, cpuUs: cpuNow() - c0, seconds: (performance.now() - t0) / 1000 };
}

/** Our writer: one entity per partition (plain entity requests) or full partitions (transactions of 100). */
function ourWrites(http: TableHttp, list: WireEntity[], inFlight: number, perRequest: number) {
  return measure(
    perRequest === 1 ? "ours: single-entity writes" : "ours: transactions of 100",
    list.length,
    Math.ceil(list.length / perRequest),
    async () => {
      const flow = new FlowControl({ concurrency: inFlight });
      const writer = new TableWriter(http, TABLE, {
        concurrency: inFlight,
        maxFailuresKept: 5,
        sortedSource: true,
        flow,
      });
      for (const e of list) {
        const wait = writer.add("upsert-replace", e);
        if (wait) await wait;
      }
      const c = await writer.flush();
      if (c.written !== list.length) throw new Error(`only ${c.written} of ${list.length} written`);
    },
  );
}

function ourPointReads(http: TableHttp, list: WireEntity[], inFlight: number) {
  return measure("ours: point reads", list.length, list.length, async () => {
    const pool = new TaskPool(inFlight);
    for (const e of list) {
      await pool.run(async () => {
        await readDestinationEntity(http, TABLE, e.partitionKey, e.rowKey);
      });
    }
    await pool.drain();
  });
}

/** One pre-built request through a bare connection, settled when its answer is complete. */
type BareSend = (path: string, method: string, body: Buffer | undefined) => Promise<void>;

/** A handler that settles when the answer is complete (fits undici's dispatcher and h1.ts alike). */
function settle(resolve: () => void, reject: (err: Error) => void) {
  return {
    onConnect: () => undefined,
    onHeaders: () => true,
    onData: () => true,
    onComplete: () => resolve(),
    onError: reject,
  };
}

/** A bare connection of each kind: undici's Client, or ours (h1.ts), nothing else of ours around it. */
function bareConnection(kind: "undici" | "h1", origin: string): { send: BareSend; close: () => unknown } {
  const headers = { "content-type": "application/json" };
  const conn =
    kind === "undici"
      ? new Client(origin, { keepAliveTimeout: 30_000 })
      : new H1Connection(new URL(origin), 30_000, {});
  return {
    send: (path, method, body) =>
      new Promise((resolve, reject) =>
        conn.dispatch({ path, method, headers, body }, settle(resolve, reject)),
      ),
    close: () => conn.close(),
  };
}

/** The same single-entity PUTs or GETs through bare connections: bodies and paths built before the clock. */
async function bare(
  kind: "undici" | "h1",
  origin: string,
  method: "PUT" | "GET",
  list: WireEntity[],
  inFlight: number,
) {
  const requests = list.map((e) => ({
    path: `/devstoreaccount1/${TABLE}(PartitionKey='${encodeURIComponent(e.partitionKey)}',RowKey='${encodeURIComponent(e.rowKey)}')`,
    body: method === "PUT" ? Buffer.from(entityJson(e)) : undefined,
  }));
  const conns = Array.from({ length: inFlight }, () => bareConnection(kind, origin));
  const figure = await measure(
    `${kind} alone: ${method === "PUT" ? "writes" : "point reads"}`,
    list.length,
    list.length,
    async () => {
      let next = 0;
      await Promise.all(
        conns.map(async (conn) => {
          while (next < requests.length) {
            const r = requests[next++];
            await conn.send(r.path, method, r.body);
          }
        }),
      );
    },
  );
  await Promise.all(conns.map((c) => c.close()));
  return figure;
}

async function main(): Promise<void> {
  const values = benchArgs(USAGE, {
    entities: { type: "string", default: "20000" },
    rounds: { type: "string", default: "3" },
    "in-flight": { type: "string", default: "64" },
  });
  const n = numberOption(values.entities, "entities");
  const rounds = numberOption(values.rounds, "rounds");
  const inFlight = numberOption(values["in-flight"], "in-flight");
  const harness = await Harness.start();
  const pinned = canPin() && harness.pid !== undefined;
  if (pinned) {
    pin(harness.pid!, 1);
    pin(process.pid, 0);
  }
  try {
    await harness.setRtt(0);
    const cs = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${AZURITE_KEY};TableEndpoint=${harness.sinkUrl};`;
    const http = new TableHttp(createServiceClient({ connectionString: cs }, "destination"));
    const singles = [...shapeEntities(n, 1)];
    const full = [...shapeEntities(n * 5, 1000)];
    const best = new Map<string, Figure>();
    const keep = (f: Figure) => {
      const b = best.get(f.name);
      if (!b || f.cpuUs / f.entities < b.cpuUs / b.entities) best.set(f.name, f);
    };
    for (let round = 0; round < rounds; round++) {
      keep(await ourWrites(http, singles, inFlight, 1));
      keep(await bare("undici", new URL(harness.sinkUrl).origin, "PUT", singles, inFlight));
      keep(await bare("h1", new URL(harness.sinkUrl).origin, "PUT", singles, inFlight));
      keep(await ourPointReads(http, singles, inFlight));
      keep(await bare("undici", new URL(harness.sinkUrl).origin, "GET", singles, inFlight));
      keep(await bare("h1", new URL(harness.sinkUrl).origin, "GET", singles, inFlight));
      keep(await ourWrites(http, full, inFlight, 100));
    }
    await http.close();
    const target: Record<string, string> = {
      "ours: single-entity writes": "≤ 60 µs per request",
      "ours: point reads": "≤ 60 µs per request",
      "ours: transactions of 100": "≤ 20 µs per entity",
    };
    console.log(
      `\nCPU per request, best of ${rounds} (${n.toLocaleString("en-US")} single-entity requests, ${(n * 5).toLocaleString("en-US")} entities in transactions; ${inFlight} in flight; ${pinned ? "pinned" : "not pinned"}):\n`,
    );
    for (const f of best.values()) {
      const perRequest = f.cpuUs / f.requests;
      const perEntity = f.cpuUs / f.entities;
      console.log(
        `${f.name.padEnd(30)} ${perRequest.toFixed(1).padStart(7)} µs/request ${perEntity.toFixed(1).padStart(7)} µs/entity  ${Math.round(
          f.entities / f.seconds,
        )
          .toLocaleString("en-US")
          .padStart(8)} entities/s  ${target[f.name] ? `target ${target[f.name]}` : ""}`,
      );
    }
  } finally {
    await harness.stop();
  }
}

await main();
