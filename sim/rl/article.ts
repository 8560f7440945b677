import { modelRoles, type AlgorithmOptions, type RlAlgorithm, type RoleName } from "./algorithms.ts";

/**
 * The article's RL budgets (memory-anatomy.txt, "The Special Case of Reinforcement Learning"): every trained copy
 * costs the LLaMA-7B training figure (165 GB) and every frozen copy the inference figure (14 GB = 7e9 × 2 B), summed
 * over the roles of `modelRoles` — so the flat budget and the product's accounting share one role table.
 *
 * Printed figures: PPO "~360 GB" (165 + 14 + 165 + 14 = 358), DPO "~180 GB" (179), GRPO "~165 GB" (true only for
 * β = 0; 179 with the published KL term), Constitutional AI "~350-400 GB" (2 × 165 + k × 14).
 */
export const ARTICLE_TRAINING_GB = 165;
export const ARTICLE_INFERENCE_GB = 14;

export interface ArticleBudget {
  algorithm: RlAlgorithm;
  terms: { role: RoleName; kind: "train" | "inference"; gb: number }[];
  totalGB: number;
  /** totalGB ÷ the single training figure (the article's "2.2×", "1.1×"). */
  multipleOfTraining: number;
}

export function articleBudget(
  algorithm: RlAlgorithm,
  opts: AlgorithmOptions,
  figures: { trainingGB: number; inferenceGB: number } = { trainingGB: ARTICLE_TRAINING_GB, inferenceGB: ARTICLE_INFERENCE_GB },
): ArticleBudget {
  const terms = modelRoles(algorithm, opts).map((r) => ({
    role: r.name,
    kind: r.kind as "train" | "inference",
    gb: r.kind === "train" ? figures.trainingGB : figures.inferenceGB,
  }));
  const totalGB = terms.reduce((s, t) => s + t.gb, 0);
  return { algorithm, terms, totalGB, multipleOfTraining: totalGB / figures.trainingGB };
}
