// The matrix's servers, in a process of their own (pinned away from the tool's CPU): the free source, the
// free sink and a latency link in front of each. Controlled by its parent over the IPC channel
// (harness.ts); it sends `{ ready, ports }` once listening.
import { FreeSink } from "./free-sink.js";
import { FreeSource } from "./free-source.js";
import { LatencyLink } from "./latency-link.js";
import type { HarnessRequest } from "./harness.js";

const source = await FreeSource.start();
const sink = await FreeSink.start();
const sourceLink = await LatencyLink.start(source.port, 0);
const sinkLink = await LatencyLink.start(sink.port, 0);

const send = (message: unknown) => process.send?.(message);

async function answer(req: HarnessRequest): Promise<unknown> {
  switch (req.cmd) {
    case "load":
      return { ms: source.load(req.table) };
    case "rtt":
      sourceLink.rttMs = req.ms;
      sinkLink.rttMs = req.ms;
      return {};
    case "reset":
      sink.reset();
      source.resetStats();
      sourceLink.resetStats();
      sinkLink.resetStats();
      return {};
    case "stats": {
      const usage = process.resourceUsage();
      return {
        source: source.stats,
        sink: sink.stats,
        sourceLink: sourceLink.stats,
        sinkLink: sinkLink.stats,
        cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
        maxRssKb: usage.maxRSS,
      };
    }
    case "stop":
      await Promise.all([sourceLink.stop(), sinkLink.stop()]);
      await Promise.all([source.stop(), sink.stop()]);
      setImmediate(() => process.exit(0));
      return {};
  }
}

process.on("message", (req: HarnessRequest) => {
  answer(req).then(
    (result) => send({ id: req.id, result }),
    (err: unknown) => send({ id: req.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on("disconnect", () => process.exit(0));
send({
  ready: true,
  ports: { source: source.port, sink: sink.port, sourceLink: sourceLink.port, sinkLink: sinkLink.port },
});
