// Backfill after the switch: the app now writes to the destination, so a straggler write that reached
// the old store must never overwrite what the app wrote since. For each entity of the window we read
// the destination first; an entity the app changed after `switched-at` (and not by one of our own
// post-switch writes) is a *conflict* and is left alone. Everything else is written with the ETag we
// read (`If-Match`), so an app write landing between our read and our write is a conflict too (412).
import { createHash } from "node:crypto";
import type { Operation } from "../wire/batch.js";
import { readEntity } from "../wire/point-read.js";
import { differingProperties, type WireEntity } from "../wire/edm.js";
import { ServiceError } from "../wire/errors.js";
import type { HttpStats, TableHttp } from "../wire/http.js";
import type { RejectionVerdict, WriteMode } from "./write-rules.js";

export type ConflictPolicy = "skip" | "source-wins";

export interface SwitchGuard {
  /** When the switch was recorded, on the destination server's clock (ISO UTC). */
  switchedAt: string;
  /** Ids of our own post-switch writes (`ourWriteId`), so they are not taken for the app's. */
  ours: Set<string>;
  policy: ConflictPolicy;
}

export interface Conflict {
  partitionKey: string;
  rowKey: string;
  message: string;
}

/** Most of our own post-switch write ids kept per table (the state must stay compact). */
export const MAX_OUR_WRITES = 1000;

/** A compact id of one write of ours: the entity's keys and the ETag the destination gave it. */
export function ourWriteId(partitionKey: string, rowKey: string, etag: string): string {
  return createHash("sha256")
    .update(`${partitionKey}\u0000${rowKey}\u0000${etag}`)
    .digest("base64url")
    .slice(0, 12);
}

/** The destination entity, or undefined when it does not exist; its requests are counted in `stats`. */
export function readDestinationEntity(
  http: TableHttp,
  table: string,
  partitionKey: string,
  rowKey: string,
  stats?: HttpStats,
): Promise<WireEntity | undefined> {
  return readEntity(http, table, { partitionKey, rowKey }, "destination", stats);
}

export interface GuardDecision {
  /** The operation to send, or undefined when the entity is a conflict and is left alone. */
  op?: Omit<Operation, "entity">;
  conflict?: string;
}

/** Decide what to do with one source entity given what the destination holds now. */
export function decide(
  guard: SwitchGuard,
  mode: WriteMode,
  current: WireEntity | undefined,
  wanted?: WireEntity,
): GuardDecision {
  if (!current) return { op: { kind: "insert" } };
  // Already what the source holds (e.g. re-read in the overlap window): nothing to write, no conflict.
  if (wanted && differingProperties(wanted, current).length === 0) return {};
  const changedAt = Date.parse(current.timestamp ?? "");
  const switchedAt = Date.parse(guard.switchedAt);
  const ours =
    current.etag !== undefined &&
    guard.ours.has(ourWriteId(current.partitionKey, current.rowKey, current.etag));
  // Timestamps on Cosmos have 1 s resolution: a write in the switch's own second counts as after it.
  const appChanged = Number.isFinite(changedAt) && changedAt >= Math.floor(switchedAt / 1000) * 1000 && !ours;
  if (appChanged && guard.policy === "skip") {
    return {
      conflict: `changed on the destination at ${current.timestamp}, after the switch at ${guard.switchedAt}; the source's version was not written (conflict: skip)`,
    };
  }
  if (mode === "insert") return { conflict: undefined, op: undefined };
  if (appChanged) return { op: { kind: mode === "merge" ? "upsert-merge" : "upsert-replace" } };
  return { op: { kind: mode === "merge" ? "update-merge" : "update-replace", ifMatch: current.etag ?? "*" } };
}

/** How the writer counts a refusal of a guarded write: a 409 on insert or a 412 on update is the app's doing. */
export function classifyGuarded(op: Operation, status: number): RejectionVerdict {
  if (op.kind === "insert" && status === 409) return "conflict";
  if ((op.kind === "update-replace" || op.kind === "update-merge") && status === 412) return "conflict";
  return "failed";
}

/** The server's clock now (the `Date` of a cheap request): `switched-at` is taken on the destination's. */
export async function serverClock(
  http: TableHttp,
  side: "source" | "destination" = "destination",
): Promise<Date> {
  const res = await http.send({
    method: "GET",
    url: `${http.url}/Tables?$top=1`,
    headers: { Accept: "application/json;odata=nometadata" },
  });
  const date = Date.parse(res.headers["date"] ?? "");
  if (res.status >= 300 || !Number.isFinite(date)) {
    throw ServiceError.from(res, `Reading the ${side}'s clock`);
  }
  return new Date(date);
}
