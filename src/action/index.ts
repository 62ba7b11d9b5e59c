// The action's entry point (dist/index.js), run by the runner as `node24`.
import { run } from "./main.js";

// GitHub cancels (and times out) a job with SIGINT, then SIGTERM, then SIGKILL: stop after the current page and
// save a full sync's checkpoint, so the next run resumes it.
const controller = new AbortController();
const stop = () => {
  if (!controller.signal.aborted) {
    process.stdout.write(
      "The job is being cancelled: stopping after the current page and saving a checkpoint…\n",
    );
    controller.abort();
  }
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

await run({ signal: controller.signal });
