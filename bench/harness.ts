// The bench's side of the matrix's server process (harness-child.ts): start it, load a table, set the
// round trip, read its counters.
import { fork, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SinkStats } from "./free-sink.js";
import type { SourceStats, SourceTable } from "./free-source.js";
import type { LinkStats } from "./latency-link.js";
import { ACCOUNT } from "./free-wire.js";

export type HarnessRequest = { id: number } & (
  | { cmd: "load"; table: SourceTable }
  | { cmd: "rtt"; ms: number }
  | { cmd: "reset" }
  | { cmd: "stats" }
  | { cmd: "stop" }
);

/** Distributes `Omit` over a union (the built-in one would merge its members). */
type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

export interface HarnessStats {
  source: SourceStats;
  sink: SinkStats;
  sourceLink: LinkStats;
  sinkLink: LinkStats;
  /** The server process's CPU time since it started, and its peak RSS. */
  cpuMs: number;
  maxRssKb: number;
}

export interface HarnessPorts {
  source: number;
  sink: number;
  sourceLink: number;
  sinkLink: number;
}

const here = dirname(fileURLToPath(import.meta.url));

export class Harness {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(
    readonly child: ChildProcess,
    readonly ports: HarnessPorts,
  ) {
    child.on("message", (msg: { id?: number; result?: unknown; error?: string }) => {
      const w = msg.id === undefined ? undefined : this.waiting.get(msg.id);
      if (!w || msg.id === undefined) return;
      this.waiting.delete(msg.id);
      if (msg.error !== undefined) w.reject(new Error(`harness: ${msg.error}`));
      else w.resolve(msg.result);
    });
    child.on("exit", (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`the harness process exited (${code})`));
      this.waiting.clear();
    });
  }

  /** Start the server process (compiled harness-child.js next to this file). */
  static async start(nodeFlags: string[] = []): Promise<Harness> {
    const child = fork(join(here, "harness-child.js"), [], {
      execArgv: nodeFlags,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const ports = await new Promise<HarnessPorts>((resolve, reject) => {
      child.once("message", (msg: { ready?: boolean; ports?: HarnessPorts }) => {
        if (msg.ready && msg.ports) resolve(msg.ports);
        else reject(new Error("the harness process did not start"));
      });
      child.once("exit", (code) =>
        reject(new Error(`the harness process exited (${code}) before it was ready`)),
      );
    });
    return new Harness(child, ports);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Table endpoints through the links (what the tool and the yardsticks talk to). */
  get sourceUrl(): string {
    return `http://127.0.0.1:${this.ports.sourceLink}/${ACCOUNT}`;
  }

  get sinkUrl(): string {
    return `http://127.0.0.1:${this.ports.sinkLink}/${ACCOUNT}`;
  }

  call(req: WithoutId<HarnessRequest>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ ...req, id });
    });
  }

  async load(table: SourceTable): Promise<number> {
    return ((await this.call({ cmd: "load", table })) as { ms: number }).ms;
  }

  async setRtt(ms: number): Promise<void> {
    await this.call({ cmd: "rtt", ms });
  }

  async reset(): Promise<void> {
    await this.call({ cmd: "reset" });
  }

  async stats(): Promise<HarnessStats> {
    return (await this.call({ cmd: "stats" })) as HarnessStats;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    await this.call({ cmd: "stop" }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
