// Reading a Cosmos DB desktop migration tool ("dmt") migrationsettings.json, so users of the seed's
// guide bring their file as it is. Its settings become the same raw inputs the action and CLI take;
// inputs given explicitly win over the file.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError, type RawInputs } from "./inputs.js";

const settings = z
  .object({
    ConnectionString: z.string().optional(),
    Table: z.string().optional(),
    QueryFilter: z.string().optional(),
    WriteMode: z.string().optional(),
    UseRbacAuth: z.boolean().optional(),
    AccountEndpoint: z.string().optional(),
    MaxConcurrentEntityWrites: z.number().int().optional(),
    PropertyRenames: z.array(z.object({ From: z.string(), To: z.string() })).optional(),
  })
  .passthrough();

const operation = z
  .object({ SourceSettings: settings.optional(), SinkSettings: settings.optional() })
  .passthrough();

const file = z
  .object({
    Source: z.string(),
    Sink: z.string(),
    SourceSettings: settings.optional(),
    SinkSettings: settings.optional(),
    Operations: z.array(operation).optional(),
  })
  .passthrough();

type Settings = z.infer<typeof settings>;

/** dmt's WriteMode: Create (its default) inserts only; Replace and Merge upsert. */
const WRITE_MODES: Record<string, string> = {
  create: "insert",
  replace: "replace",
  merge: "merge",
  upsert: "replace",
};

/** A Timestamp clause the seed's scripts template in; our watermark replaces it. */
const TIMESTAMP_ONLY = /^\s*Timestamp\s+(ge|gt)\s+datetime\s*'[^']*'\s*$/i;

export interface DmtResult {
  inputs: RawInputs;
  notices: string[];
}

function merged(top: Settings | undefined, op: Settings | undefined): Settings {
  return { ...(top ?? {}), ...(op ?? {}) };
}

export function readDmtFile(path: string): DmtResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new ConfigError(`Input 'config-file' names '${path}', which cannot be read; check the path.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (err) {
    throw new ConfigError(
      `Input 'config-file' ('${path}') is not valid JSON (${err instanceof Error ? err.message : String(err)}).`,
    );
  }
  return dmtToInputs(json, path);
}

export function dmtToInputs(json: unknown, path = "config-file"): DmtResult {
  const parsed = file.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `Input 'config-file' ('${path}') is not a migrationsettings.json: ${issue.path.join(".") || "file"} ${issue.message.toLowerCase()}.`,
    );
  }
  const f = parsed.data;
  for (const [key, value] of [
    ["Source", f.Source],
    ["Sink", f.Sink],
  ] as const) {
    if (value.toLowerCase() !== "azuretableapi") {
      throw new ConfigError(
        `Input 'config-file' ('${path}') has ${key} '${value}'; only AzureTableAPI is supported for both Source and Sink.`,
      );
    }
  }
  const ops = f.Operations?.length ? f.Operations : [{}];
  const notices: string[] = [];
  const tables: string[] = [];
  const sources: Settings[] = [];
  const sinks: Settings[] = [];
  for (const op of ops) {
    const source = merged(f.SourceSettings, op.SourceSettings);
    const sink = merged(f.SinkSettings, op.SinkSettings);
    if (!source.Table)
      throw new ConfigError(`Input 'config-file' ('${path}') has an operation without SourceSettings.Table.`);
    const dest = sink.Table ?? source.Table;
    tables.push(dest === source.Table ? source.Table : `${source.Table}:${dest}`);
    sources.push(source);
    sinks.push(sink);
  }
  const same = <T>(values: T[], what: string): T | undefined => {
    const distinct = [...new Set(values.map((v) => JSON.stringify(v)))];
    if (distinct.length > 1) {
      throw new ConfigError(
        `Input 'config-file' ('${path}') sets different ${what} per operation; one run uses one ${what}, so split the file.`,
      );
    }
    return values[0];
  };
  const inputs: RawInputs = { tables: tables.join(",") };
  const src = sources[0];
  const snk = sinks[0];
  same(
    sources.map((s) => s.ConnectionString ?? ""),
    "source ConnectionString",
  );
  same(
    sinks.map((s) => s.ConnectionString ?? ""),
    "sink ConnectionString",
  );
  if (src.UseRbacAuth) inputs["source-endpoint"] = src.AccountEndpoint;
  else if (src.ConnectionString) inputs["source-connection-string"] = src.ConnectionString;
  if (snk.UseRbacAuth) inputs["destination-endpoint"] = snk.AccountEndpoint;
  else if (snk.ConnectionString) inputs["destination-connection-string"] = snk.ConnectionString;
  let filter = same(
    sources.map((s) => s.QueryFilter ?? ""),
    "QueryFilter",
  );
  if (filter && TIMESTAMP_ONLY.test(filter)) {
    notices.push(
      `The config file's QueryFilter '${filter}' is a Timestamp watermark; it is ignored because table-sync keeps its own watermark per table.`,
    );
    filter = "";
  }
  if (filter) inputs["query-filter"] = filter;
  const writeMode = same(
    sinks.map((s) => s.WriteMode ?? ""),
    "WriteMode",
  );
  if (writeMode) {
    const mapped = WRITE_MODES[writeMode.toLowerCase()];
    if (!mapped) {
      throw new ConfigError(
        `Input 'config-file' ('${path}') has WriteMode '${writeMode}'; use Create, Replace or Merge.`,
      );
    }
    inputs["write-mode"] = mapped;
  } else {
    // dmt's default is Create; say so, because a re-run would then skip every existing entity.
    inputs["write-mode"] = "insert";
    notices.push(
      "The config file sets no WriteMode; dmt's default Create is used (existing entities are skipped).",
    );
  }
  const renames = same(
    sinks.map((s) => s.PropertyRenames ?? []),
    "PropertyRenames",
  );
  if (renames && renames.length)
    inputs["property-renames"] = renames.map((r) => `${r.From}:${r.To}`).join(",");
  if (snk.MaxConcurrentEntityWrites !== undefined) {
    // dmt counts single-entity writes; we count 100-entity transactions, so the number does not carry over.
    notices.push(
      "The config file's MaxConcurrentEntityWrites is ignored; set the 'concurrency' input (transactions in flight).",
    );
  }
  return { inputs, notices };
}

/** Explicit inputs win; the file fills what they leave empty. */
export function mergeInputs(explicit: RawInputs, fromFile: RawInputs): RawInputs {
  const out: RawInputs = { ...fromFile };
  for (const [k, v] of Object.entries(explicit) as [keyof RawInputs, string | undefined][]) {
    if (v !== undefined && v.trim() !== "") out[k] = v;
  }
  return out;
}
