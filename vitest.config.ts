import { defineConfig } from "vitest/config";

// Browser end-to-end tests share one Chromium and one server each; run files in parallel up to the 2 cores.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
