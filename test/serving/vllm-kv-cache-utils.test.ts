/**
 * Peer suite: vLLM's `tests/v1/core/test_kv_cache_utils.py` (read at vllm-project/vllm 002f10e, 2026 main) ported to
 * the simulator's FreeKVCacheBlockQueue / BlockPool, block hashing (block-hash.ts) and startup arithmetic (budget.ts).
 * Block ids are vLLM's own; the model shapes are upstream's `new_kv_cache_spec()` (block 16, 2 KV heads, head 64,
 * float32: page = 2 × 16 × 2 × 64 × 4 = 16,384 B per layer) and the Qwen1.5-7B figures its tests use.
 *
 * Ported (upstream test → test here):
 *   test_kv_cache_block                               → "test_kv_cache_block" (ref count and hash life cycle in a pool)
 *   test_free_kv_cache_block_queue_initialization     → same name
 *   test_free_kv_cache_block_queue_operations         → same name
 *   test_free_kv_cache_block_queue_append_n           → same name (the corrupted-pointer assertion is skipped)
 *   test_free_kv_cache_block_queue_prepend_n          → same name, and through BlockPool.freeBlocks ("split" order)
 *   test_free_kv_cache_block_queue_popleft_n          → same name, through BlockPool.getNewBlocks
 *   test_free_kv_cache_block_queue_get_all_free_blocks → same name
 *   test_hash_block_tokens, test_hash_request_tokens_no_mm_inputs, test_request_block_hasher → "block hashes chain"
 *   test_hash_tokens_different_mm_input               → "different first-block identity changes every later hash"
 *   (the project's token-identity rule, README "Token identity without token ids") → "token identity" tests
 *   test_get_kv_cache_config_one_worker               → "num_blocks from available memory" (full, sliding, hybrid
 *                                                        1+1 / 2+4 / 3+7 layers, num_gpu_blocks_override)
 *   test_get_max_concurrency_for_kv_cache_config      → same name
 *   test_estimate_max_model_len                       → same name
 *   test_check_enough_kv_cache_memory_reserves_null_block, test_kv_cache_reserves_null_block_for_max_model_len,
 *   test_check_enough_kv_cache_memory_respects_num_gpu_blocks_override → "null block reserved" tests
 *
 * Skipped:
 *   test_none_hash*, test_get_none_hash_seed_* — hash seeds (the simulator's hashes are deterministic integers)
 *   test_generate_block_hash_extra_keys*, test_request_block_hasher_with_prompt_embeds,
 *   test_request_with_prompt_embeds_and_mm_inputs     — multimodal / LoRA / cache_salt / prompt-embeds extra keys
 *   test_kv_cache_block_uses_slots                    — Python object layout
 *   test_metrics, test_metrics_empty_stats            — CachingMetrics' sliding window over the last N requests
 *                                                        (the simulator reports the whole run's hit rate)
 *   test_get_kv_cache_configs_multiple_workers, test_get_kv_cache_configs_pp_sharding,
 *   test_project_kv_cache_groups_to_worker            — per-worker specs (TP min over ranks, PP); ranks are symmetric
 *   test_get_kv_cache_config_one_worker: disable_hybrid_kv_cache_manager case, the 6 full + 5 sliding case (a 2026
 *     grouping rule; mid-2025 vLLM groups by the smaller layer count, as the simulator does), UniformTypeKVCacheSpecs,
 *     padded pages — not modelled
 *   test_allocate_with_lookahead                      — speculative-decoding lookahead slots
 *   test_auto_fit_max_model_len*                      — max_model_len = −1
 *   test_merge_*, test_is_kv_cache_spec_uniform, test_generate_uniform_type_*, test_generate_scheduler_kv_cache_config,
 *   test_unify_*, test_page_size_padded_wins, test_unpadded_page_size_*, hisparse / mamba / GLM-5 / DeepSeek-V4 /
 *   DFlash / hidden-state / DCP / draft-group / resolve_block_hashes tests — KV-cache spec merging and grouping
 *   internals, Mamba, sparse attention, decode context parallelism, speculative decoding
 *   test_kv_cache_config_selects_*, test_kv_cache_blocks_selects_requested_groups, test_effective_attention_block_
 *     size_matches_events — KV connectors / events / groups
 */
