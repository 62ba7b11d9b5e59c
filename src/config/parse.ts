// The small parsers behind buildConfig: lists (tables, renames), times, whole numbers, fractions, switches,
// endpoints and shards. Each failure is one ConfigError sentence naming the input and the fix.
import { z } from "zod";
import type { Rename } from "../engine/copy/transform.js";
import type { TableSpec } from "../engine/copy/run-config.js";
import type { Shard } from "../engine/copy/shard.js";
import { MAX_CONCURRENCY, type ConcurrencySetting } from "../engine/copy/window.js";
import { ConfigError, MAX_SHARDS, PROPERTY_NAME, TABLE_NAME, type Mode } from "./inputs.js";

function splitList(value: string | undefined): string[] {
  return (value ?? "")
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function parseTables(value: string | undefined): TableSpec[] {
  const items = splitList(value);
  if (items.length === 0) {
    throw new ConfigError(
      "Input 'tables' is empty: give table names separated by commas, e.g. 'orders,users:users2'.",
    );
  }
  const specs = items.map((item) => {
    const parts = item.split(":").map((s) => s.trim());
    if (parts.length > 2 || parts.some((p) => p === "")) {
      throw new ConfigError(
        `Input 'tables' has '${item}', which is not 'name' or 'source:destination'; write e.g. 'users:users2'.`,
      );
    }
    for (const name of parts) {
      if (!TABLE_NAME.test(name) || name.toLowerCase() === "tables") {
        throw new ConfigError(
          `Input 'tables' has '${name}', which is not a valid table name (3–63 letters or digits, starting with a letter).`,
        );
      }
    }
    return { source: parts[0], destination: parts[1] ?? parts[0] };
  });
  const seen = new Map<string, string>();
  for (const s of specs) {
    const key = s.destination.toLowerCase();
    if (seen.has(key)) {
      throw new ConfigError(
        `Input 'tables' sends both '${seen.get(key)}' and '${s.source}' to destination '${s.destination}'; give each a different destination.`,
      );
    }
    seen.set(key, s.source);
  }
  return specs;
}

const SYSTEM_PROPERTIES = new Set(["partitionkey", "rowkey", "timestamp"]);

export function parseRenames(value: string | undefined): Rename[] {
  const renames = splitList(value).map((item) => {
    const parts = item.split(":").map((s) => s.trim());
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new ConfigError(
        `Input 'property-renames' has '${item}', which is not 'from:to'; write e.g. 'id:entityId'.`,
      );
    }
    for (const name of parts) {
      if (!PROPERTY_NAME.test(name)) {
        throw new ConfigError(`Input 'property-renames' has '${name}', which is not a valid property name.`);
      }
    }
    return { from: parts[0], to: parts[1] };
  });
  const froms = new Set<string>();
  const tos = new Map<string, string>();
  for (const r of renames) {
    for (const name of [r.from, r.to]) {
      // The keys and Timestamp are not properties a rename may touch: renaming one away, or a property onto
      // one, would drop data without a word.
      if (SYSTEM_PROPERTIES.has(name.toLowerCase())) {
        throw new ConfigError(
          `Input 'property-renames' has '${r.from}:${r.to}', but ${name} is a system property (PartitionKey, RowKey and Timestamp cannot be renamed or renamed to); remove it.`,
        );
      }
    }
    if (froms.has(r.from))
      throw new ConfigError(`Input 'property-renames' renames '${r.from}' twice; keep one.`);
    froms.add(r.from);
    const other = tos.get(r.to.toLowerCase());
    if (other !== undefined) {
      throw new ConfigError(
        `Input 'property-renames' renames both '${other}' and '${r.from}' to '${r.to}', so one of them would be lost; give each its own name.`,
      );
    }
    tos.set(r.to.toLowerCase(), r.from);
  }
  return renames;
}

export function oneOf<T extends readonly string[]>(
  input: string,
  values: T,
  raw: string | undefined,
  fallback: T[number],
) {
  const v = (raw ?? "").trim().toLowerCase();
  if (v === "") return fallback;
  if (!(values as readonly string[]).includes(v)) {
    throw new ConfigError(`Input '${input}' is '${raw}'; use one of: ${values.join(", ")}.`);
  }
  return v as T[number];
}

