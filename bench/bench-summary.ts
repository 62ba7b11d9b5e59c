// The benchmark's summary (bench.ts): the best run of each kind, our sync against the ceilings and the
// per-entity copy, and whether every target was met.
import { fmt, mb } from "./format.js";
import { busy, type Kind, type Row } from "./bench-measure.js";
import type { Options } from "./bench-options.js";
/** The sync's destination-busy share over the ceiling's: near 1, the sync kept the sink as busy as it can be. */
const busyShare = (sync: Row, ceiling: Row) =>
  sync.destinationCpuS === undefined || ceiling.destinationCpuS === undefined
    ? "–"
    : (sync.destinationCpuS / sync.elapsedMs / (ceiling.destinationCpuS / ceiling.elapsedMs)).toFixed(3);

/** The summary's lines (console and results file), and whether every measurement's data checked out. */
export function summarize(
  opts: Options,
  rows: Row[],
  sourceScanRate: number,
): { summary: string[]; allVerified: boolean } {
  const best = (kind: Kind) =>
    rows
      .filter((r) => r.kind === kind)
      .reduce<Row | undefined>((b, r) => (!b || r.rate > b.rate ? r : b), undefined);
  const sync = best("sync");
  const syncShared = best("sync-shared-cpu");
  const ceiling = best("ceiling");
  const ceilingBusy = best("ceiling-busy");
  const perEntity = best("per-entity");
  if (!sync || !syncShared || !ceiling || !perEntity) throw new Error("a measurement is missing");
  const peakRssKb = Math.max(
    ...rows.filter((r) => r.kind === "sync" || r.kind === "sync-shared-cpu").map((r) => r.maxRssKb),
  );
  const vsCeiling = sync.rate / ceiling.rate;
  const vsCeilingBusy = ceilingBusy ? sync.rate / ceilingBusy.rate : undefined;
  const vsPerEntity = sync.rate / perEntity.rate;
  const sharedVsCeiling = syncShared.rate / ceiling.rate;
  const sharedVsCeilingBusy = ceilingBusy ? syncShared.rate / ceilingBusy.rate : undefined;
  // Paired: each round's sync against the same round's ceiling, measured minutes apart at most, so a
  // slow or fast spell of the machine that spans the round cancels out; the median round is shown.
  const paired = (ceilingKind: Kind): number | undefined => {
    const ratios: number[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      const s = rows.find((r) => r.kind === "sync" && r.round === round);
      const c = rows.find((r) => r.kind === ceilingKind && r.round === round);
      if (s && c) ratios.push(s.rate / c.rate);
    }
    if (ratios.length === 0) return undefined;
    ratios.sort((a, b) => a - b);
    const mid = Math.floor(ratios.length / 2);
    return ratios.length % 2 === 1 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
  };
  const pairedCeiling = paired("ceiling");
  const pairedCeilingBusy = paired("ceiling-busy");
  const allVerified = rows.every((r) => !r.verified.includes("MISMATCH") && r.failed === 0 && !r.error);
  const pass = (ok: boolean) => (ok ? "met" : "NOT met");
  const summary = [
    `our full sync                   ${fmt(sync.rate)} entities/s  (destination busy ${busy(sync)})`,
    `  source sharing the tool's CPU ${fmt(syncShared.rate)} entities/s  (destination busy ${busy(syncShared)})`,
    `sink ceiling                    ${fmt(ceiling.rate)} entities/s  (destination busy ${busy(ceiling)})`,
    ...(ceilingBusy
      ? [
          `sink ceiling, tool's CPU busy   ${fmt(ceilingBusy.rate)} entities/s  (destination busy ${busy(ceilingBusy)})`,
        ]
      : []),
    `per-entity copy                 ${fmt(perEntity.rate)} entities/s` +
      (opts.perEntityLimit < opts.entities ? ` (first ${fmt(opts.perEntityLimit)} entities)` : ""),
    `ours / ceiling                  ${vsCeiling.toFixed(3)}  (target ≥ 0.95: ${pass(vsCeiling >= 0.95)})`,
    ...(vsCeilingBusy !== undefined
      ? [
          `ours / ceiling, tool's CPU busy ${vsCeilingBusy.toFixed(3)}  (target ≥ 0.95: ${pass(vsCeilingBusy >= 0.95)})`,
        ]
      : []),
    `  median round, paired          ${pairedCeiling?.toFixed(3) ?? "–"} / ${pairedCeilingBusy?.toFixed(3) ?? "–"} (each round's sync ÷ that round's ceiling / tool's CPU busy; shown, not a target)`,
    `  destination busy, ours ÷ ceiling ${busyShare(sync, ceiling)} (how much of the sink's capacity the sync used; machine speed cancels out)`,
    `  source sharing the tool's CPU ${sharedVsCeiling.toFixed(3)} / ${sharedVsCeilingBusy?.toFixed(3) ?? "–"} (ceiling / tool's CPU busy; shown, not a target)`,
    `ours / per-entity               ${vsPerEntity.toFixed(2)}  (target ≥ 5: ${pass(vsPerEntity >= 5)})`,
    `source, one scan               ${fmt(sourceScanRate)} entities/s  (Azurite's time for every page, one after another)`,
    `peak RSS of sync                ${mb(peakRssKb)} MB` +
      (opts.entities >= 1_000_000
        ? `  (target ≤ 256 MB at 1 000 000: ${pass(peakRssKb <= 256 * 1024)})`
        : ""),
    `data verified                   ${allVerified ? "yes" : "NO — see the rows above"}`,
  ];
  return { summary, allVerified };
}