import { describe, expect, it } from "vitest";
import type { ModelSpec } from "../../sim/model/types.ts";
import { blockHash, BlockHashChain, type TokenIdentity } from "../../sim/serving/block-hash.ts";
import { BlockPool, FreeKVCacheBlockQueue } from "../../sim/serving/block-pool.ts";
import { computeKvBudget } from "../../sim/serving/budget.ts";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { KVCacheManager } from "../../sim/serving/kv-cache-manager.ts";
import { GiB } from "../../sim/units.ts";
import { makeRequest } from "./helpers.ts";
import { userErrorOf } from "../user-error.ts";

/** A queue holding `order` (head first), built with appends. */
function queueOf(capacity: number, order: number[]): FreeKVCacheBlockQueue {
  const q = new FreeKVCacheBlockQueue(capacity);
  for (const b of order) q.append(b);
  return q;
}

describe("FreeKVCacheBlockQueue", () => {
  it("test_free_kv_cache_block_queue_initialization: one block is both head and tail", () => {
    const q = queueOf(1, [0]);
    expect(q.numFreeBlocks).toBe(1);
    expect(q.peekHead()).toBe(0);
    expect(q.toArray()).toEqual([0]);
  });

  it("test_free_kv_cache_block_queue_operations: popleft, remove from the middle, append, empty", () => {
    const q = queueOf(5, [0, 1, 2, 3, 4]);
    expect(q.numFreeBlocks).toBe(5);
    expect([q.peekHead(), q.toArray().at(-1)]).toEqual([0, 4]);
    expect(q.popleft()).toBe(0);
    expect(q.numFreeBlocks).toBe(4);
    expect([q.peekHead(), q.toArray().at(-1)]).toEqual([1, 4]);
    q.remove(2);
    expect(q.numFreeBlocks).toBe(3);
    expect(q.toArray()).toEqual([1, 3, 4]); // 1 now links to 3
    q.append(2);
    expect(q.numFreeBlocks).toBe(4);
    expect(q.toArray()).toEqual([1, 3, 4, 2]); // 2 is the tail, after 4
    for (let i = 0; i < 4; i++) q.popleft();
    expect(q.numFreeBlocks).toBe(0);
    expect(q.peekHead()).toBe(-1);
    expect(q.toArray()).toEqual([]);
    expect(() => q.popleft()).toThrow(/empty/);
  });

  it("test_free_kv_cache_block_queue_append_n: appends keep their order at the tail", () => {
    const q = new FreeKVCacheBlockQueue(6);
    expect(q.toArray()).toEqual([]);
    q.append(0);
    expect(q.toArray()).toEqual([0]);
    for (const b of [4, 5]) q.append(b);
    expect(q.toArray()).toEqual([0, 4, 5]);
    for (const b of [1, 2, 3]) q.append(b);
    expect(q.toArray()).toEqual([0, 4, 5, 1, 2, 3]);
    expect(q.numFreeBlocks).toBe(6);
  });

  it("test_free_kv_cache_block_queue_prepend_n: a prepended run lands ahead of the head, in order", () => {
    // prepend_n(xs) = prepend each of xs from the last to the first.
    const prependN = (q: FreeKVCacheBlockQueue, xs: number[]) => [...xs].reverse().forEach((b) => q.prepend(b));
    const q = queueOf(6, [0]);
    prependN(q, []);
    expect(q.toArray()).toEqual([0]);
    prependN(q, [4, 5]);
    expect(q.toArray()).toEqual([4, 5, 0]);
    prependN(q, [1, 2]);
    expect(q.numFreeBlocks).toBe(5);
    expect([1, 2, 3, 4, 5].map(() => q.popleft())).toEqual([1, 2, 4, 5, 0]);
    expect(q.numFreeBlocks).toBe(0);
  });

  it("test_free_kv_cache_block_queue_get_all_free_blocks", () => {
    const q = queueOf(5, [0, 1, 2, 3, 4]);
    expect(q.toArray()).toEqual([0, 1, 2, 3, 4]);
    q.popleft();
    expect(q.toArray()).toEqual([1, 2, 3, 4]);
    q.remove(2);
    expect(q.toArray()).toEqual([1, 3, 4]);
    q.append(2);
    expect(q.toArray()).toEqual([1, 3, 4, 2]);
  });
});

