// The lag history drawn for people: a Mermaid chart with its numbers beneath (job summaries), and a one-line
// sparkline (the CLI). Shared by both doors; pure text in, text out.
import type { HistoryPoint } from "../state/history.js";
import { counted } from "./figures.js";

/** `07:10` (UTC), with the date when the points span more than a day. */
function label(at: string, withDate: boolean): string {
  const iso = new Date(at).toISOString();
  return withDate ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
}

function spansDays(points: HistoryPoint[]): boolean {
  return (
    points.length > 1 && Date.parse(points[points.length - 1].at) - Date.parse(points[0].at) >= 86_400_000
  );
}

/** Text safe inside a Mermaid quoted string. */
function quoted(s: string): string {
  return `"${s.replace(/["\\]/g, "'").replace(/[\r\n]+/g, " ")}"`;
}

/**
 * A fenced `mermaid` block: an `xychart-beta` with one `line` series, the lag in seconds after each backfill,
 * oldest first, one point per backfill.
 */
export function mermaidLagChart(title: string, points: HistoryPoint[]): string {
  const dated = spansDays(points);
  const top = Math.max(1, ...points.map((p) => p.lagSeconds));
  let labels = points.map((p) => label(p.at, dated));
  // Times are kept to the minute: backfills closer than that get their number too, so no two look alike.
  if (new Set(labels).size < labels.length) labels = labels.map((l, i) => `#${i + 1} ${l}`);
  return [
    "```mermaid",
    "xychart-beta",
    `  title ${quoted(title)}`,
    `  x-axis [${labels.map(quoted).join(", ")}]`,
    `  y-axis "lag (s)" 0 --> ${top}`,
    `  line [${points.map((p) => p.lagSeconds).join(", ")}]`,
    "```",
  ].join("\n");
}

/** The same points as a Markdown table, for readers that do not render charts. */
export function lagTable(points: HistoryPoint[]): string {
  const rows = points.map(
    (p, i) =>
      `| ${i + 1} | ${new Date(p.at).toISOString().slice(0, 16).replace("T", " ")} | ${p.lagSeconds} | ${p.changed} |`,
  );
  return ["| # | backfill at (UTC) | lag (s) | changed entities |", "|---:|---|---:|---:|", ...rows].join(
    "\n",
  );
}

/** Chart, then table: a table's lag history as a job summary shows it. */
export function lagSection(table: string, points: HistoryPoint[]): string {
  const n = points.length;
  return [
    `#### Lag of ${table}: the last ${counted(n, "backfill")}`,
    "",
    mermaidLagChart(`${table}: lag after each backfill (s)`, points),
    "",
    lagTable(points),
  ].join("\n");
}

const BARS = "▁▂▃▄▅▆▇█";

/** The lag series as one line of block characters, lowest to highest of the series. */
export function sparkline(points: HistoryPoint[]): string {
  if (points.length === 0) return "";
  const top = Math.max(...points.map((p) => p.lagSeconds));
  return points
    .map(
      (p) =>
        BARS[
          top === 0
            ? 0
            : Math.min(BARS.length - 1, Math.floor((p.lagSeconds / top) * (BARS.length - 1) + 0.5))
        ],
    )
    .join("");
}
