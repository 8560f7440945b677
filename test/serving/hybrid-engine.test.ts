/**
 * The serving engine on sliding-window and hybrid models (kv-cache-coordinator.ts): block counts worked out by hand
 * from vLLM v0.10's SlidingWindowManager arithmetic, and the capacity the hybrid allocator gains over one full-length
 * block table per request (what the engine did before it modelled KV-cache groups).
 */
import { describe, expect, it } from "vitest";
import { resolveServingConfig, type ServingConfigInput } from "../../sim/serving/config.ts";
import { ServingEngine } from "../../sim/serving/engine.ts";
import { KVCacheCoordinator } from "../../sim/serving/kv-cache-coordinator.ts";
import { KVCacheManager } from "../../sim/serving/kv-cache-manager.ts";
import { resolveModel } from "../../sim/model/registry.ts";
import type { TraceRequest } from "../../sim/traces/types.ts";
import { synthesize } from "../../sim/traces/synth.ts";
import { GiB } from "../../sim/units.ts";

function run(input: ServingConfigInput, trace: TraceRequest[], each?: (e: ServingEngine) => void): ServingEngine {
  const engine = new ServingEngine(resolveServingConfig(input), { checkInvariants: true });
  engine.addRequests(trace);
  engine.endTrace();
  while (engine.step()) each?.(engine);
  return engine;
}

describe("Mistral-7B-v0.1 (every layer sliding, window 4096): one request far past its window", () => {
  it("holds the window's blocks, at most ⌈4096/16⌉ + 1 = 257 while decoding", () => {
    // One request, prompt 10,000 tokens in chunks of 2048, 300 output tokens; block 16. Before a step with c tokens
    // computed, remove_skipped_blocks frees the blocks before ⌊(c − 4096 + 1) / 16⌋, then the table grows to
    // ⌈(c + n) / 16⌉ blocks. Blocks held after each step:
    //   c=0     n=2048: nothing skipped,                       → 128
    //   c=2048  n=2048: ⌊−2047/16⌋ < 0, nothing                → 256
    //   c=4096  n=2048: ⌊1/16⌋ = 0, nothing                    → 384
    //   c=6144  n=2048: ⌊2049/16⌋ = 128 → blocks 0..127 freed  → 512 − 128 = 384
    //   c=8192  n=1808: ⌊4097/16⌋ = 256 → 128..255 freed       → 625 − 256 = 369 (the prompt is done: token 1)
    //   decode, c = 10000 + j: ⌈(c + 1)/16⌉ − ⌊(c − 4095)/16⌋ = 257, or 256 when c ≡ 15 (mod 16).
    const held: number[] = [];
    let cachedFree = 0;
    const engine = run(
      { model: "mistralai/Mistral-7B-v0.1", gpu: "H100-SXM-80GB", maxModelLen: 12000, maxNumBatchedTokens: 2048, stepTimeS: 1 },
      [{ arrival: 0, promptTokens: 10_000, outputTokens: 300 }],
      (e) => {
        const snap = e.snapshot();
        held.push(snap.numUsedBlocks);
        cachedFree = Math.max(cachedFree, snap.numCachedFreeBlocks);
        // the snapshot's three parts still add up to the KV budget, one block = one page of each of the 32 layers
        expect(snap.kvUsedBytes).toBe(snap.numUsedBlocks * e.budget.blockBytes);
        expect(snap.kvUsedBytes + snap.kvCachedFreeBytes + snap.kvFreeBytes).toBe(e.budget.kvCacheBytes);
      },
    );
    expect(engine.kvCacheManager).toBeInstanceOf(KVCacheCoordinator);
    expect(held.slice(0, 5)).toEqual([128, 256, 384, 384, 369]);
    // Decode steps j = 0..298 compute token 10000 + j and sample output tokens 2..300; the last one finishes the
    // request and frees everything.
    expect(held).toHaveLength(5 + 299);
    const decode = held.slice(5, 5 + 298);
    const expected = decode.map((_, j) => Math.ceil((10_000 + j + 1) / 16) - Math.floor((10_000 + j - 4095) / 16));
    expect(decode).toEqual(expected);
    expect(Math.max(...decode)).toBe(257);
    expect(held.at(-1)).toBe(0);
    // Dropped blocks stay in the prefix cache (cached-free). At the end the last step cached ⌊10,299/16⌋ = 643 full
    // blocks (positions 0..642; block 643 is partial): all 643 are cached-free once the request is freed.
    expect(cachedFree).toBe(643);
    expect(engine.summary().completed).toBe(1);
  });
});

