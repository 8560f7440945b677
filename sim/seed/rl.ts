import { resolveGpu } from "../hardware/registry.ts";
import { resolveModel } from "../model/registry.ts";
import { weightBytes } from "../model/weights.ts";
import { DEFAULT_ALGORITHM_OPTIONS, type AlgorithmOptions, type RlAlgorithm } from "../rl/algorithms.ts";
import { ARTICLE_INFERENCE_GB, ARTICLE_TRAINING_GB, articleBudget } from "../rl/article.ts";
import { simulateRl } from "../rl/index.ts";
import type { RlConfig } from "../rl/types.ts";
import { computeTrainingMemory } from "../training/index.ts";
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

/**
 * The product's per-copy figures for LLaMA-7B with the article's inputs (batch 8 × 2048 tokens, its 14 B/param
 * precision, flash attention), computed the way `trainingSeedRows` computes its "165 GB" row (no CUDA context or
 * allocator reserve, model states + activations), and the bf16 weights of huggyllama/llama-7b for a frozen copy.
 */
export function productFigures(): ProductFigures {
  const model = resolveModel("huggyllama/llama-7b");
  const d = computeTrainingMemory({
    model, microBatchSize: 8, seqLen: 2048, precision: "article", flashAttention: true,
    cudaContextBytes: 0, allocatorReserve: 0, optimizerImpl: "fused", ddpGradientAsBucketView: true, reduceBucketElements: 0,
  }).devices[0];
  const t = d.maxTerms;
  const trainingBytes = t.params + t.grads + t.optimizer + t.masterWeights + t.activations;
  const inferenceBytes = weightBytes(model, { dtype: "bfloat16", quantization: "none", tensorParallelSize: 1 }).totalBytes;
  return {
    trainingGB: trainingBytes / 1e9,
    inferenceGB: inferenceBytes / 1e9,
    realModel: "huggyllama/llama-7b",
    how: `product: ${(trainingBytes / 1e9).toFixed(1)} GB per trained copy (6.74B params × 14 B + GQA-aware, flash-attention activations) and ${(inferenceBytes / 1e9).toFixed(2)} GB per frozen bf16 copy`,
  };
}

/**
 * The same budgets once the rollout engine and time-sharing are counted: LLaMA-7B on 8 × H100-80GB, every role
 * colocated under ZeRO-3, vLLM at gpu_memory_utilization 0.7 sleeping (level 1) between generate phases, 64
 * prompts of 1024 + 1024 tokens, micro-batch 8 with full activation checkpointing. `realModelValue` is the cluster's
 * memory at the per-GPU peak (8 × the peak per GPU): the roles' copies are sharded, their transients do not stack,
 * and the engine's util × total reservation appears only while generating.
 */
function withRolloutRows(): SeedRow[] {
  const model = resolveModel("huggyllama/llama-7b");
  const gpu = resolveGpu("H100-SXM-80GB");
  const cases: { algorithm: RlAlgorithm; opts: Partial<AlgorithmOptions>; articleText: string; articleValue: number; numGenerations: number }[] = [
    { algorithm: "ppo", opts: {}, articleText: "~360 GB", articleValue: 360, numGenerations: 1 },
    { algorithm: "grpo", opts: { beta: 0 }, articleText: "~165 GB", articleValue: 165, numGenerations: 8 },
    { algorithm: "grpo", opts: { beta: 0.04 }, articleText: "~165 GB", articleValue: 165, numGenerations: 8 },
    { algorithm: "dpo", opts: {}, articleText: "~180 GB", articleValue: 180, numGenerations: 2 },
  ];
  return cases.map((c) => {
    const opts = { ...DEFAULT_ALGORITHM_OPTIONS, ...c.opts };
    const cfg: RlConfig = {
      ...opts,
      algorithm: c.algorithm,
      model,
      gpu,
      numGpus: 8,
      placement: "colocate",
      rollout: { gpuMemoryUtilization: 0.7, tensorParallelSize: 1, sleepLevel: 1, accounting: "shared", enablePrefixCaching: true, stepTimeS: 0.02 },
      numGenerations: c.numGenerations,
      promptLen: 1024,
      responseLen: 1024,
      rolloutBatchSize: 64,
      training: { microBatchSize: 8, extra: { zeroStage: 3, activationCheckpointing: "full" } },
      offloadTrainStatesDuringRollout: false,
      offloadFrozenRoles: false,
      seed: 0,
    };
    const r = simulateRl(cfg);
    const flat = articleBudget(c.algorithm, opts).totalGB;
    const ro = r.rollout;
    return {
      section: "rl",
      item: `${c.algorithm.toUpperCase()}${c.algorithm === "grpo" ? ` β = ${opts.beta}` : ""}, LLaMA-7B on 8 × H100 colocated, rollout engine counted (cluster memory at the per-GPU peak)`,
      articleText: c.articleText,
      articleValue: c.articleValue,
      recomputed: flat,
      realModelValue: Math.round((8 * r.peakBytesPerGpu) / 1e8) / 10,
      realModel: "huggyllama/llama-7b",
      unit: "GB",
      differs: differsFromPrint(c.articleValue, flat, 10),
      note:
        `peak ${(r.peakBytesPerGpu / 1e9).toFixed(1)} GB per GPU in ${r.peakPhase} (${r.peakEvent}); ` +
        (ro
          ? `the vLLM engine holds 0.7 × 85.0 GB per GPU while generating, KV for ${ro.kvCacheTokens} tokens, ${ro.summary.preemptions} preemptions`
          : "DPO trains on a fixed preference set: no rollout engine") +
        `; ${r.fits ? "fits" : "does not fit"} 80 GB`,
    };
  });
}

/** Every RL row of `vramscope seed`: the article's budgets, the product's per-copy figures, and the rollout engine counted. */
export function rlSeedRows(): SeedRow[] {
  return [...rlArticleRows(productFigures()), ...withRolloutRows()];
}
