import { describe, expect, it } from "vitest";
import { resolveModel } from "../../sim/model/registry.ts";
import { computeTrainingMemory, pipelineOps, trainingTimeline, trainingTimelines } from "../../sim/training/index.ts";
import type { TrainingConfig } from "../../sim/training/types.ts";
import { STATES_ONLY } from "./helpers.ts";

const llama = resolveModel("meta-llama/Llama-2-7b-hf");

describe("step timeline", () => {
  it("FSDP: every layer is gathered and freed in forward and backward; the step ends where it started", () => {
    const c: TrainingConfig = { model: llama, numGpus: 8, zeroStage: 3, seqLen: 1024, fsdpUnitsInFlight: 1, ...STATES_ONLY };
    const { events } = trainingTimeline(c);
    const gathers = events.filter((e) => e.label.startsWith("all-gather layer"));
    expect(gathers.length).toBe(2 * 32); // forward + backward, 32 layers
    // One Llama-2-7B layer in bf16: 202,383,360 params × 2 B on top of the root unit (embeddings + head + final norm).
    const g0 = gathers[0];
    const before = events[g0.t - 1];
    expect(g0.bytes.overhead - before.bytes.overhead).toBe(202_383_360 * 2);
    expect(events[0].bytes).toEqual(events[events.length - 1].bytes);
  });

  it("forward piles up one layer's activations per layer; backward frees them", () => {
    const c: TrainingConfig = { model: llama, seqLen: 2048, ...STATES_ONLY };
    const { events } = trainingTimeline(c);
    const fwd = events.filter((e) => e.phase === "forward" && e.layer !== undefined);
    // Per layer, bf16, s = 2048, b = 1 (see activations.test.ts): 314,834,944 B.
    for (let i = 1; i < fwd.length; i++) expect(fwd[i].bytes.activations - fwd[i - 1].bytes.activations).toBe(314_834_944);
    const last = events.filter((e) => e.phase === "backward").at(-1)!;
    expect(last.bytes.activations).toBe(0);
  });

  it("the logits spike happens once per micro-batch, at the loss, with all activations held", () => {
    const c: TrainingConfig = { model: resolveModel("meta-llama/Meta-Llama-3-8B"), seqLen: 8192, numMicroBatches: 2, ...STATES_ONLY };
    const { events, peakIndex } = trainingTimeline(c);
    const spikes = events.filter((e) => e.label.startsWith("loss backward"));
    expect(spikes.map((e) => e.microBatch)).toEqual([1, 2]);
    // logits 2NV + backward 14NV, N = 8192, V = 128256.
    expect(spikes[0].bytes.logits).toBe(16 * 8192 * 128256);
    expect(events[peakIndex].phase).toBe("loss");
    // Gradient accumulation: the second micro-batch's spike also carries the first one's gradients.
    expect(spikes[0].bytes.grads).toBe(0);
    expect(spikes[1].bytes.grads).toBe(2 * 8_030_261_248); // zero preset: bf16 gradients
  });

  it("full checkpointing recomputes each layer in backward", () => {
    const { events } = trainingTimeline({ model: llama, seqLen: 1024, activationCheckpointing: "full", ...STATES_ONLY });
    expect(events.filter((e) => e.label.startsWith("recompute layer")).length).toBe(32);
    const every4 = trainingTimeline({ model: llama, seqLen: 1024, activationCheckpointing: "every-k:4", ...STATES_ONLY }).events;
    expect(every4.filter((e) => e.label.startsWith("recompute layers")).map((e) => e.label)).toContain("recompute layers 28–31");
  });

  it("1F1B: stage i runs p − i − 1 warm-up forwards, then alternates, then drains", () => {
    const ops = pipelineOps(4, 1, 6, 1).map((o) => `${o.kind}${o.microBatch + 1}`);
    expect(ops).toEqual(["F1", "F2", "F3", "B1", "F4", "B2", "F5", "B3", "F6", "B4", "B5", "B6"]);
    const last = pipelineOps(4, 1, 6, 3).map((o) => `${o.kind}${o.microBatch + 1}`);
    expect(last.slice(0, 4)).toEqual(["F1", "B1", "F2", "B2"]);
  });

  it("the timeline of each stage peaks where the accounting says", () => {
    const c: TrainingConfig = { model: llama, numGpus: 8, pp: 4, numMicroBatches: 8, seqLen: 2048, microBatchSize: 2 };
    const r = computeTrainingMemory(c);
    for (const d of r.devices) expect(trainingTimeline(c, { stage: d.stage }).peakBytes).toBeCloseTo(d.peakBytes, 3);
    expect(trainingTimeline(c).stage).toBe(r.peakDevice);
    expect(trainingTimelines(c).map((t) => t.peakBytes)).toEqual(r.devices.map((d) => trainingTimeline(c, { stage: d.stage }).peakBytes));
  });
});