describe("gpt-oss-120b (18 sliding layers, window 128, + 18 full): the hybrid allocator's capacity", () => {
  // 20 requests of 4096 prompt + 1000 output tokens, one arriving per 1-second step (each prompt is one chunk of the
  // 8192-token budget); 4114 blocks of 16 tokens (4113 usable). Nobody finishes within the first 1000 steps.
  //
  // New engine (group 0 sliding, group 1 full, one shared pool): admitting a request takes ⌈4096/16⌉ = 256 blocks in
  // each group (at admission nothing is computed, so nothing is skipped) = 512. On its first decode (c = 4096) the
  // sliding group frees the blocks before ⌊(4096 − 127)/16⌋ = 248, keeps 248..255 and grows to ⌈4097/16⌉ = 257
  // → 9 blocks; the full group holds 257: 266 per running request for its next 15 decodes. At step k the k running
  // requests decode first, then request k is admitted if 266·k + 512 ≤ 4113: k = 13 gives 3970 (yes), k = 14 gives
  // 4236 (no). Peak: 14 running; at step 14 the 14 decoding requests hold 14 × 266 = 3724 blocks.
  //
  // Old engine (one full-length table per request over ⌊4114/2⌋ = 2057 blocks, each block both groups' pages; the
  // same as a full-attention model on 2057 blocks): a running request holds ⌈4097/16⌉ = 257, an admission takes 256:
  // 257·k + 256 ≤ 2056 for k ≤ 7 → peak 8 running. 14 / 8 = 1.75× here; in steady state a request holds 266 blocks
  // against 2 × 257 = 514 pool blocks before, 1.93×.
  const trace: TraceRequest[] = Array.from({ length: 20 }, (_, i) => ({ arrival: i, promptTokens: 4096, outputTokens: 1000 }));
  const base: ServingConfigInput = {
    gpu: "H100-SXM-80GB", maxModelLen: 8192, maxNumBatchedTokens: 8192, maxNumSeqs: 64, stepTimeS: 1,
    kvCacheMemoryBytes: 64 * GiB, enablePrefixCaching: false,
  };

  it("runs 14 long requests at once on 4114 blocks", () => {
    const used: number[] = [];
    const engine = run({ ...base, model: "openai/gpt-oss-120b", numGpuBlocksOverride: 4114 }, trace, (e) => {
      if (e.now <= 20) used.push(e.snapshot().numUsedBlocks);
      if (e.kvCacheManager instanceof KVCacheCoordinator) e.kvCacheManager.checkInvariants(e.scheduler.running);
    });
    expect(engine.budget.kvCacheGroups).toBe(2);
    expect(engine.budget.engineNumBlocks).toBe(4114);
    expect(engine.summary().peakRunning).toBe(14);
    // after step 14 (t = 14 → 15): 14 requests × (257 full + 9 sliding), request 14 still waiting
    expect(used[14]).toBe(14 * 266);
    // after step 0: request 0 admitted with 256 + 256 blocks
    expect(used[0]).toBe(512);
  });

  it("the old accounting (a full-length table, half the blocks) runs 8", () => {
    const full = { ...resolveModel("openai/gpt-oss-120b"), slidingWindow: undefined, layerTypes: undefined };
    const engine = run({ ...base, model: full, numGpuBlocksOverride: 2057 }, trace);
    expect(engine.kvCacheManager).toBeInstanceOf(KVCacheManager);
    expect(engine.summary().peakRunning).toBe(8);
  });
});

describe("memory snapshots of a hybrid replay", () => {
  it("used + cached-free + free = the KV budget at every step (gemma-2-9b, preempting)", () => {
    let steps = 0;
    let sawCachedFree = false;
    const engine = run(
      {
        model: "google/gemma-2-9b", gpu: "H100-SXM-80GB", maxModelLen: 4096, maxNumBatchedTokens: 1024,
        maxNumSeqs: 32, kvCacheMemoryBytes: 2 * GiB, seed: 1,
      },
      synthesize({
        numRequests: 120, requestRate: 20, seed: 3, systemPromptTokens: 512, numSystemPrompts: 2,
        promptLen: { kind: "uniform", min: 100, max: 2500 }, outputLen: { kind: "uniform", min: 10, max: 600 },
      }),
      (e) => {
        const s = e.snapshot();
        steps++;
        sawCachedFree ||= s.numCachedFreeBlocks > 0;
        // 2 GiB / (16 tokens × 8 KV heads × 256 × 2 × 2 B × 21 layers per group) = 2 GiB / 2,752,512 B = 780 blocks
        expect(s.numUsedBlocks + s.numCachedFreeBlocks + s.numFreeBlocks).toBe(779);
        expect(s.kvUsedBytes + s.kvCachedFreeBytes + s.kvFreeBytes).toBe(2 * GiB);
        expect(s.kvCachedFreeBytes).toBe(s.numCachedFreeBlocks * 2_752_512);
      },
    );
    expect(engine.budget.numGpuBlocks).toBe(780);
    expect(engine.budget.blockBytes).toBe(2_752_512);
    expect(steps).toBeGreaterThan(100);
    expect(sawCachedFree).toBe(true);
    expect(engine.summary().preemptions).toBeGreaterThan(0);
  });
});

