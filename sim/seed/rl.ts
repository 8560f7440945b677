import { DEFAULT_ALGORITHM_OPTIONS, type AlgorithmOptions, type RlAlgorithm } from "../rl/algorithms.ts";
import { ARTICLE_INFERENCE_GB, ARTICLE_TRAINING_GB, articleBudget } from "../rl/article.ts";
import type { SeedRow } from "./types.ts";

/**
 * The article's RL section (memory-anatomy.txt, "The Special Case of Reinforcement Learning") recomputed from its
 * own inputs — 165 GB per trained copy, 14 GB per frozen copy, summed over the roles `sim/rl/algorithms.ts` defines —
 * and set beside the product's own figure for the same roles (`realModelValue`, see `productFigures`).
 */
interface Case {
  item: string;
  algorithm: RlAlgorithm;
  opts: Partial<AlgorithmOptions>;
  articleText: string;
  articleValue: number | null;
  note: string;
}

const CASES: Case[] = [
  {
    item: "PPO: actor + reference + critic + reward (LLaMA-7B)",
    algorithm: "ppo",
    opts: {},
    articleText: "~360 GB",
    articleValue: 360,
    note: "165 + 14 + 165 + 14 = 358, printed rounded; the rollout buffer adds megabytes, not the article's 20-30 GB (it keeps per-token log-probs, not logits), but the rollout engine's weights and KV cache come on top",
  },
  {
    item: "DPO: policy + frozen reference",
    algorithm: "dpo",
    opts: {},
    articleText: "~180 GB",
    articleValue: 180,
    note: "165 + 14 = 179; chosen and rejected are concatenated, so the policy's activations are those of twice the batch",
  },
  {
    item: "DPO with reference log-probs precomputed (TRL precompute_ref_log_probs)",
    algorithm: "dpo",
    opts: { precomputeRefLogProbs: true },
    articleText: "not in the article",
    articleValue: null,
    note: "the reference runs once over the dataset before training and is not kept: 165",
  },
  {
    item: "GRPO with β = 0 (no KL term; TRL's default since v0.19)",
    algorithm: "grpo",
    opts: { beta: 0 },
    articleText: "~165 GB",
    articleValue: 165,
    note: "the article's figure holds only here: without a KL term there is no reference to compare against",
  },
  {
    item: "GRPO as published (DeepSeekMath, KL coefficient β = 0.04)",
    algorithm: "grpo",
    opts: { beta: 0.04 },
    articleText: "~165 GB, \"eliminating the reference model entirely\"",
    articleValue: 165,
    note: "GRPO drops the critic, not the reference: its loss keeps −β·KL(π_θ‖π_ref), so a frozen reference is held: 165 + 14 = 179; the G completions per prompt also make its rollout KV cache G times larger",
  },
  {
    item: "Constitutional AI, k = 2 critics (generator + revision trained)",
    algorithm: "cai",
    opts: { numCritics: 2 },
    articleText: "~350-400 GB",
    articleValue: null,
    note: "2 × 165 + 2 × 14 = 358, inside the printed range",
  },
  {
    item: "Constitutional AI, k = 5 critics (generator + revision trained)",
    algorithm: "cai",
    opts: { numCritics: 5 },
    articleText: "~350-400 GB",
    articleValue: null,
    note: "2 × 165 + 5 × 14 = 400, the top of the printed range; a revision shared with the generator saves 165",
  },
];

/** The product's per-copy figures for the article's model, used for `realModelValue` (GB), or null if unavailable. */
export interface ProductFigures {
  trainingGB: number;
  inferenceGB: number;
  realModel: string;
  how: string;
}

/** True when `article` differs from `recomputed` by more than the rounding its printed figure shows. */
function differsFromPrint(article: number | null, recomputed: number, step: number): boolean {
  if (article === null) return false;
  return Math.abs(article - recomputed) > Math.max(0.005 * recomputed, step / 2);
}

export function rlArticleRows(product: ProductFigures | null): SeedRow[] {
  const rows: SeedRow[] = [];
  for (const c of CASES) {
    const opts = { ...DEFAULT_ALGORITHM_OPTIONS, ...c.opts };
    const b = articleBudget(c.algorithm, opts);
    const real = product ? articleBudget(c.algorithm, opts, { trainingGB: product.trainingGB, inferenceGB: product.inferenceGB }) : null;
    rows.push({
      section: "rl",
      item: c.item,
      articleText: c.articleText,
      articleValue: c.articleValue,
      recomputed: b.totalGB,
      realModelValue: real ? round1(real.totalGB) : null,
      realModel: product?.realModel,
      unit: "GB",
      // "~360" is printed to the tens: 358 rounds to it; "~165" for GRPO with β > 0 does not cover 179.
      differs: differsFromPrint(c.articleValue, b.totalGB, 10),
      note: c.note + (product ? `; ${product.how}` : ""),
    });
  }
  for (const [algorithm, text, value] of [["ppo", "2.2×", 2.2], ["dpo", "1.1×", 1.1]] as const) {
    const b = articleBudget(algorithm, DEFAULT_ALGORITHM_OPTIONS);
    rows.push({
      section: "rl",
      item: `${algorithm.toUpperCase()} budget as a multiple of base training memory`,
      articleText: text,
      articleValue: value,
      recomputed: round3(b.multipleOfTraining),
      realModelValue: null,
      unit: "x",
      differs: differsFromPrint(value, b.multipleOfTraining, 0.1),
      note: `${b.totalGB} / ${ARTICLE_TRAINING_GB} = ${b.multipleOfTraining.toFixed(3)}; frozen copies cost ${ARTICLE_INFERENCE_GB} / ${ARTICLE_TRAINING_GB} = ${(ARTICLE_INFERENCE_GB / ARTICLE_TRAINING_GB).toFixed(3)} of a trained one`,
    });
  }
  return rows;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;
