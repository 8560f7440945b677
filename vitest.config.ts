import { defineConfig } from "vitest/config";

// Browser end-to-end tests start their own Chromium and server.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Generous: the browser tests replay whole traces twice and spawn the CLI to compare; a hang still fails.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: "forks",
    // One file at a time: the browser, server-load and CLI tests each use both cores, and timing-sensitive ones
    // (backpressure, frame rate) flake when they share the machine.
    maxWorkers: 1,
    fileParallelism: false,
  },
});