describe("BlockPool free and pop order", () => {
  it("test_free_kv_cache_block_queue_popleft_n: getNewBlocks pops runs from the head", () => {
    const pool = new BlockPool(7, true); // blocks 1..6 usable
    pool.getNewBlocks(6);
    pool.freeBlocks([2, 4, 6, 5, 1, 3]);
    expect(pool.freeBlockQueue.toArray()).toEqual([2, 4, 6, 5, 1, 3]);
    expect(pool.getNewBlocks(0)).toEqual([]);
    expect(pool.getNumFreeBlocks()).toBe(6);
    expect(pool.getNewBlocks(1)).toEqual([2]);
    expect(pool.getNumFreeBlocks()).toBe(5);
    expect(pool.getNewBlocks(2)).toEqual([4, 6]);
    expect(pool.getNewBlocks(3)).toEqual([5, 1, 3]);
    expect(pool.getNumFreeBlocks()).toBe(0);
    for (const b of [1, 2, 3, 4, 5, 6]) expect(pool.refCnt[b]).toBe(1);
    expect(() => pool.getNewBlocks(1)).toThrow();
  });

  // The same frees under both orders: block 5 carries a hash, the others do not.
  // append (vLLM 2025): every freed block joins the tail → [5, 2, 3, 6, 1].
  // split (vLLM main, BlockPool.free_blocks prepend_n/append_n): hash-less runs go to the head in their own order,
  //   hashed ones to the tail → free([5]) [5]; free([2,3]) [2,3,5]; free([6,1]) [6,1,2,3,5].
  const expected = { append: [5, 2, 3, 6, 1], split: [6, 1, 2, 3, 5] } as const;
  for (const order of ["append", "split"] as const) {
    it(`free_blocks, ${order}: the free queue is ${expected[order].join(",")}`, () => {
      const pool = new BlockPool(7, true, order);
      pool.getNewBlocks(6);
      pool.cacheBlock(5, 4242);
      pool.freeBlocks([5]);
      pool.freeBlocks([2, 3]);
      pool.freeBlocks([6, 1]);
      expect(pool.freeBlockQueue.toArray()).toEqual(expected[order]);
      expect(pool.getNewBlocks(5)).toEqual(expected[order]);
      pool.checkInvariants();
    });
  }

  it("test_kv_cache_block: ref count and hash over a block's life", () => {
    const pool = new BlockPool(2, true);
    expect([pool.refCnt[1], pool.blockHash[1] >= 0]).toEqual([0, false]);
    expect(pool.getNewBlocks(1)).toEqual([1]);
    expect(pool.refCnt[1]).toBe(1);
    pool.cacheBlock(1, 77);
    expect(pool.blockHash[1]).toBe(77);
    pool.freeBlocks([1]);
    expect(pool.refCnt[1]).toBe(0);
    expect(pool.blockHash[1]).toBe(77); // kept while free: lazy eviction
    pool.touch([1]); // a prefix hit takes it back
    expect(pool.refCnt[1]).toBe(1);
    pool.freeBlocks([1]);
    pool.getNewBlocks(1); // reallocation resets the hash
    expect(pool.blockHash[1] >= 0).toBe(false);
  });
});

