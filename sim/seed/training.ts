import { resolveModel } from "../model/registry.ts";
import { layerActivations } from "../training/activations.ts";
import { computeTrainingMemory } from "../training/accounting.ts";
import type { TrainingConfig } from "../training/types.ts";
import type { SeedRow } from "./types.ts";

/**
 * The training and parallelism figures of the article (memory-anatomy.txt, "The Intensity of Training" and
 * "Memory Distribution Rules of Thumb"), each recomputed from the article's own formula and inputs, and — where
 * the product can — for the real LLaMA-7B (huggyllama/llama-7b: 6.74B parameters, SwiGLU 11008, no dropout) with
 * the product's accounting. Reconciliation notes: /work/shared/seed/reconciliation.md. GB = 1e9 bytes.
 */
export function trainingSeedRows(): SeedRow[] {
  const GB = 1e9;
  const P = 7e9; // the article's "7B"
  const model = resolveModel("huggyllama/llama-7b");
  // The article's batch: bs 8, seq 2048, "BF16", Adam with fp32 states and fp32 gradients (its notes 3 and 4).
  const articleRun: TrainingConfig = { model, microBatchSize: 8, seqLen: 2048, precision: "article", flashAttention: true };
  const states = (c: TrainingConfig, stage = 0) => {
    const d = computeTrainingMemory({ ...c, cudaContextBytes: 0, allocatorReserve: 0, optimizerImpl: "fused", ddpGradientAsBucketView: true, reduceBucketElements: 0 }).devices[stage];
    const t = d.maxTerms;
    return { params: t.params, grads: t.grads, optimizer: t.optimizer, modelStates: t.params + t.grads + t.optimizer + t.masterWeights, act: t.activations };
  };
  const real = states(articleRun);
  const realNoFlash = states({ ...articleRun, flashAttention: false });
  const realFull = states({ ...articleRun, activationCheckpointing: "full" });
  const articleActs = 8 * 2048 * 4096 * 32 * 2 * 8;
  const korthikanti = (s: number) => 2048 * 8 * 4096 * (34 + (5 * 32 * s) / 4096) * 32 * (s / 2048);
  const shape = (seqLen: number, flashAttention: boolean) =>
    layerActivations(model, { seqLen, microBatchSize: 8, tp: 1, sequenceParallel: false, flashAttention, actBytes: 2 }).total;
  const pp4 = states({ ...articleRun, numGpus: 4, pp: 4, numMicroBatches: 4 });
  const tp4 = states({ ...articleRun, numGpus: 4, tp: 4 });
  const fsdp8 = states({ ...articleRun, numGpus: 8, zeroStage: 3 });
  const differs = (article: number, recomputed: number, lastDigit: number) =>
    Math.abs(article - recomputed) > Math.max(0.005 * Math.abs(recomputed), lastDigit / 2);
  const row = (r: Omit<SeedRow, "differs"> & { lastDigit: number }): SeedRow => {
    const { lastDigit, ...rest } = r;
    return { ...rest, differs: rest.articleValue === null ? true : differs(rest.articleValue, rest.recomputed, lastDigit) };
  };
  const llama = "huggyllama/llama-7b";
  // Most figures are the article's one formula, 7B parameters × bytes per parameter ÷ devices sharing them, beside
  // the real model's bytes on one device.
  const perParam = (r: {
    section: string; item: string; articleText: string; articleValue: number; lastDigit: number;
    bytesPerParam: number; devices?: number; realBytes: number; realModel?: string; note: string;
  }): SeedRow =>
    row({
      section: r.section, item: r.item, articleText: r.articleText, articleValue: r.articleValue, lastDigit: r.lastDigit,
      recomputed: (P * r.bytesPerParam) / (r.devices ?? 1) / GB, realModelValue: r.realBytes / GB, realModel: r.realModel ?? llama, unit: "GB",
      note: r.note,
    });
  return [
    perParam({
      section: "training", item: "LLaMA-7B parameters, bf16 (7B × 2 B)", articleText: "14 GB", articleValue: 14, lastDigit: 1,
      bytesPerParam: 2, realBytes: real.params,
      note: "\"7B\" is a label: LLaMA-7B has 6,738,415,616 parameters → 13.48 GB",
    }),
    perParam({
      section: "training", item: "gradients, fp32 (7B × 4 B)", articleText: "28 GB", articleValue: 28, lastDigit: 1,
      bytesPerParam: 4, realBytes: real.grads,
      note: "fp32 gradients beside bf16 weights (the article's note 3); ZeRO's recipe keeps them in fp16 (2 B)",
    }),
    perParam({
      section: "training", item: "Adam states, fp32 m and v (7B × 8 B)", articleText: "56 GB", articleValue: 56, lastDigit: 1,
      bytesPerParam: 8, realBytes: real.optimizer,
      note: "8 B/param for Adam's two fp32 moments; 8-bit Adam needs ≈2 B/param",
    }),
    perParam({
      section: "training", item: "model states (params + grads + Adam), 14 B/param", articleText: "98 GB", articleValue: 98, lastDigit: 1,
      bytesPerParam: 14, realBytes: real.modelStates,
      note: "mixed-precision Adam normally also keeps fp32 master weights: 2+2+12 = 16 B/param (ZeRO, 107.8 GB for LLaMA-7B) or 18 with fp32 gradients (HF)",
    }),
    row({
      section: "training", item: "activations, 8 × 2048 × 4096 × 32 × 2 × 8", articleText: "≈ 67 GB", articleValue: 67, lastDigit: 1,
      recomputed: articleActs / GB, realModelValue: real.act / GB, realModel: `${llama}, flash attention, no checkpointing`, unit: "GB",
      note: `the product is 34,359,738,368 B = 34.4 GB; 67,108,864 = 8·2048·4096 is one layer's hidden-state element count, not GB. Per-tensor accounting of the real model: ${(real.act / GB).toFixed(1)} GB with flash attention, ${(realNoFlash.act / GB).toFixed(1)} GB with materialised a·s² scores`,
    }),
    row({
      section: "training", item: "total training memory (98 + activations)", articleText: "around 165GB", articleValue: 165, lastDigit: 5,
      recomputed: (P * 14 + articleActs) / GB, realModelValue: (real.modelStates + real.act) / GB, realModel: `${llama}, flash attention`, unit: "GB",
      note: "98 + 34.4 = 132.4 GB with the article's own formula; DP 165, PPO 360, DPO 180 and GRPO 165 all inherit the 165",
    }),
    row({
      section: "training", item: "activations, Korthikanti et al. 2022: sbh(34 + 5as/h) × 32 layers", articleText: "(not given)", articleValue: null, lastDigit: 1,
      recomputed: korthikanti(2048) / GB, realModelValue: realNoFlash.act / GB, realModel: `${llama}, no flash attention`, unit: "GB",
      note: "the paper's coefficients assume a 4h GeLU MLP with dropout; LLaMA's SwiGLU (11008) and no dropout change them, so the product models each tensor; 34·sbh × 32 = 73.0 GB without the a·s² term",
    }),
    row({
      section: "training", item: "activations 2K → 4K tokens", articleText: "roughly quadruples", articleValue: 4, lastDigit: 1,
      recomputed: korthikanti(4096) / korthikanti(2048), realModelValue: shape(4096, true) / shape(2048, true), realModel: `${llama}, flash attention`, unit: "x",
      note: "only the a·s² term quadruples: ×3.4 without flash attention, ×2.0 with it — quadratic at most, never \"exponential\"",
    }),
    perParam({
      section: "parallelism", item: "pipeline parallel over 4: model states per device", articleText: "~25 GB", articleValue: 25, lastDigit: 1,
      bytesPerParam: 14, devices: 4, realBytes: pp4.modelStates, realModel: `${llama}, first stage`,
      note: "98/4 = 24.5 GB; the first stage also holds the embedding and, under 1F1B, p micro-batches of activations in flight",
    }),
    perParam({
      section: "parallelism", item: "tensor parallel over 4: model states per device", articleText: "~25 GB (98 GB/4)", articleValue: 25, lastDigit: 1,
      bytesPerParam: 14, devices: 4, realBytes: tp4.modelStates,
      note: "activations are not all divided by 4: norm and dropout inputs stay replicated without sequence parallelism (sbh(10 + 24/t + 5as/(ht)))",
    }),
    perParam({
      section: "parallelism", item: "FSDP over 8: parameters", articleText: "1.75 GB", articleValue: 1.75, lastDigit: 0.01,
      bytesPerParam: 2, devices: 8, realBytes: fsdp8.params,
      note: "14 GB / 8: bf16 parameters sharded over the 8 ranks; LLaMA-7B's 6.74B give 1.68 GB",
    }),
    perParam({
      section: "parallelism", item: "FSDP over 8: gradients", articleText: "3.5 GB", articleValue: 3.5, lastDigit: 0.1,
      bytesPerParam: 4, devices: 8, realBytes: fsdp8.grads,
      note: "28 GB / 8: fp32 gradients reduce-scattered to their owners",
    }),
    perParam({
      section: "parallelism", item: "FSDP over 8: optimizer states", articleText: "7 GB", articleValue: 7, lastDigit: 1,
      bytesPerParam: 8, devices: 8, realBytes: fsdp8.optimizer,
      note: "56 GB / 8: each rank updates only its shard of Adam's m and v",
    }),
    perParam({
      section: "parallelism", item: "FSDP over 8: model states per device", articleText: "~12 GB", articleValue: 12, lastDigit: 1,
      bytesPerParam: 14, devices: 8, realBytes: fsdp8.modelStates,
      note: "12.25 GB, plus the gathered full-layer parameters and gradients of the unit in flight (not in the article)",
    }),
    row({
      section: "parallelism", item: "activation checkpointing: activation memory saved", articleText: "75-90%", articleValue: null, lastDigit: 1,
      recomputed: 100 * (1 - 2 / 34), realModelValue: 100 * (1 - realFull.act / real.act), realModel: `${llama}, full recompute, flash attention`, unit: "%",
      note: "full recompute keeps only each layer's input (2·sbh of 34·sbh): ~94% saved; the real peak also holds one recomputed layer",
    }),
    row({
      section: "parallelism", item: "activation checkpointing: extra compute", articleText: "roughly 25%", articleValue: 25, lastDigit: 5,
      recomputed: 100 / 3, realModelValue: null, unit: "%",
      note: "one more forward per step: forward ≈ 1/3 of forward + backward FLOPs → ~33%; Korthikanti measured +39% (22B), selective recompute +2.7% FLOPs (GPT-3)",
    }),
  ];
}
