import { projectEngines } from "./engines.ts";
import { computeRlMemory } from "./memory.ts";
import type { RlConfig, RlReport } from "./types.ts";

/** One RL iteration's per-GPU memory, with the project's training model and serving simulator. */
export function simulateRl(config: RlConfig): RlReport {
  return computeRlMemory(config, projectEngines);
}

export { computeRlMemory } from "./memory.ts";
export { articleBudget, ARTICLE_INFERENCE_GB, ARTICLE_TRAINING_GB } from "./article.ts";
export { modelRoles, parseAlgorithm, RL_ALGORITHMS } from "./algorithms.ts";
export { DEFAULT_ROLLOUT_MEMORY_ACCOUNTING, defaultRolloutUtilization, RL_DEFAULT_ZERO_STAGE, rlTrainingFlags } from "./defaults.ts";
export type * from "./types.ts";
