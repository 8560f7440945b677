import { describe, expect, it } from "vitest";
import { buildGroupTimeline, type GroupPlan } from "../../sim/rl/timeline.ts";
import type { MemorySnapshot } from "../../sim/serving/types.ts";

const snap = (kvUsedBytes: number, kvCachedFreeBytes: number, kvFreeBytes: number, numRunning: number): MemorySnapshot => ({
  t: 0, weightsBytes: 10, activationBytes: 2, nonTorchBytes: 1, kvUsedBytes, kvCachedFreeBytes, kvFreeBytes,
  numUsedBlocks: 0, numCachedFreeBlocks: 0, numFreeBlocks: 0, kvUsage: 0, numRunning, numWaiting: 0,
});

function plan(over: Partial<GroupPlan> = {}): GroupPlan {
  return {
    name: "all",
    trained: [{
      role: "policy",
      resident: { params: 10, optimizer: 20 },
      steps: [
        { label: "forward", bytes: { params: 10, optimizer: 20, activations: 50 } },
        { label: "backward", bytes: { params: 10, optimizer: 20, grads: 10, activations: 5 } },
      ],
      syncGatherBytes: 4,
      syncsToRollout: true,
    }],
    frozen: [{ role: "reference", weightsBytes: 5, forward: { activations: 3, logits: 7 }, label: "reference log-probs" }],
    rollout: { weightsBytes: 10, activationBytes: 2, nonTorchBytes: 1, kvCacheBytes: 30, snapshots: [snap(10, 0, 20, 2), snap(30, 0, 0, 2)] },
    buffer: { afterGenerate: 1, afterScore: 2 },
    sleepLevel: 2,
    offloadTrainStatesDuringRollout: false,
    offloadFrozenRoles: false,
    maxStepEvents: 100,
    online: true,
    ...over,
  };
}

describe("one colocated iteration, worked by hand", () => {
  it("sleep level 2: totals after every event", () => {
    // Start: policy 10 + 20, reference 5, engine asleep with synced weights 10 + non-torch 1 = 46.
    // wake KV: engine 10 + 2 + 1 + 30 = 43 → 78; two steps keep 78; buffer +1 → 79; sleep: engine 1 → 37;
    // reference forward 5 + 3 + 7 → 47, done → 37; buffer 2 → 38; policy forward 80 → 88; backward 45 → 53;
    // done 30 → 38; buffer released → 36; wake weights → 46; gather +4 → 50; synced → 46.
    const ev = buildGroupTimeline(plan());
    expect(ev.map((e) => e.total)).toEqual([78, 78, 78, 79, 37, 47, 37, 38, 88, 53, 38, 36, 46, 50, 46]);
    expect(ev.map((e) => e.phase)).toEqual([
      "generate", "generate", "generate", "generate", "generate", "score", "score", "score", "train", "train", "train", "train", "sync", "sync", "sync",
    ]);
    expect(ev[2].byComponent).toEqual({ params: 15, optimizer: 20, rolloutWeights: 10, rolloutActivations: 2, rolloutNonTorch: 1, kvUsed: 30 });
    expect(ev[8].byRole).toEqual({ policy: 80, reference: 5, "rollout-engine": 1, "rollout-buffer": 2 });
    expect(ev.at(-1)!.total).toBe(46); // steady state: the iteration ends where it began
  });
  it("sleep level 0 keeps the whole KV reservation through training", () => {
    const ev = buildGroupTimeline(plan({ sleepLevel: 0 }));
    // Engine always 43: policy forward 80 + reference 5 + engine 43 + buffer 2 = 130.
    expect(Math.max(...ev.map((e) => e.total))).toBe(130);
    expect(ev.some((e) => /sleeps/.test(e.label))).toBe(false);
  });
  it("offloading trainer states during rollout lowers the generate peak by their 30", () => {
    const ev = buildGroupTimeline(plan({ offloadTrainStatesDuringRollout: true }));
    const gen = ev.filter((e) => e.phase === "generate").map((e) => e.total);
    expect(Math.max(...gen)).toBe(49); // reference 5 + engine 43 + buffer 1
  });
  it("a frozen role offloaded to CPU holds nothing outside its forward", () => {
    const ev = buildGroupTimeline(plan({ offloadFrozenRoles: true }));
    expect(ev[0].byRole.reference).toBe(0);
    expect(ev.find((e) => e.label === "reference log-probs")!.byRole.reference).toBe(15);
  });
  it("engine steps beyond maxStepEvents are thinned, keeping the KV peak and the last step", () => {
    const snaps = Array.from({ length: 50 }, (_, i) => snap(i === 17 ? 30 : i % 30, 0, 30 - (i === 17 ? 30 : i % 30), 1));
    const ev = buildGroupTimeline(plan({ rollout: { weightsBytes: 10, activationBytes: 2, nonTorchBytes: 1, kvCacheBytes: 30, snapshots: snaps }, maxStepEvents: 10 }));
    const steps = ev.filter((e) => e.label.startsWith("engine step"));
    expect(steps.length).toBeLessThanOrEqual(12);
    expect(steps.some((e) => e.label.startsWith("engine step 18/50"))).toBe(true);
    expect(steps.at(-1)!.label.startsWith("engine step 50/50")).toBe(true);
  });
});
