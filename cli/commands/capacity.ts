import type { Command } from "commander";

// Filled in by the serving core (issue 2).
export function register(_program: Command): void {}