export function bool(input: string, raw: string | undefined, fallback: boolean): boolean {
  const v = (raw ?? "").trim().toLowerCase();
  if (v === "") return fallback;
  if (["true", "yes", "1", "on"].includes(v)) return true;
  if (["false", "no", "0", "off"].includes(v)) return false;
  throw new ConfigError(`Input '${input}' is '${raw}'; use true or false.`);
}

export function int(
  input: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = (raw ?? "").trim();
  if (v === "") return fallback;
  // Digits only: Number() would also take 0x10, 1e2 and 1_0.
  const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`Input '${input}' is '${raw}'; use a whole number from ${min} to ${max}.`);
  }
  return n;
}

/** `auto` (the default: the window adapts, see engine/window.ts) or a whole number that caps it. */
export function concurrencySetting(raw: string | undefined): ConcurrencySetting {
  const v = (raw ?? "").trim();
  if (v === "" || v.toLowerCase() === "auto") return "auto";
  if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > MAX_CONCURRENCY) {
    throw new ConfigError(
      `Input 'concurrency' is '${raw}'; use auto (the default) or a whole number from 1 to ${MAX_CONCURRENCY}.`,
    );
  }
  return Number(v);
}

/** A whole number in range, or undefined when empty. */
export function optionalInt(
  input: string,
  raw: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if ((raw ?? "").trim() === "") return undefined;
  return int(input, raw, min, min, max);
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?Z$/;

export function parseSince(raw: string | undefined, now = new Date()): Date | undefined {
  const v = (raw ?? "").trim();
  if (v === "") return undefined;
  const ms = ISO_UTC.test(v) ? Date.parse(v.replace(/(\.\d{3})\d+Z$/, "$1Z")) : NaN;
  // Date.parse rolls 2026-02-30 over to March 2nd: the date must read back as it was written.
  const real = Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === v.slice(0, 10);
  if (!real) {
    throw new ConfigError(
      `Input 'since' is '${raw}'; use an ISO-8601 UTC time such as 2024-05-01T12:00:00Z.`,
    );
  }
  // A day of slack: the runner's clock may be wrong, the source's is what counts.
  if (ms > now.getTime() + 24 * 3600_000) {
    throw new ConfigError(`Input 'since' is '${raw}', which lies in the future; use a past UTC time.`);
  }
  return new Date(ms);
}

const endpointSchema = z.string().trim().url();

export function endpoint(input: string, raw: string | undefined): string | undefined {
  const v = (raw ?? "").trim();
  if (v === "") return undefined;
  if (!endpointSchema.safeParse(v).success) {
    throw new ConfigError(`Input '${input}' is not a URL; use e.g. https://account.table.core.windows.net.`);
  }
  const u = new URL(v);
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(u.hostname) || u.hostname.startsWith("127.");
  if (u.protocol !== "https:" && !(u.protocol === "http:" && loopback)) {
    throw new ConfigError(
      `Input '${input}' must use https:// (plain http is allowed only for a local emulator).`,
    );
  }
  return v;
}

export function parseShard(raw: string | undefined, mode: Mode): Shard | undefined {
  const v = (raw ?? "").trim();
  if (v === "") return undefined;
  const m = /^(\d+)\s*\/\s*(\d+)$/.exec(v);
  if (!m) {
    throw new ConfigError(
      `Input 'shard' is '${raw}'; write i/n, e.g. '2/4' for the second of four shards (from a matrix: '\${{ matrix.shard }}/4').`,
    );
  }
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) {
    throw new ConfigError(
      `Input 'shard' is '${raw}'; the number of shards n must be from 1 to ${MAX_SHARDS}.`,
    );
  }
  if (index < 1 || index > count) {
    throw new ConfigError(
      `Input 'shard' is '${raw}', which is out of range; the shard i must be from 1 to ${count} (i/n counts from 1).`,
    );
  }
  if (mode !== "full-sync" && mode !== "backfill") {
    throw new ConfigError(
      `Input 'shard' applies to the modes full-sync and backfill, not '${mode}'; remove it for this step.`,
    );
  }
  return count === 1 ? undefined : { index, count };
}

export function fraction(input: string, raw: string | undefined, fallback: number): number {
  const v = (raw ?? "").trim();
  if (v === "") return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 1) {
    throw new ConfigError(
      `Input '${input}' is '${raw}'; use a fraction greater than 0 and at most 1 (e.g. 0.01).`,
    );
  }
  return n;
}
