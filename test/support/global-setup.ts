// vitest global setup: two real Azurite table servers, one playing the source and one the destination.
import "vitest";
import type { TestProject } from "vitest/node";
import { startAzurite, type AzuriteServer } from "./azurite.js";

declare module "vitest" {
  export interface ProvidedContext {
    sourceConnectionString: string;
    destinationConnectionString: string;
    sourcePort: number;
    destinationPort: number;
  }
}

let servers: AzuriteServer[] = [];

export async function setup(project: TestProject): Promise<void> {
  servers = await Promise.all([startAzurite(), startAzurite()]);
  const [source, destination] = servers;
  project.provide("sourceConnectionString", source.connectionString);
  project.provide("destinationConnectionString", destination.connectionString);
  project.provide("sourcePort", source.port);
  project.provide("destinationPort", destination.port);
}

export async function teardown(): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
}
