// An Azurite server for a bench that measures against it: started with its process id known, so that its
// CPU time can be read and it can be pinned to a CPU.
import { startAzurite, type AzuriteServer } from "../test/support/azurite.js";
import { childPids, pin, processCpuSeconds } from "./common.js";

export interface Server {
  server: AzuriteServer;
  pid?: number;
}

/** Start Azurite, learn its process id (to read its CPU time) and pin it to `cpu` if given. */
export async function startServer(cpu?: number): Promise<Server> {
  const before = new Set(childPids());
  const server = await startAzurite();
  const pid = childPids().find((p) => !before.has(p));
  if (cpu !== undefined) {
    if (pid === undefined) throw new Error("cannot pin Azurite: its process id is unknown (use --pin off)");
    pin(pid, cpu);
  }
  return { server, pid };
}

/** The server's CPU seconds so far (undefined when its process id or /proc is unknown). */
export const cpuOf = (s: Server) => (s.pid === undefined ? undefined : processCpuSeconds(s.pid));

/** CPU seconds between two readings, when both could be taken. */
export const cpuDelta = (a?: number, b?: number) => (a !== undefined && b !== undefined ? b - a : undefined);
