import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeTrainingMemory, trainingTimeline } from "../../sim/training/index.ts";
import type { DeviceReport, TrainingConfig } from "../../sim/training/types.ts";
import { tinyLlama } from "./helpers.ts";

const gptStyle = tinyLlama({ name: "tiny-gpt", gatedMlp: false, intermediateSize: 1024, normType: "layernorm", dropout: 0.1, numKvHeads: 8, linearBias: true, qkvBias: true });

/**
 * Random valid layouts and options over two tiny models (Llama-style GQA/SwiGLU and GPT-style GeLU/dropout). Short
 * sequences and a tiny vocabulary make gradients outweigh activations, so every candidate moment gets to be a peak.
 */
const configArb: fc.Arbitrary<TrainingConfig> = fc
  .record({
    gpt: fc.boolean(),
    vocab: fc.constantFrom(4096, 128),
    tp: fc.constantFrom(1, 2),
    pp: fc.constantFrom(1, 2, 4),
    dp: fc.constantFrom(1, 2, 4),
    zero: fc.constantFrom(0, 1, 2, 3),
    extraMb: fc.integer({ min: 0, max: 3 }),
    interleaved: fc.boolean(),
    ckpt: fc.constantFrom("none", "full", "selective", "every-k:2", "every-k:3"),
    flash: fc.boolean(),
    sp: fc.boolean(),
    precision: fc.constantFrom("article", "zero", "hf-mixed", "fp32", "bf16"),
    optimizer: fc.constantFrom("adamw", "adam-8bit", "sgd", "sgd-momentum", "adafactor", "lion"),
    offloadOptimizer: fc.boolean(),
    offloadParams: fc.boolean(),
    b: fc.integer({ min: 1, max: 4 }),
    s: fc.constantFrom(16, 64, 128, 256),
    loss: fc.constantFrom("standard", "chunked", "fused"),
    units: fc.integer({ min: 1, max: 3 }),
    impl: fc.constantFrom("foreach", "fused"),
  })
  .map((r) => {
    const zeroStage = (r.pp > 1 ? Math.min(r.zero, 1) : r.zero) as 0 | 1 | 2 | 3;
    const interleaved = r.interleaved && r.pp > 1;
    const m = interleaved ? r.pp * (1 + (r.extraMb % 2)) : r.pp + r.extraMb;
    return {
      model: { ...(r.gpt ? gptStyle : tinyLlama()), vocabSize: r.vocab },
      numGpus: r.tp * r.pp * r.dp,
      tp: r.tp,
      pp: r.pp,
      zeroStage,
      numMicroBatches: m,
      pipelineSchedule: interleaved ? "interleaved" : "1f1b",
      activationCheckpointing: r.ckpt,
      flashAttention: r.flash,
      sequenceParallel: r.sp,
      precision: r.precision,
      optimizer: r.optimizer,
      offloadOptimizer: r.offloadOptimizer && zeroStage >= 1,
      offloadParams: r.offloadParams && zeroStage === 3,
      microBatchSize: r.b,
      seqLen: r.s,
      loss: r.loss,
      fsdpUnitsInFlight: r.units,
      optimizerImpl: r.impl,
    } as TrainingConfig;
  });

const states = (d: DeviceReport) => d.maxTerms.params + d.maxTerms.grads + d.maxTerms.optimizer + d.maxTerms.masterWeights;
const rel = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

describe("training accounting properties", () => {
  it("timeline peak = accounting peak, on every pipeline stage", () => {
    fc.assert(
      fc.property(configArb, (c) => {
        const r = computeTrainingMemory(c);
        for (const d of r.devices) {
          const tl = trainingTimeline(c, { stage: d.stage });
          if (!rel(tl.peakBytes, d.peakBytes)) throw new Error(`stage ${d.stage}: timeline ${tl.peakBytes} vs accounting ${d.peakBytes} (${d.peakAt})`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("INV-T1: a device's seven terms sum to its peak; the step ends where it started", () => {
    fc.assert(
      fc.property(configArb, (c) => {
        for (const d of computeTrainingMemory(c).devices) {
          const sum = d.paramsBytes + d.gradsBytes + d.optimizerBytes + d.masterWeightsBytes + d.activationsBytes + d.logitsBytes + d.overheadBytes;
          expect(rel(sum, d.peakBytes)).toBe(true);
          const ev = trainingTimeline(c, { stage: d.stage }).events;
          expect(rel(ev[0].bytes.total, ev[ev.length - 1].bytes.total)).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("sharding never increases per-device model-state bytes (higher ZeRO stage, more DP ranks)", () => {
    fc.assert(
      fc.property(configArb, (c) => {
        const base = computeTrainingMemory(c).devices;
        const z = c.zeroStage ?? 0;
        if (z < 3 && (c.pp ?? 1) === 1) {
          const up = computeTrainingMemory({ ...c, zeroStage: (z + 1) as 1 | 2 | 3 }).devices;
          up.forEach((d, i) => expect(states(d)).toBeLessThanOrEqual(states(base[i]) * (1 + 1e-12)));
        }
        const wider = computeTrainingMemory({ ...c, numGpus: (c.numGpus ?? 1) * 2 }).devices;
        wider.forEach((d, i) => expect(states(d)).toBeLessThanOrEqual(states(base[i]) * (1 + 1e-12)));
      }),
      { numRuns: 200 },
    );
  });

  it("checkpointing never increases activations", () => {
    fc.assert(
      fc.property(configArb, (c) => {
        const none = computeTrainingMemory({ ...c, activationCheckpointing: "none" }).devices;
        for (const mode of ["selective", "full", "every-k:2", "every-k:3", "every-k:8"] as const) {
          const r = computeTrainingMemory({ ...c, activationCheckpointing: mode }).devices;
          r.forEach((d, i) => expect(d.maxTerms.activations).toBeLessThanOrEqual(none[i].maxTerms.activations * (1 + 1e-12)));
        }
      }),
      { numRuns: 150 },
    );
  });

  it("ZeRO-3: per-device model states × DP = the unsharded total", () => {
    fc.assert(
      fc.property(configArb, fc.constantFrom(2, 4, 8), (c, dp) => {
        const flat = { ...c, tp: 1, pp: 1, numMicroBatches: 1, pipelineSchedule: "1f1b" as const, offloadOptimizer: false, offloadParams: false };
        const sharded = computeTrainingMemory({ ...flat, numGpus: dp, zeroStage: 3 }).devices[0];
        const whole = computeTrainingMemory({ ...flat, numGpus: 1, zeroStage: 0 }).devices[0];
        expect(rel(states(sharded) * dp, states(whole))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
