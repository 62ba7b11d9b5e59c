// Which service a side is (Table Storage or Cosmos DB for Table) and what follows from it alone: the Entra
// ID token scope. Every door and step asks here (connection.ts: signInTarget), so the choice is made once.
export type ServiceKind = "table" | "cosmos";
export type KindSetting = "auto" | ServiceKind;

/** Cosmos DB for Table lives on `*.table.cosmos.azure.com` (and sovereign-cloud equivalents). */
export function isCosmosUrl(url: string): boolean {
  const host = new URL(url).hostname.toLowerCase();
  return /\.table\.cosmos\./.test(host) || host.includes("cosmosdb") || host.endsWith(".documents.azure.com");
}

export function resolveKind(url: string, setting: KindSetting | undefined): ServiceKind {
  if (setting === "cosmos" || setting === "table") return setting;
  return isCosmosUrl(url) ? "cosmos" : "table";
}

/** The Entra ID scope of each service: the one place that chooses it. */
export function tokenScope(kind: ServiceKind): string {
  return kind === "cosmos" ? "https://cosmos.azure.com/.default" : "https://storage.azure.com/.default";
}
