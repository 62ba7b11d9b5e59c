// Starts Azurite table servers as real, in-memory table services for tests, the demo and the bench.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = "devstoreaccount1";
export const AZURITE_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface AzuriteServer {
  port: number;
  endpoint: string;
  connectionString: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function connectionStringFor(port: number, host = "127.0.0.1"): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
    `TableEndpoint=http://${host}:${port}/${AZURITE_ACCOUNT};`
  );
}

function azuriteBin(): string {
  // Resolve the package's own bin from this repository, wherever the caller's cwd is.
  const here = dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "node_modules", "azurite", "dist", "src", "table", "main.js");
    try {
      if (statSync(candidate)) return candidate;
    } catch {
      /* keep looking upwards */
    }
    dir = dirname(dir);
  }
  throw new Error("azurite is not installed: run `npm ci` first.");
}

/** Start one in-memory Azurite table server on a free port and wait until it accepts requests. */
export async function startAzurite(): Promise<AzuriteServer> {
  const cwd = mkdtempSync(join(tmpdir(), "azurite-"));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child: ChildProcess = spawn(
      process.execPath,
      [
        azuriteBin(),
        "--inMemoryPersistence",
        "--disableTelemetry",
        "--skipApiVersionCheck",
        "--tableHost",
        "127.0.0.1",
        "--tablePort",
        String(port),
      ],
      { cwd, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    const started = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 30_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("successfully started")) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.on("exit", () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (!started) {
      child.kill("SIGKILL");
      if (attempt < 3) continue; // the port may have been taken between probe and bind
      rmSync(cwd, { recursive: true, force: true });
      throw new Error(`Azurite did not start: ${output}`);
    }
    // Drain output so a chatty server never blocks on a full pipe.
    child.stdout?.resume();
    child.stderr?.resume();
    const endpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
    return {
      port,
      endpoint,
      connectionString: connectionStringFor(port),
      stop: async () => {
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once("exit", r));
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
          await exited;
          clearTimeout(timer);
        }
        rmSync(cwd, { recursive: true, force: true });
      },
    };
  }
}