describe("the pool must hold one max_model_len request as the groups hold it", () => {
  const budgetOf = (input: ServingConfigInput) => new ServingEngine(resolveServingConfig(input)).budget;
  it("Mistral-7B (window 4096), L 16384, 2048-token steps: ⌈(4095 + 2048)/16⌉ + 1 = 385 blocks, plus the null block", () => {
    const m = { model: "mistralai/Mistral-7B-v0.1", gpu: "H100-SXM-80GB", maxModelLen: 16384, maxNumBatchedTokens: 2048 };
    expect(() => budgetOf({ ...m, numGpuBlocksOverride: 385 })).toThrow(/385 KV blocks cannot hold one 16384-token request \(385 blocks/);
    expect(budgetOf({ ...m, numGpuBlocksOverride: 386 }).engineNumBlocks).toBe(386);
  });
  it("gpt-oss-120b, L 8192: 512 full-attention blocks + min(512, ⌈(127 + 8192)/16⌉ + 1) sliding = 1024, plus the null block", () => {
    const m = { model: "openai/gpt-oss-120b", gpu: "H100-SXM-80GB", maxModelLen: 8192, maxNumBatchedTokens: 8192, kvCacheMemoryBytes: 64 * GiB };
    expect(() => budgetOf({ ...m, numGpuBlocksOverride: 1024 })).toThrow(/1024 blocks of 16 tokens over 2 KV-cache groups/);
    expect(budgetOf({ ...m, numGpuBlocksOverride: 1025 }).engineNumBlocks).toBe(1025);
  });
});

describe("a Gemma-3-style model (5 sliding layers per full one, window 512): six groups share the pool", () => {
  it("one 8000-token request holds 666 blocks on its first decode, where a full-length table per group held 3006", () => {
    // gemma-2-9b's shapes with Gemma-3's pattern: 42 layers, (S S S S S F) × 7 → 35 sliding + 7 full → groups of
    // 7 layers: 5 sliding groups, 1 full. Prompt 8000 in 2048-token chunks; blocks held after each step
    // (full + 5 × sliding; a sliding group frees the blocks before ⌊(c − 511)/16⌋ first):
    //   c=0:    128 + 5 × 128                                         = 768
    //   c=2048: 256 + 5 × (256 − ⌊1537/16⌋ = 256 − 96 = 160)            = 1056
    //   c=4096: 384 + 5 × (384 − ⌊3585/16⌋ = 384 − 224 = 160)           = 1184
    //   c=6144: 500 + 5 × (500 − ⌊5633/16⌋ = 500 − 352 = 148)           = 1240 (prompt done)
    //   c=8000: 501 + 5 × (501 − ⌊7489/16⌋ = 501 − 468 = 33)            = 666
    // One engine block per token block for all six groups (the old accounting) is 501 × 6 = 3006 pool blocks: 4.5×;
    // the ratio tends to 6 as the context grows past the window.
    const base = resolveModel("google/gemma-2-9b");
    const layerTypes = Array.from({ length: 42 }, (_, i) => (i % 6 === 5 ? "full_attention" : "sliding_attention"));
    const model = { ...base, name: "gemma-3-style", slidingWindow: 512, layerTypes };
    const held: number[] = [];
    const engine = run(
      { model, gpu: "H100-SXM-80GB", maxModelLen: 8192, maxNumBatchedTokens: 2048, stepTimeS: 1, kvCacheMemoryBytes: 8 * GiB },
      [{ arrival: 0, promptTokens: 8000, outputTokens: 10 }],
      (e) => {
        held.push(e.snapshot().numUsedBlocks);
        if (e.kvCacheManager instanceof KVCacheCoordinator) e.kvCacheManager.checkInvariants(e.scheduler.running);
      },
    );
    expect(engine.budget.kvCacheGroups).toBe(6);
    expect((engine.kvCacheManager as KVCacheCoordinator).groupSpecs.map((g) => g.kind)).toEqual([
      ...Array(5).fill("sliding_window"),
      "full_attention",
    ]);
    expect(held.slice(0, 5)).toEqual([768, 1056, 1184, 1240, 666]);
  });
});
