import { inferenceSeedRows } from "./inference.ts";
import { rlSeedRows } from "./rl.ts";
import { trainingSeedRows } from "./training.ts";
import type { SeedRow } from "./types.ts";

export type { SeedRow } from "./types.ts";

/** Every figure of the source article, recomputed (`vramscope seed`, the visualizer's Article view). */
export function seedRows(): SeedRow[] {
  return [...inferenceSeedRows(), ...trainingSeedRows(), ...rlSeedRows()];
}
