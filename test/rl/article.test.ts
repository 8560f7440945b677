import { describe, expect, it } from "vitest";
import { articleBudget } from "../../sim/rl/article.ts";
import { DEFAULT_ALGORITHM_OPTIONS, modelRoles, parseAlgorithm } from "../../sim/rl/algorithms.ts";
import { isUserError } from "../../sim/errors.ts";

const opts = DEFAULT_ALGORITHM_OPTIONS;

// memory-anatomy.txt, "The Special Case of Reinforcement Learning": 165 GB per trained copy, 14 GB per frozen copy.
describe("the article's RL budgets from its own inputs", () => {
  it("PPO = 165 + 14 + 165 + 14 = 358 GB (printed ~360, 2.2×)", () => {
    const b = articleBudget("ppo", opts);
    expect(b.terms.map((t) => [t.role, t.gb])).toEqual([["actor", 165], ["reference", 14], ["critic", 165], ["reward", 14]]);
    expect(b.totalGB).toBe(358);
    expect(b.multipleOfTraining.toFixed(1)).toBe("2.2"); // 358 / 165 = 2.1697
  });
  it("DPO = 165 + 14 = 179 GB (printed ~180, 1.1×); precomputed reference log-probs leave 165", () => {
    expect(articleBudget("dpo", opts).totalGB).toBe(179);
    expect(articleBudget("dpo", opts).multipleOfTraining.toFixed(1)).toBe("1.1"); // 179 / 165 = 1.085
    const pre = articleBudget("dpo", { ...opts, precomputeRefLogProbs: true });
    expect(pre.totalGB).toBe(165);
    expect(pre.terms.map((t) => t.role)).toEqual(["policy"]);
  });
  it("GRPO is 165 GB only with β = 0; the published KL term (β = 0.04, DeepSeekMath) adds the 14 GB reference", () => {
    const b0 = articleBudget("grpo", { ...opts, beta: 0 });
    expect(b0.totalGB).toBe(165);
    expect(b0.terms.map((t) => t.role)).toEqual(["policy"]);
    const b4 = articleBudget("grpo", { ...opts, beta: 0.04 });
    expect(b4.totalGB).toBe(179);
    expect(b4.terms.map((t) => t.role)).toEqual(["policy", "reference"]);
  });
  it("Constitutional AI = 2 × 165 + k × 14: k = 2 → 358, k = 5 → 400 (the printed 350-400 range)", () => {
    expect(articleBudget("cai", { ...opts, numCritics: 2 }).totalGB).toBe(358);
    expect(articleBudget("cai", { ...opts, numCritics: 5 }).totalGB).toBe(400);
    const shared = articleBudget("cai", { ...opts, numCritics: 3, revision: "shared" });
    expect(shared.totalGB).toBe(165 + 3 * 14);
    expect(shared.terms.map((t) => t.role)).toEqual(["generator", "critic-1", "critic-2", "critic-3"]);
  });
});

describe("algorithm definitions", () => {
  it("unknown algorithm is a UserError naming --algo with a suggestion", () => {
    let err: unknown;
    try {
      parseAlgorithm("grpoo");
    } catch (e) {
      err = e;
    }
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toMatch(/^--algo: unknown algorithm "grpoo".*did you mean grpo/);
  });
  it("accepts any case", () => {
    expect(parseAlgorithm("PPO")).toBe("ppo");
  });
  it("CAI needs at least one critic", () => {
    expect(() => modelRoles("cai", { ...opts, numCritics: 0 })).toThrow(/--num-critics/);
  });
});
