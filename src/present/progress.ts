// A full sync's progress against the table's known size, in the same words for the action's log and summary
// and the CLI's progress lines.
import type { Eta } from "../engine/steps/index.js";
import { num, timeLeft } from "./figures.js";

/** "45.2 % of 10,000 entities (counted by preflight), 1,234/s, about 4 min 05 s left". */
export function etaText(eta: Eta): string {
  const left =
    eta.secondsLeft === undefined
      ? "time left not known yet"
      : eta.secondsLeft === 0
        ? "nothing left"
        : `about ${timeLeft(eta.secondsLeft)} left`;
  return `${eta.percent.toFixed(1)} % of ${num(eta.expected)} entities (counted by ${eta.sizeBy}), ${num(eta.perSecond)}/s, ${left}`;
}
