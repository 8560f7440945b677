import { describe, expect, it } from "vitest";
import { UserError } from "../../sim/errors.ts";
import { resolveModel } from "../../sim/model/registry.ts";
import { computeTrainingMemory } from "../../sim/training/index.ts";
import type { TrainingConfig } from "../../sim/training/types.ts";

const model = resolveModel("meta-llama/Llama-2-7b-hf"); // 32 heads, 32 layers

function fieldOf(c: TrainingConfig): string | undefined {
  try {
    computeTrainingMemory(c);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).field;
  }
  return undefined;
}

describe("bad layouts name the flag", () => {
  it("TP not dividing the heads → --tp", () => expect(fieldOf({ model, numGpus: 3, tp: 3 })).toBe("--tp"));
  it("more stages than layers → --pp", () => expect(fieldOf({ model, numGpus: 33, pp: 33 })).toBe("--pp"));
  it("zero GPUs → --gpus", () => expect(fieldOf({ model, numGpus: 0 })).toBe("--gpus"));
  it("fewer micro-batches than stages → --micro-batches", () =>
    expect(fieldOf({ model, numGpus: 4, pp: 4, numMicroBatches: 2 })).toBe("--micro-batches"));
  it("GPUs not divisible by tp·pp → --gpus", () => expect(fieldOf({ model, numGpus: 6, tp: 4 })).toBe("--gpus"));
  it("ZeRO-3 with pipeline parallelism → --zero-stage", () =>
    expect(fieldOf({ model, numGpus: 4, pp: 2, zeroStage: 3 })).toBe("--zero-stage"));
  it("parameter offload without ZeRO-3 → --offload-params", () =>
    expect(fieldOf({ model, numGpus: 2, zeroStage: 2, offloadParams: true })).toBe("--offload-params"));
  it("an unknown checkpointing mode → --activation-checkpointing", () =>
    expect(fieldOf({ model, activationCheckpointing: "every-k:0" as "none" })).toBe("--activation-checkpointing"));
  it("neither model nor parameter count → --model", () => expect(fieldOf({})).toBe("--model"));
  it("a valid layout passes", () => expect(fieldOf({ model, numGpus: 16, tp: 2, pp: 2, numMicroBatches: 4 })).toBeUndefined());
});
