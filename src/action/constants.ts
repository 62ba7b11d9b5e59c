// Every input and output name spelled once (the names in action.yml; users' workflows depend on them).
export enum Inputs {
  Mode = "mode",
  Tables = "tables",
  SourceConnectionString = "source-connection-string",
  DestinationConnectionString = "destination-connection-string",
  SourceEndpoint = "source-endpoint",
  DestinationEndpoint = "destination-endpoint",
  ClientId = "client-id",
  TenantId = "tenant-id",
  SourceKind = "source-kind",
  DestinationKind = "destination-kind",
  WriteMode = "write-mode",
  PropertyRenames = "property-renames",
  QueryFilter = "query-filter",
  StateStore = "state-store",
  StateKey = "state-key",
  GithubToken = "github-token",
  Since = "since",
  OverlapSeconds = "overlap-seconds",
  Concurrency = "concurrency",
  DryRun = "dry-run",
  CreateTables = "create-tables",
  ConfigFile = "config-file",
  MaxFailuresReported = "max-failures-reported",
}

export enum Outputs {
  LastSyncUtc = "last-sync-utc",
  EntitiesRead = "entities-read",
  EntitiesWritten = "entities-written",
  EntitiesFailed = "entities-failed",
  ResultJson = "result-json",
}

/** The audience GitHub's OIDC token is issued for when it is exchanged with Entra ID. */
export const AZURE_AUDIENCE = "api://AzureADTokenExchange";
