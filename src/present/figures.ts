// Numbers, counts and durations in the same words for both doors: the action's log and job summary and the
// CLI's lines. Plain text in, plain text out; the doors decide where a figure goes (Markdown or a terminal).

/** `12,345`. */
export function num(n: number): string {
  // Whole numbers (nearly every figure) without Intl: its first use loads locale data, tens of ms of
  // CPU in every run of the CLI.
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString("en-US");
  const digits = String(Math.abs(n));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
}

/** `1 table`, `2 tables`; `shown` formats the number (the CLI: `num`). */
export function counted(
  n: number,
  one: string,
  many = `${one}s`,
  shown: (n: number) => string = String,
): string {
  return `${shown(n)} ${n === 1 ? one : many}`;
}

/** `2 tables`, `1 table`. */
export function tablesCount(n: number): string {
  return counted(n, "table");
}

/** "3 h 20 min", "4 min 05 s", "12 s". */
export function timeLeft(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  const h = Math.floor(s / 3600);
  return `${h} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** How long something took: "2.5 s" under a minute, then as `timeLeft` says it ("2 min 05 s", "1 h 02 min"). */
export function duration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return timeLeft(ms / 1000);
}
