import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Tests share two Azurite servers; each test uses its own table names, so files may run in parallel.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