describe("block hashes", () => {
  const id = (uid: number, promptTokens: number, hashIds?: number[], hashBlockTokens?: number): TokenIdentity => ({
    uid,
    promptTokens,
    hashIds,
    hashBlockTokens,
  });

  it("chain: block k's hash is H(hash of block k−1, block k's tokens); equal tokens give equal hashes", () => {
    // test_hash_request_tokens_no_mm_inputs: 6 tokens, block size 3 → 2 block hashes.
    const a = new BlockHashChain(id(0, 6, [7, 8], 3), 3);
    const b = new BlockHashChain(id(1, 6, [7, 8], 3), 3); // another request, same tokens
    expect(blockHash(a.get(0), id(0, 6, [7, 8], 3), 1, 3)).toBe(a.get(1));
    expect([b.get(0), b.get(1)]).toEqual([a.get(0), a.get(1)]);
    expect(a.get(0)).not.toBe(a.get(1));
    // Only full blocks are hashed: a 6-token prompt in 3-token blocks caches 2 blocks, a 5-token one 1.
    for (const [n, cached] of [
      [6, 2],
      [5, 1],
    ]) {
      const kv = new KVCacheManager(10, 3, 8192, true);
      const r = makeRequest(0, { promptTokens: n, hashIds: [7, 8] }, 3);
      kv.allocateSlots(r, n);
      expect(kv.blockPool.numCachedBlocks).toBe(cached);
    }
  });

  it("different first-block identity changes every later hash (test_hash_tokens_different_mm_input)", () => {
    const a = new BlockHashChain(id(0, 6, [1, 2], 3), 3);
    const b = new BlockHashChain(id(1, 6, [3, 2], 3), 3);
    expect(a.get(0)).not.toBe(b.get(0));
    expect(a.get(1)).not.toBe(b.get(1)); // same tokens, different parent
  });

  it("token identity: Mooncake 512-token chunks share exactly as far as the hash ids agree, in whole blocks", () => {
    // Prompt token j = (hashIds[⌊j/512⌋], j mod 512). Two 1200-token prompts agreeing on the first chunk only share
    // its 512/16 = 32 blocks; blocks 32.. differ; tokens past the 2 chunks (1024..1199) are unique per request.
    const a = new BlockHashChain(id(0, 1200, [5, 6]), 16);
    const b = new BlockHashChain(id(1, 1200, [5, 9]), 16);
    const c = new BlockHashChain(id(2, 1200, [5, 6]), 16);
    for (let k = 0; k < 32; k++) expect(b.get(k)).toBe(a.get(k));
    expect(b.get(32)).not.toBe(a.get(32));
    for (let k = 0; k < 64; k++) expect(c.get(k)).toBe(a.get(k)); // 1024 / 16 = 64 shared blocks
    expect(c.get(64)).not.toBe(a.get(64)); // tokens 1024..1039 are past the chunks: unique
  });

  it("token identity: a block straddling two chunks is shared only when both chunks agree", () => {
    // 24-token chunks, 16-token blocks: block 1 = chunk 0 tokens 16..23 + chunk 1 tokens 0..7.
    const a = new BlockHashChain(id(0, 48, [1, 2], 24), 16);
    const b = new BlockHashChain(id(1, 48, [1, 3], 24), 16);
    const c = new BlockHashChain(id(2, 48, [1, 2], 24), 16);
    expect(b.get(0)).toBe(a.get(0));
    expect(b.get(1)).not.toBe(a.get(1));
    expect([c.get(0), c.get(1), c.get(2)]).toEqual([a.get(0), a.get(1), a.get(2)]);
  });

  it("token identity: blocks holding generated tokens are unique to their request", () => {
    // Identical 16-token prompts; block 1 holds generated tokens 16..31 only.
    const a = new BlockHashChain(id(0, 16, [4]), 16);
    const b = new BlockHashChain(id(1, 16, [4]), 16);
    expect(b.get(0)).toBe(a.get(0));
    expect(b.get(1)).not.toBe(a.get(1));
  });
});

/** A decoder with upstream's `new_kv_cache_spec()` per layer: 2 KV heads × head 64; float32 KV. */
function tinyModel(layerTypes: ("full_attention" | "sliding_attention")[], slidingWindow = 1): ModelSpec {
  const sliding = layerTypes.includes("sliding_attention");
  return {
    name: "tiny",
    modelType: "llama",
    hiddenSize: 128,
    numLayers: layerTypes.length,
    numAttentionHeads: 2,
    numKvHeads: 2,
    headDim: 64,
    intermediateSize: 256,
    vocabSize: 1000,
    maxPositionEmbeddings: 32768,
    tieWordEmbeddings: false,
    gatedMlp: true,
    hiddenAct: "silu",
    qkvBias: false,
    linearBias: false,
    normType: "rmsnorm",
    positionEmbeddings: 0,
    dropout: 0,
    torchDtype: "float32",
    ...(sliding ? { slidingWindow, layerTypes } : {}),
  };
}

