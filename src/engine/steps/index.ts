// The engine's front for the doors (action, CLI) and the shared presentation: each migration step and the
// results they present. The steps' own modules may move behind it; the doors import only from here.
export {
  engineConfigOf,
  runCopy,
  cancelledCheck,
  differencesOf,
  runPreflight,
  runSwitch,
  runVerify,
  writeCheckReport,
  type CheckEvents,
  type CheckResult,
  type MigrationDeps,
  type MigrationEvents,
  type MigrationResult,
  type TableReport,
} from "./migrate.js";
export { runStatus, PHASES, type Phase, type StatusResult, type TableStatus } from "./status.js";
export type { Eta, MeteredProgress } from "./progress.js";
export { reportPathProblem, writeFailureReason, type ReportPathProblem } from "./report-path.js";
