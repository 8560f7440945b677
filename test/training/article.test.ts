import { describe, expect, it } from "vitest";
import { computeTrainingMemory } from "../../sim/training/index.ts";
import { trainingSeedRows } from "../../sim/seed/training.ts";
import { STATES_ONLY } from "./helpers.ts";

/** The article (memory-anatomy.txt): "7B" parameters, bf16 weights 2 B, fp32 gradients 4 B, Adam 8 B (its notes 3, 4). */
describe("the article's training figures", () => {
  it("14 / 28 / 56 GB on one GPU (--precision article)", () => {
    const d = computeTrainingMemory({ numParams: 7e9, precision: "article", ...STATES_ONLY }).devices[0];
    expect(d.paramsBytes).toBe(14e9);
    expect(d.gradsBytes).toBe(28e9);
    expect(d.optimizerBytes).toBe(56e9);
    expect(d.masterWeightsBytes).toBe(0);
    expect(d.peakBytes).toBe(98e9);
  });
  it("FSDP over 8: 1.75 + 3.5 + 7 = 12.25 GB per device", () => {
    const d = computeTrainingMemory({ numParams: 7e9, precision: "article", numGpus: 8, zeroStage: 3, ...STATES_ONLY }).devices[0];
    expect(d.paramsBytes).toBe(1.75e9);
    expect(d.gradsBytes).toBe(3.5e9);
    expect(d.optimizerBytes).toBe(7e9);
    expect(d.peakBytes).toBe(12.25e9);
  });
  it("PP or TP over 4: 98/4 = 24.5 GB of model state per device", () => {
    for (const layout of [{ pp: 4 }, { tp: 4 }]) {
      const r = computeTrainingMemory({ numParams: 7e9, precision: "article", numGpus: 4, ...layout, ...STATES_ONLY });
      for (const d of r.devices) expect(d.paramsBytes + d.gradsBytes + d.optimizerBytes).toBe(24.5e9);
    }
  });
  it("presets: zero 16, hf-mixed 18, fp32 16, article 14 B/param", () => {
    const bpp = (precision: "zero" | "hf-mixed" | "fp32" | "article") => computeTrainingMemory({ numParams: 1e9, precision }).bytesPerParam.total;
    expect([bpp("article"), bpp("zero"), bpp("hf-mixed"), bpp("fp32")]).toEqual([14, 16, 18, 16]);
  });
  it("8-bit Adam: 2 B/param of state (+ fp32 absmax per 256-element block); SGD none; momentum 4", () => {
    const opt = (optimizer: "adam-8bit" | "sgd" | "sgd-momentum" | "lion") =>
      computeTrainingMemory({ numParams: 1e9, optimizer, ...STATES_ONLY }).devices[0].optimizerBytes;
    expect(opt("adam-8bit")).toBe(1e9 * (2 + 8 / 256));
    expect(opt("sgd")).toBe(0);
    expect(opt("sgd-momentum")).toBe(4e9);
    expect(opt("lion")).toBe(4e9);
  });
});

describe("seed rows (vramscope seed, training section)", () => {
  const rows = trainingSeedRows();
  const find = (s: string) => rows.find((r) => r.item.includes(s))!;
  it("recomputes each figure from the article's own inputs", () => {
    expect(find("activations, 8 × 2048").recomputed).toBeCloseTo(34.359738368, 9); // 8·2048·4096·32·2·8 B
    expect(find("activations, 8 × 2048").differs).toBe(true);
    expect(find("total training memory").recomputed).toBeCloseTo(132.359738368, 9);
    expect(find("Korthikanti").recomputed).toBeCloseTo(244.813135872, 9); // 2048·8·4096·114·32
    expect(find("2K → 4K").recomputed).toBeCloseTo(2 * (34 + 160) / 114, 12); // ×3.40
    expect(find("FSDP over 8: parameters").differs).toBe(false);
    expect(find("FSDP over 8: model states").recomputed).toBe(12.25);
    expect(find("LLaMA-7B parameters").realModelValue).toBeCloseTo(13.476831232, 9); // 6,738,415,616 × 2
  });
  it("every row names its section and explains itself", () => {
    for (const r of rows) {
      expect(["training", "parallelism"]).toContain(r.section);
      expect(r.note.length).toBeGreaterThan(10);
    }
  });
});