/** Qwen1.5-7B's KV shapes as upstream's concurrency/estimate tests give them: 32 layers × 32 KV heads × 128, fp16. */
function qwenLike(layerTypes: ("full_attention" | "sliding_attention")[], slidingWindow = 1024): ModelSpec {
  return {
    ...tinyModel(layerTypes, slidingWindow),
    name: "qwen1.5-7b-like",
    hiddenSize: 4096,
    numAttentionHeads: 32,
    numKvHeads: 32,
    headDim: 128,
    torchDtype: "float16",
  };
}

const PAGE = 2 * 16 * 2 * 64 * 4; // 16,384 B: upstream mem_per_block_per_layer
const full = (n: number) => Array<"full_attention">(n).fill("full_attention");
const slide = (n: number) => Array<"sliding_attention">(n).fill("sliding_attention");

function budget(model: ModelSpec, over: Record<string, unknown>) {
  return computeKvBudget(
    resolveServingConfig({ model, dtype: model.torchDtype as "float32", kvCacheDtype: "auto", blockSize: 16, ...over }),
  );
}

const userErrorMessage = (f: () => unknown): string => userErrorOf(f).message;

describe("test_get_kv_cache_config_one_worker: num_blocks = available // page // layers per group", () => {
  const cases: [string, ("full_attention" | "sliding_attention")[], number, number, number][] = [
    // name, layers, available memory in pages, num_blocks (vLLM), KV-cache groups
    ["2 full layers, memory for 2 × 32 pages → 32 blocks", full(2), 2 * 32, 32, 1],
    ["2 sliding layers → one group → 32 blocks", slide(2), 2 * 32, 32, 1],
    ["1 full + 1 sliding (hybrid allocator): groups of 1 layer → 64 blocks", [...full(1), ...slide(1)], 2 * 32, 64, 2],
    ["2 full + 4 sliding: groups of 2 layers (1 full, 2 sliding) → 32 blocks", [...full(2), ...slide(4)], 2 * 32, 32, 3],
    ["3 full + 7 sliding, padded to 3 + 9: groups of 3 → 32 blocks", [...full(3), ...slide(7)], 3 * 32, 32, 4],
  ];
  for (const [name, layers, pages, numBlocks, groups] of cases)
    it(name, () => {
      const b = budget(tinyModel(layers), { maxModelLen: 16, kvCacheMemoryBytes: pages * PAGE });
      expect(b.pageBytesPerLayer).toBe(PAGE);
      expect(b.numGpuBlocks).toBe(numBlocks);
      expect(b.kvCacheGroups).toBe(groups);
      // the engine models the groups (one shared pool, a block table per group), so it simulates every block
      expect(b.engineNumBlocks).toBe(numBlocks);
    });
  it("num_gpu_blocks_override 16 replaces the 32 computed blocks", () => {
    const b = budget(tinyModel(full(2)), { maxModelLen: 16, kvCacheMemoryBytes: 2 * 32 * PAGE, numGpuBlocksOverride: 16 });
    expect(b.numGpuBlocks).toBe(16);
    expect(b.logLines).toContain("Overriding num_gpu_blocks=32 with num_gpu_blocks_override=16");
  });
});

