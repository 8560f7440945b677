import { describe, expect, it } from "vitest";
import { productFigures, rlArticleRows, rlSeedRows } from "../../sim/seed/rl.ts";

describe("vramscope seed: the RL section", { timeout: 120_000 }, () => {
  const rows = rlSeedRows();
  const byItem = (prefix: string) => rows.find((r) => r.item.startsWith(prefix))!;

  it("reproduces the article's four budgets exactly from 165 GB and 14 GB", () => {
    // memory-anatomy.txt: PPO 165 + 14 + 165 + 14; DPO 165 + 14; GRPO 165; CAI 2 × 165 + k × 14.
    expect(byItem("PPO: actor").recomputed).toBe(358);
    expect(byItem("DPO: policy").recomputed).toBe(179);
    expect(byItem("GRPO with β = 0").recomputed).toBe(165);
    expect(byItem("Constitutional AI, k = 2").recomputed).toBe(358);
    expect(byItem("Constitutional AI, k = 5").recomputed).toBe(400);
    expect(byItem("PPO budget as a multiple").recomputed).toBe(2.17);
    expect(byItem("DPO budget as a multiple").recomputed).toBe(1.085);
  });
  it("flags only GRPO-with-KL as differing from the printed figure", () => {
    const article = rlArticleRows(null);
    expect(article.filter((r) => r.differs).map((r) => r.item)).toEqual(["GRPO as published (DeepSeekMath, KL coefficient β = 0.04)"]);
    expect(article.find((r) => r.item.startsWith("GRPO as published"))!.recomputed).toBe(179);
    expect(article.find((r) => r.item.startsWith("DPO with reference log-probs precomputed"))!.recomputed).toBe(165);
  });
  it("the product's figures: a frozen LLaMA-7B copy is 6,738,415,616 × 2 B", () => {
    const p = productFigures();
    expect(p.inferenceGB).toBe(13.476831232);
    // Every product row is the same role sum with the product's per-copy figures.
    const T = p.trainingGB;
    const I = p.inferenceGB;
    expect(byItem("PPO: actor").realModelValue).toBeCloseTo(2 * T + 2 * I, 1);
    expect(byItem("GRPO with β = 0").realModelValue).toBeCloseTo(T, 1);
    expect(byItem("Constitutional AI, k = 5").realModelValue).toBeCloseTo(2 * T + 5 * I, 1);
    expect(T).toBeGreaterThan(165); // 6.74B × 14 B = 94.3 GB of states + real activations: more than the article's 165
  });
  it("rows with the rollout engine counted come from full simulations", () => {
    const sim = rows.filter((r) => r.item.includes("rollout engine counted"));
    expect(sim.map((r) => r.item.split(",")[0])).toEqual(["PPO", "GRPO β = 0", "GRPO β = 0.04", "DPO"]);
    for (const r of sim) expect(r.realModelValue).toBeGreaterThan(0);
    expect(sim[1].note).toMatch(/preemptions/);
    expect(sim.every((r) => r.section === "rl" && r.unit === "GB")).toBe(true);
  });
});
