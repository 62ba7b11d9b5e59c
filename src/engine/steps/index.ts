// The engine's front for the doors (action, CLI) and the shared presentation: each migration step and the
// results they present. The steps' own modules may move behind it; the doors import only from here.
export { engineConfigOf, type MigrationDeps } from "./engine-config.js";
export { runCopy } from "./full-sync.js";
export type { MigrationEvents, MigrationResult, TableReport } from "./copy-report.js";
export { runVerify } from "./verify.js";
export { runSwitch } from "./switch.js";
export { runPreflight } from "./preflight.js";
export {
  cancelledCheck,
  differencesOf,
  writeCheckReport,
  type CheckEvents,
  type CheckResult,
} from "./check-result.js";
export { runStatus, PHASES, type Phase, type StatusResult, type TableStatus } from "./status.js";
export type { Eta, MeteredProgress } from "./progress.js";
export { reportPathProblem, writeFailureReason, type ReportPathProblem } from "./report-path.js";