describe("test_get_max_concurrency_for_kv_cache_config (Qwen1.5-7B shapes, max_model_len 16384, budget 1024)", () => {
  const base = { maxModelLen: 16384, maxNumBatchedTokens: 1024, kvCacheMemoryBytes: 64 * GiB };
  it("full attention: 1536 blocks / 1024 per request = 1.5", () => {
    expect(budget(qwenLike(full(32)), { ...base, numGpuBlocksOverride: 1536 }).maxConcurrency).toBe(1.5);
  });
  it("sliding window 1024: a request needs cdiv(1023 + 1024, 16) + 1 = 129 blocks", () => {
    // upstream's 387 = 129 × 3 blocks → 3 (the engine frees blocks outside the window, so 387 blocks serve it)
    expect(budget(qwenLike(slide(32)), { ...base, numGpuBlocksOverride: 129 * 3 }).maxConcurrency).toBe(3);
    expect(budget(qwenLike(slide(32)), { ...base, numGpuBlocksOverride: 129 * 9 }).maxConcurrency).toBe(9);
  });
  it("hybrid 32 full + 32 sliding: (1024 + 129) × 3 blocks → 3", () => {
    const b = budget(qwenLike([...full(32), ...slide(32)]), { ...base, numGpuBlocksOverride: (1024 + 129) * 3 });
    expect(b.maxConcurrency).toBe(3);
    // "GPU KV cache size" = num_blocks // groups × block_size (mid-2025); 2026 main logs max_concurrency ×
    // max_model_len = 49,152 instead (upstream get_kv_cache_capacity).
    expect(b.kvCacheTokens).toBe(Math.floor(3459 / 2) * 16);
  });
});

describe("test_estimate_max_model_len (Qwen1.5-7B shapes, fp16, 8 GiB of KV)", () => {
  // 32 layers × 2 × 32 heads × 128 × 2 B = 512 KiB per token → 8 GiB holds 16,384 tokens (1024 blocks).
  it("max_model_len 16385 does not fit; the estimate is 16384", () => {
    const msg = userErrorMessage(() => budget(qwenLike(full(32)), { maxModelLen: 16385, kvCacheMemoryBytes: 8 * GiB }));
    expect(msg).toMatch(/max seq len \(16385\)/);
    expect(msg).toMatch(/estimated maximum model length is 16384/);
  });
  it("max_model_len 16383 needs all 1024 blocks, but one is the null block: rejected (vLLM main)", () => {
    // Upstream's estimate for 16383 is 16383 (bytes fit); the null-block reservation added in 2026
    // (test_kv_cache_reserves_null_block_for_max_model_len) rejects a pool of exactly the blocks one request needs.
    const msg = userErrorMessage(() => budget(qwenLike(full(32)), { maxModelLen: 16383, kvCacheMemoryBytes: 8 * GiB }));
    expect(msg).toMatch(/1024 KV blocks cannot hold one 16383-token request/);
  });
});

describe("the null block is reserved (test_check_enough_kv_cache_memory_reserves_null_block and siblings)", () => {
  // max_model_len 512 needs 512 / 16 = 32 blocks; one layer of new_kv_cache_spec() (16,384 B pages).
  const one = tinyModel(full(1));
  it("32 blocks of memory: only 31 usable → rejected", () => {
    expect(userErrorMessage(() => budget(one, { maxModelLen: 512, kvCacheMemoryBytes: 32 * PAGE }))).toMatch(
      /cannot hold one 512-token request/,
    );
  });
  it("33 blocks: 32 usable → accepted", () => {
    const b = budget(one, { maxModelLen: 512, kvCacheMemoryBytes: 33 * PAGE });
    expect(b.numGpuBlocks).toBe(33);
    expect(b.logLines).toContain("GPU KV cache size: 528 tokens");
  });
  it("num_gpu_blocks_override 32 with ample memory → rejected too", () => {
    expect(() =>
      budget(one, { maxModelLen: 512, kvCacheMemoryBytes: 1024 * PAGE, numGpuBlocksOverride: 32 }),
    ).toThrow(/cannot hold one 512-token request/);
  });
  it("num_gpu_blocks_override 32 cannot serve max_model_len 16384 (respects_num_gpu_blocks_override)", () => {
    expect(() =>
      budget(tinyModel(full(2)), { maxModelLen: 16384, kvCacheMemoryBytes: 2 * 1024 * PAGE, numGpuBlocksOverride: 32 }),
    ).toThrow(/cannot hold one 16384-token request/);
  });
});
