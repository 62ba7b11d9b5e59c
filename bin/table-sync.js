#!/usr/bin/env node
// The CLI, bundled with the action's dependencies into dist/cli (committed), so it runs right after `npm ci`.
import "../dist/cli/index.js";
