// A full sync's progress against the table's known size, in the same words for the action's log and summary
// and the CLI's progress lines.
import type { Eta } from "../engine/steps/index.js";

/** "3 h 20 min", "4 min 05 s", "12 s". */
export function timeLeft(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  const h = Math.floor(s / 3600);
  return `${h} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

function thousands(n: number): string {
  return n.toLocaleString("en-US");
}

/** "45.2 % of 10,000 entities (counted by preflight), 1,234/s, about 4 min 05 s left". */
export function etaText(eta: Eta): string {
  const left =
    eta.secondsLeft === undefined
      ? "time left not known yet"
      : eta.secondsLeft === 0
        ? "nothing left"
        : `about ${timeLeft(eta.secondsLeft)} left`;
  return `${eta.percent.toFixed(1)} % of ${thousands(eta.expected)} entities (counted by ${eta.sizeBy}), ${thousands(eta.perSecond)}/s, ${left}`;
}
