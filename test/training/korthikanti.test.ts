import { describe, expect, it } from "vitest";
import { computeTrainingMemory, korthikantiPerLayer, layerActivations } from "../../sim/training/index.ts";
import { gpt3_175b } from "./helpers.ts";

/**
 * Korthikanti et al. 2022 (arXiv 2205.05198), Table 2, for their GPT-3 175B configuration (Table 3: s = 2048,
 * b = 1, h = 12288, a = 96, t = 8). By hand: sbh = 2048·12288 = 25,165,824; 5as/h = 5·96·2048/12288 = 80.
 *   no parallelism      sbh(34 + 80)              = 2,868,903,936 B
 *   TP                  sbh(10 + 24/8 + 80/8) = 23 sbh = 578,813,952 B (552 MiB)
 *   TP + SP             sbh/8 · 114               = 358,612,992 B (342 MiB)
 *   TP + selective      sbh(10 + 3) = 13 sbh      = 327,155,712 B (312 MiB)
 *   TP + SP + selective sbh · 34/8                = 106,954,752 B (102 MiB)
 *   full recompute      2 sbh                     = 50,331,648 B (48 MiB)
 */
const model = gpt3_175b();
const shape = (tp: number, sequenceParallel: boolean) => ({
  seqLen: 2048,
  microBatchSize: 1,
  tp,
  sequenceParallel,
  flashAttention: false,
  actBytes: 2,
});
const p = { s: 2048, b: 1, h: 12288, a: 96, t: 8 };

describe("Korthikanti et al. 2022 per-layer activations, GPT-3 175B", () => {
  it("no parallelism: sbh(34 + 5as/h)", () => {
    expect(layerActivations(model, shape(1, false)).total).toBe(2_868_903_936);
    expect(korthikantiPerLayer({ ...p, t: 1 }, "none")).toBe(2_868_903_936);
  });
  it("tensor parallel: sbh(10 + 24/t + 5as/(ht))", () => {
    expect(layerActivations(model, shape(8, false)).total).toBe(578_813_952);
    expect(korthikantiPerLayer(p, "tp")).toBe(578_813_952);
  });
  it("tensor + sequence parallel: sbh/t · (34 + 5as/h)", () => {
    expect(layerActivations(model, shape(8, true)).total).toBe(358_612_992);
    expect(korthikantiPerLayer(p, "tp-sp")).toBe(358_612_992);
  });
  it("selective recompute drops the core attention: sbh(10 + 24/t), sbh·34/t with SP", () => {
    const tp = layerActivations(model, shape(8, false));
    expect(tp.total - tp.coreAttention).toBe(327_155_712);
    const sp = layerActivations(model, shape(8, true));
    expect(sp.total - sp.coreAttention).toBe(106_954_752);
    expect(korthikantiPerLayer(p, "tp-selective")).toBe(327_155_712);
    expect(korthikantiPerLayer(p, "tp-sp-selective")).toBe(106_954_752);
  });
  it("full recompute keeps 2sbh per layer", () => {
    expect(layerActivations(model, shape(8, false)).layerInput).toBe(50_331_648);
    expect(layerActivations(model, shape(1, false)).layerInput).toBe(50_331_648);
  });
});

/**
 * Table 3's four models (s = 2048, t = 8), per layer in MiB, as the ground-truth notes derive them from Table 2's
 * formulas (training-ground-truth.md §3, "Derived per-layer/first-stage numbers"): TP only, TP+SP, TP+selective,
 * TP+SP+selective, full recompute (2sbh).
 */
describe("Table 3 models, per layer (MiB)", () => {
  const rows: [string, { h: number; a: number; b: number }, [number, number, number, number, number]][] = [
    ["22B", { h: 6144, a: 64, b: 4 }, [1264, 844, 624, 204, 96]],
    ["175B", { h: 12288, a: 96, b: 1 }, [552, 342, 312, 102, 48]],
    ["530B", { h: 20480, a: 128, b: 1 }, [840, 490, 520, 170, 80]],
    ["1T", { h: 25600, a: 160, b: 1 }, [1050, 612.5, 650, 212.5, 100]],
  ];
  for (const [name, { h, a, b }, mib] of rows)
    it(name, () => {
      const m = { ...model, hiddenSize: h, numAttentionHeads: a, numKvHeads: a, headDim: h / a, intermediateSize: 4 * h };
      const tp = layerActivations(m, { ...shape(8, false), microBatchSize: b });
      const sp = layerActivations(m, { ...shape(8, true), microBatchSize: b });
      const got = [tp.total, sp.total, tp.total - tp.coreAttention, sp.total - sp.coreAttention, tp.layerInput].map((x) => x / 2 ** 20);
      got.forEach((g, i) => expect(g).toBeCloseTo(mib[i], 9));
    });
});

describe("pipeline: the first stage holds L layers' worth (Korthikanti §4.2.3)", () => {
  // GPT-3 175B on 64 GPUs: t = 8, p = 8, m = 64 micro-batches, TP + SP.
  const cfg = {
    model,
    numGpus: 64,
    tp: 8,
    pp: 8,
    sequenceParallel: true,
    numMicroBatches: 64,
    seqLen: 2048,
    microBatchSize: 1,
    flashAttention: false,
  };
  it("1F1B: p micro-batches × L/p layers = 96 layers × 342 MiB = 32.0625 GiB (+ embedding dropout masks)", () => {
    const d = computeTrainingMemory(cfg).devices[0];
    expect(d.inFlightMicroBatches).toBe(8);
    // Per micro-batch on stage 0: 12 layers × 358,612,992 + the embedding dropout mask sbh/t = 3,145,728.
    expect(d.activationsPerMicroBatch).toBe(12 * 358_612_992 + 3_145_728);
    expect(d.maxTerms.activations).toBe(8 * (12 * 358_612_992 + 3_145_728));
    expect((96 * 358_612_992) / 2 ** 30).toBe(32.0625);
  });
  it("interleaved (v = 2): × (1 + (p − 1)/(p·v)) = 1.4375 on the first stage", () => {
    const d = computeTrainingMemory({ ...cfg, pipelineSchedule: "interleaved", virtualStages: 2 }).devices[0];
    // Megatron's warm-up on rank 0: 2(p − 1) + (v − 1)p = 22 chunk forwards, +1 in steady state = 23 chunks of 6 layers.
    expect(d.inFlightMicroBatches).toBe(11.5);
    expect(23 * 6).toBe(96 * 1.4375);
  });
  it("later stages hold fewer: stage i keeps p − i micro-batches", () => {
    const r = computeTrainingMemory(cfg);
    expect(r.devices.map((d) => d.inFlightMicroBatches)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
  });
});
