// What defines one copy of a table: where it is read, where it is written, which entities (query-filter),
// what they look like on arrival (property-renames) and how they are written (write-mode). A full sync's
// records (its checkpoint, and the note that the table is done) answer only for the copy they were made by:
// resuming another copy from them would skip entities or leave two shapes in one table.
//
// Kept as five short digests, one per part, so the state holds no account key, SAS or filter text, and a
// run can still say which part changed.
import { createHash } from "node:crypto";
import { normalizeEndpoint, parseConnectionString, type SideConfig } from "../wire/connection.js";
import type { Rename } from "../copy/transform.js";
import type { WriteMode } from "../copy/write-rules.js";
import type { TableSpec } from "../copy/run-config.js";
import type { State } from "../../state/state.js";

/** The parts of a copy's definition, in the order the digest lists them, as a sentence names them. */
export const COPY_PARTS = [
  "source account or table",
  "destination account or table",
  "query-filter",
  "property-renames",
  "write-mode",
] as const;
export type CopyPart = (typeof COPY_PARTS)[number];

export interface CopyDefinition {
  source: SideConfig;
  destination: SideConfig;
  queryFilter?: string;
  propertyRenames: Rename[];
  writeMode: WriteMode;
}

/** An account as the user pointed at it, without credentials: its table endpoint, or nothing when unknown. */
export function accountOf(side: SideConfig): string {
  try {
    if (side.connectionString) return parseConnectionString(side.connectionString).url.toLowerCase();
    if (side.endpoint) return normalizeEndpoint(side.endpoint).toLowerCase();
  } catch {
    // A connection string the run refuses anyway: no copy is made by it.
  }
  return "";
}

function digest(text: string): string {
  // 8 hex digits per part: a chance collision (1 in 4 billion) would only resume a changed copy.
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

/** The copy id of one table: five digests joined by '.', e.g. `1a2b3c4d.…` (44 characters). */
export function copyId(def: CopyDefinition, spec: TableSpec): string {
  const parts = [
    `${accountOf(def.source)}|${spec.source.toLowerCase()}`,
    `${accountOf(def.destination)}|${spec.destination.toLowerCase()}`,
    def.queryFilter ?? "",
    def.propertyRenames.map((r) => `${r.from}:${r.to}`).join(","),
    def.writeMode,
  ];
  return parts.map(digest).join(".");
}

/** The first part in which two copy ids differ, or undefined when they describe the same copy. */
export function changedPart(stored: string, current: string): CopyPart | undefined {
  if (stored === current) return undefined;
  const a = stored.split(".");
  const b = current.split(".");
  const i = COPY_PARTS.findIndex((_, k) => a[k] !== b[k]);
  return COPY_PARTS[i < 0 ? 0 : i];
}

/** What a full sync's stored records were made by, for records written before copy ids existed. */
export interface LegacyCopy {
  queryFilter?: string;
  /** `from:to,…` */
  renames: string;
}

/**
 * The state a full sync may resume from: every checkpoint and every "done" note of the run's tables that a
 * different copy made is dropped, with one sentence each. Records without a copy id (older states) keep the
 * older rule: a checkpoint is dropped when its query-filter or property-renames differ.
 */
export function bindToCopies(
  state: State,
  mode: string,
  ids: Map<string, string>,
  legacy: LegacyCopy,
  describe: (key: string) => string,
): { state: State; notices: string[] } {
  const notices: string[] = [];
  const tables = { ...state.tables };
  let marker = state.fullSync;
  for (const [key, id] of ids) {
    const cp = tables[key]?.checkpoint;
    if (cp && cp.mode === mode) {
      const part = cp.copy
        ? changedPart(cp.copy, id)
        : (cp.queryFilter ?? "") !== (legacy.queryFilter ?? "")
          ? "query-filter"
          : (cp.propertyRenames ?? "") !== legacy.renames
            ? "property-renames"
            : undefined;
      if (part) {
        const entry = { ...tables[key] };
        delete entry.checkpoint;
        tables[key] = entry;
        notices.push(
          `The checkpoint of table ${describe(key)} was saved with another ${part}, so the table is copied from the start.`,
        );
      }
    }
    const doneWith = marker?.done.includes(key) ? marker.copies?.[key] : undefined;
    const part = doneWith ? changedPart(doneWith, id) : undefined;
    if (marker && part) {
      const copies = { ...marker.copies };
      delete copies[key];
      marker = { ...marker, done: marker.done.filter((k) => k !== key), copies };
      notices.push(
        `Table ${describe(key)} was completed by a full sync with another ${part}, so it is copied afresh.`,
      );
    }
  }
  const next: State = { ...state, tables };
  // Nothing of the interrupted run left to resume for these tables: this run starts a full sync of its own.
  const keys = [...ids.keys()];
  const left = keys.some(
    (k) => marker?.done.includes(k) || (tables[k]?.checkpoint && tables[k].checkpoint.mode === mode),
  );
  // (A marker that lists none of them would only make the run say "0 of 1 table already done".)
  if (marker && left) next.fullSync = marker;
  else delete next.fullSync;
  return { state: next, notices };
}
