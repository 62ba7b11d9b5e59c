// The action's entry point (dist/index.js), run by the runner as `node24`.
import { run } from "./main.js";

await run();
