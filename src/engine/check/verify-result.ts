// What verify is asked (options) and what it answers (counts, samples of each kind of difference, repair).
import type { ConcurrencySetting } from "../copy/window.js";
import type { SwitchGuard } from "../copy/post-switch.js";
import type { Rename } from "../copy/transform.js";
import type { EntityKey } from "../wire/point-read.js";
import type { RepairResult } from "./repair.js";

export interface VerifyOptions {
  /** The sync's property renames: source entities are compared as the sync would have written them. */
  renames: Rename[];
  /** 0 < sample < 1: check this fraction of the source entities by point reads (no destination scan). */
  sample?: number;
  /** Seed of the sample's choice of entities; a random one (reported in the result) when absent. */
  seed?: string;
  /** Copy missing and different entities from the source. */
  repair?: boolean;
  /** With `repair` (full mode only): delete destination entities the source does not hold. */
  deleteExtra?: boolean;
  /** Once a switch is recorded: repair keeps the app's writes, as a post-switch backfill does. */
  guard?: SwitchGuard;
  /** Entities kept per kind (missing, extra, different, …) in the result; all are counted. Default 20. */
  maxSamples?: number;
  /** Point reads and repair transactions in flight. Default 8. */
  concurrency?: ConcurrencySetting;
  /** Where the bucket files go (a fresh directory inside it, removed afterwards). Default: the OS temp dir. */
  tempDir?: string;
  /** Bucket files per side. Default 256. */
  buckets?: number;
  /** A bucket whose records exceed this many bytes (both sides) is split again before comparing. Default 32 MiB. */
  maxBucketBytes?: number;
  signal?: AbortSignal;
  onProgress?(progress: VerifyProgress): void;
}

export interface VerifyProgress {
  table: string;
  phase: "scan" | "compare";
  source: number;
  destination: number;
}

export interface DifferentEntity extends EntityKey {
  /** Properties whose presence, type or value differ (destination names, after renames). */
  properties: string[];
  /** Set when the point reads no longer showed the difference the scan found. */
  note?: string;
}

export interface UntransformableEntity extends EntityKey {
  /** Why the sync would refuse it (e.g. a property Cosmos reserves, without a rename). */
  message: string;
}

export interface VerifyResult {
  source: string;
  destination: string;
  /** true in sample mode: only `checked` source entities were compared, and `extra` is not known. */
  sampled: boolean;
  sampleFraction?: number;
  sampleSeed?: string;
  /** Source entities read. */
  sourceCount: number;
  /** Destination entities read; null in sample mode (the destination is not scanned). */
  destinationCount: number | null;
  /** Source entities compared with the destination (all of them in full mode). */
  checked: number;
  /** In the source, not in the destination. */
  missing: number;
  /** In the destination, not in the source; null in sample mode. */
  extra: number | null;
  /** In both, with a property whose presence, type or value differs. */
  different: number;
  /** Source entities the sync cannot write as they are (e.g. a reserved property name without a rename). */
  untransformable: number;
  missingSamples: EntityKey[];
  extraSamples: EntityKey[];
  differentSamples: DifferentEntity[];
  untransformableSamples: UntransformableEntity[];
  /** No difference found (in sample mode: none among the checked entities) and no error. */
  inSync: boolean;
  durationMs: number;
  /** Sentences the report should show (sample mode limits, a missing destination table, …). */
  notes: string[];
  /** What repair did, when asked for. */
  repair?: RepairResult;
  /** A table-level error: the verify did not complete and its counts are partial. */
  error?: string;
}
