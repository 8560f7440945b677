import { describe, expect, it } from "vitest";
import { promptsOfReplica, rolloutRequests } from "../../sim/rl/rollout-requests.ts";

describe("rollout batch as serving requests", () => {
  it("G completions of a prompt share its hash ids; prompts do not", () => {
    // 3 prompts of 1,100 tokens → ceil(1100 / 512) = 3 chunks each: prompt 0 ids 0-2, prompt 1 ids 3-5, prompt 2 ids 6-8.
    const reqs = rolloutRequests({ numPrompts: 3, numGenerations: 4, promptLen: 1100, responseLen: 64, numReplicas: 1, replica: 0 });
    expect(reqs).toHaveLength(12);
    expect(reqs.every((r) => r.arrival === 0 && r.promptTokens === 1100 && r.outputTokens === 64)).toBe(true);
    expect(reqs.slice(0, 4).map((r) => r.hashIds)).toEqual([[0, 1, 2], [0, 1, 2], [0, 1, 2], [0, 1, 2]]);
    expect(reqs[4].hashIds).toEqual([3, 4, 5]);
    expect(reqs[11].hashIds).toEqual([6, 7, 8]);
  });
  it("replicas take whole groups round-robin", () => {
    expect(promptsOfReplica(10, 4, 0)).toEqual([0, 4, 8]);
    expect(promptsOfReplica(10, 4, 3)).toEqual([3, 7]);
    const r1 = rolloutRequests({ numPrompts: 10, numGenerations: 2, promptLen: 10, responseLen: 5, numReplicas: 4, replica: 1 });
    expect(r1.map((r) => r.hashIds![0])).toEqual([1, 1, 5, 5, 9, 9]);
  });
});
