/**
 * Peer suite: vLLM's `tests/v1/core/test_prefix_caching.py` (read at vllm-project/vllm 003df29, 2026 main; the 2025
 * expectations quoted below are from the same tests in 2025 copies of the file), ported to the simulator's
 * KVCacheManager / BlockPool. Expected block ids and free-queue orders are vLLM's own assertions, re-derived by hand
 * in the comments. Token lists become hash ids, one per 16-token block (see helpers.ts).
 *
 * Free-queue order: vLLM 2025 appends every freed block to the tail (`freeQueueOrder: "append"`, the simulator's
 * default); upstream main prepends hash-less blocks to the head (`"split"`, what the 2026 test file asserts). Where the
 * two differ both are tested and the comment says which vLLM each matches.
 *
 * Ported (upstream test → test here):
 *   test_prefill                                       → "test_prefill" (both orders)
 *   test_decode                                        → "test_decode"
 *   test_evict                                         → "test_evict" (both orders)
 *   test_hash_block_correct_reuse                      → "test_hash_block_correct_reuse"
 *   test_computed_blocks_not_evicted                   → "test_computed_blocks_not_evicted"
 *   test_basic_prefix_caching_disabled                 → "test_basic_prefix_caching_disabled"
 *   test_cache_blocks                                  → "test_cache_blocks"
 *   test_prefill_not_enough_free_blocks_with_computed_blocks → same name
 *   test_maybe_evict_cached_block, test_block_lookup_cache_single_block_per_key,
 *   test_block_lookup_cache_multi_blocks_per_key       → "duplicate hashes: ..." (the simulator keeps duplicates in
 *                                                         BlockPool rather than a separate BlockHashToBlockMap)
 *   test_kv_cache_events (stored/removed part)         → "test_kv_cache_events" via `onCached` / `takeEvicted`
 *
 * Ported elsewhere: test_prefill_hybrid_model and test_cache_blocks_multi_group (mid-2025 versions) are in
 *   vllm-specialized-manager.test.ts, beside the sliding-window manager they exercise.
 *
 * Skipped (the model lacks the feature):
 *   test_prefill_hybrid_model_combinations*, *_mamba_*, test_different_block_size,
 *   test_hybrid_cache_blocks_*, test_hybrid_local_kv_retention_*, test_swa_*, test_pure_swa_*,
 *   test_mamba_reachable_block_mask_*, test_can_fit_full_sequence_*,
 *   test_block_stored_event_group_idx*, test_block_removed_event_group_idx, test_null_parent_block_hash
 *                                                    — later upstream additions for what the mid-2025 model
 *                                                      lacks (Mamba groups, mixed block sizes, retention, per-group
 *                                                      KV events); the test_swa_* cases were not re-checked against
 *                                                      the v0.10 sliding-window rules
 *   test_prefill_plp                                 — prompt logprobs
 *   test_mm_prefix_caching                           — multimodal extra keys
 *   test_cache_key_salting                           — cache_salt extra keys
 *   test_kv_cache_events_with_lora                   — LoRA
 *   test_eagle_*                                     — EAGLE / speculative decoding
 *   test_cache_hit_local_and_external*               — KV connectors
 *   test_emit_cached_block_events*, test_masked_block_does_not_emit_empty_stored_event — KV-event publishing for
 *                                                      connectors
 *   test_reset_prefix_cache, test_kv_cache_events (reset part) — no reset_prefix_cache API
 *   test_prefix_cache_stats_disabled                 — log_stats switch (stats are always kept)
 */
import { describe, expect, it } from "vitest";
import { BlockPool } from "../../sim/serving/block-pool.ts";
import { KVCacheManager } from "../../sim/serving/kv-cache-manager.ts";
import { freeQueue, hasHash, makeRequest, ORDERS } from "./helpers.ts";

const COMMON = [0, 1, 2]; // vLLM common_token_ids: [0]*16 + [1]*16 + [2]*16

describe("test_prefill: 11 blocks (10 usable), block size 16", () => {
  // Free-queue order after req0 and req1 are freed, the block req2 gets, and req3's eviction order.
  // append (vLLM 2025): free(req0) = [4,3,2,1] → only 4 reaches 0 → [6..10, 4]; free(req1) = [5,3,2,1] → [6..10,4,5,3,2,1].
  //   req2 touches 1,2,3 and pops 6 → [7,8,9,10,4,5]; free(req2) appends [6,3,2,1].
  // split (vLLM main): hash-less 4 and 5 go to the head → [5,4,6..10,3,2,1]; req2 reuses 5; free(req2) puts 5 back
  //   at the head.
  const expected = {
    append: { afterFree: [6, 7, 8, 9, 10, 4, 5, 3, 2, 1], req2New: [6], req3: [7, 8, 9, 10, 4, 5, 6, 3, 2, 1] },
    split: { afterFree: [5, 4, 6, 7, 8, 9, 10, 3, 2, 1], req2New: [5], req3: [5, 4, 6, 7, 8, 9, 10, 3, 2, 1] },
  };
  for (const order of ORDERS) {
    it(`${order}: hits the common prefix in use and free, evicts in LRU order`, () => {
      const kv = new KVCacheManager(11, 16, 8192, true, order);
      const pool = kv.blockPool;

      // req0: 3 full blocks + 7 tokens, full miss.
      const req0 = makeRequest(0, { promptTokens: 55, hashIds: COMMON });
      expect(kv.getComputedBlocks(req0)).toEqual({ blocks: [], numTokens: 0 });
      expect(kv.allocateSlots(req0, 55)).toEqual([1, 2, 3, 4]);
      // Full blocks carry the chain hash of their tokens; the same tokens in another request hash the same.
      const twin = makeRequest(99, { promptTokens: 48, hashIds: COMMON });
      for (const [k, b] of [1, 2, 3].entries()) {
        expect(pool.blockHash[b]).toBe(req0.blockHashes.get(k));
        expect(pool.blockHash[b]).toBe(twin.blockHashes.get(k));
        expect(pool.getCachedBlock(req0.blockHashes.get(k))).toBe(b);
        expect(pool.refCnt[b]).toBe(1);
      }
      expect(hasHash(kv, 4)).toBe(false); // the partial block has no hash
      expect(pool.refCnt[4]).toBe(1);
      req0.numComputedTokens = 55;

      // req1: same prefix + 5 tokens, hit while req0 still holds the blocks.
      const req1 = makeRequest(1, { promptTokens: 53, hashIds: COMMON });
      const hit1 = kv.getComputedBlocks(req1);
      expect(hit1).toEqual({ blocks: [1, 2, 3], numTokens: 48 });
      expect(kv.allocateSlots(req1, 53 - 48, hit1.blocks)).toEqual([5]);
      for (const b of [1, 2, 3]) expect(pool.refCnt[b]).toBe(2);
      expect(pool.getNumFreeBlocks()).toBe(5);

      kv.free(req0);
      kv.free(req1);
      expect(pool.getNumFreeBlocks()).toBe(10);
      expect(freeQueue(kv)).toEqual(expected[order].afterFree);

      // req2: hit while the prefix blocks sit in the free queue (touch pulls them out).
      const req2 = makeRequest(2, { promptTokens: 54, hashIds: COMMON });
      const hit2 = kv.getComputedBlocks(req2);
      expect(hit2).toEqual({ blocks: [1, 2, 3], numTokens: 48 });
      expect(kv.allocateSlots(req2, 54 - 48, hit2.blocks)).toEqual(expected[order].req2New);
      expect(pool.getNumFreeBlocks()).toBe(6);
      expect(freeQueue(kv)).toHaveLength(6);
      for (const b of freeQueue(kv)) expect(pool.refCnt[b]).toBe(0);
      kv.free(req2);

      // req3: 10 blocks of new tokens; the block ids are the eviction order.
      const req3 = makeRequest(3, { promptTokens: 160, hashIds: [99, 99, 99, 99, 99, 99, 99, 99, 99, 99] });
      expect(kv.getComputedBlocks(req3)).toEqual({ blocks: [], numTokens: 0 });
      expect(kv.allocateSlots(req3, 160)).toEqual(expected[order].req3);
      expect(pool.getNumFreeBlocks()).toBe(0);
      expect(freeQueue(kv)).toEqual([]);
      pool.checkInvariants();
    });
  }
});

describe("test_decode", () => {
  it("allocates a block only when a decode crosses a block boundary; the filled block gets its hash", () => {
    const kv = new KVCacheManager(11, 16, 8192, true);
    const req0 = makeRequest(0, { promptTokens: 55, hashIds: COMMON });
    expect(kv.allocateSlots(req0, 55)).toEqual([1, 2, 3, 4]);
    // 4 generated tokens: 59 tokens still fit in 4 blocks (64 slots).
    req0.numComputedTokens = 55;
    req0.numOutputTokens = 4;
    expect(kv.allocateSlots(req0, 4)).toEqual([]);
    expect(hasHash(kv, req0.blockIds.at(-1)!)).toBe(false);
    // 19 more: 9 fill block 4 (tokens 48..63), 10 go to a new 5th block; 78 tokens → 4 full blocks.
    req0.numComputedTokens = 59;
    req0.numOutputTokens = 4 + 19;
    const fresh = kv.allocateSlots(req0, 19);
    expect(fresh).toHaveLength(1);
    expect(hasHash(kv, req0.blockIds.at(-2)!)).toBe(true);
    expect(hasHash(kv, req0.blockIds.at(-1)!)).toBe(false);
  });
});

describe("test_evict: 11 blocks", () => {
  // req0 = tokens 0..86 (5 full + 7), req1 = tokens 87..134 (3 full).
  // After free(req0) [6,5,4,3,2,1] and free(req1) [9,8,7]:
  //   append (vLLM 2025): [10, 6,5,4,3,2,1, 9,8,7]; req2 (tokens 0..34) hits [1,2] and takes the head, 10.
  //   split (vLLM main): 6 has no hash → head: [6,10,5,4,3,2,1,9,8,7]; req2 takes 6.
  const expected = {
    append: { afterReq0: [10, 6, 5, 4, 3, 2, 1], afterBoth: [10, 6, 5, 4, 3, 2, 1, 9, 8, 7], req2New: [10] },
    split: { afterReq0: [6, 10, 5, 4, 3, 2, 1], afterBoth: [6, 10, 5, 4, 3, 2, 1, 9, 8, 7], req2New: [6] },
  };
  for (const order of ORDERS) {
    it(`${order}: frees a request's blocks tail-first and re-hits the surviving prefix`, () => {
      const kv = new KVCacheManager(11, 16, 8192, true, order);
      const req0 = makeRequest(0, { promptTokens: 87, hashIds: [0, 1, 2, 3, 4] });
      expect(kv.allocateSlots(req0, 87)).toEqual([1, 2, 3, 4, 5, 6]);
      const req1 = makeRequest(1, { promptTokens: 48, hashIds: [5, 6, 7] });
      expect(kv.allocateSlots(req1, 48)).toEqual([7, 8, 9]);
      expect(kv.blockPool.getNumFreeBlocks()).toBe(1); // 10 − (6 + 3)

      kv.free(req0);
      expect(freeQueue(kv)).toEqual(expected[order].afterReq0);
      kv.free(req1);
      expect(kv.blockPool.getNumFreeBlocks()).toBe(10);
      expect(freeQueue(kv)).toEqual(expected[order].afterBoth);

      const req2 = makeRequest(2, { promptTokens: 35, hashIds: [0, 1] });
      const hit = kv.getComputedBlocks(req2);
      expect(hit).toEqual({ blocks: [1, 2], numTokens: 32 });
      expect(kv.allocateSlots(req2, 3, hit.blocks)).toEqual(expected[order].req2New);
      expect(kv.blockPool.getNumFreeBlocks()).toBe(7);
    });
  }
});

describe("test_hash_block_correct_reuse", () => {
  it("a cached block handed out again for a partial block loses its old hash", () => {
    const kv = new KVCacheManager(2, 16, 8192, true); // one usable block
    const req = makeRequest(0, { promptTokens: 16, hashIds: [0] });
    expect(kv.allocateSlots(req, 16)).toEqual([1]);
    const h = req.blockHashes.get(0);
    expect(kv.blockPool.getCachedBlock(h)).toBe(1);
    kv.free(req);
    const req1 = makeRequest(1, { promptTokens: 15, hashIds: [0] });
    expect(kv.getComputedBlocks(req1).numTokens).toBe(0);
    expect(kv.allocateSlots(req1, 15)).toEqual([1]);
    expect(hasHash(kv, 1)).toBe(false);
    expect(kv.blockPool.getCachedBlock(h)).toBe(-1);
  });
});

describe("test_computed_blocks_not_evicted", () => {
  it("a hit block is not the one evicted to make room for the rest of the request", () => {
    const kv = new KVCacheManager(3, 16, 8192, true);
    const req0 = makeRequest(0, { promptTokens: 16, hashIds: [0] });
    expect(kv.allocateSlots(req0, 16)).toEqual([1]);
    const req1 = makeRequest(1, { promptTokens: 16, hashIds: [1] }); // tokens 16..31 on their own
    expect(kv.allocateSlots(req1, 16)).toEqual([2]);
    kv.free(req0);
    kv.free(req1);
    // tokens 0..31: block 0 hits req0's block. Its second block has req1's tokens but a different parent, so it
    // would miss anyway; the lookup stops at ⌊31/16⌋ = 1 block (the last token is always recomputed).
    const req2 = makeRequest(2, { promptTokens: 32, hashIds: [0, 1] });
    const hit = kv.getComputedBlocks(req2);
    expect(hit).toEqual({ blocks: [1], numTokens: 16 });
    expect(kv.allocateSlots(req2, 16, hit.blocks)).toEqual([2]);
  });
});

describe("test_basic_prefix_caching_disabled", () => {
  it("never hits, and allocation fails when the pool is short", () => {
    const kv = new KVCacheManager(5, 4, 8192, false); // 4 usable blocks of 4 tokens
    const req1 = makeRequest(1, { promptTokens: 10, hashIds: [0, 1] }, 4);
    expect(kv.getComputedBlocks(req1)).toEqual({ blocks: [], numTokens: 0 });
    expect(kv.allocateSlots(req1, 10)).toHaveLength(3);
    kv.free(req1);
    const req2 = makeRequest(2, { promptTokens: 16, hashIds: [0, 1, 2, 3] }, 4); // shares req1's prefix
    expect(kv.getComputedBlocks(req2)).toEqual({ blocks: [], numTokens: 0 });
    expect(kv.allocateSlots(req2, 16)).toHaveLength(4);
    const req3 = makeRequest(3, { promptTokens: 4, hashIds: [0] }, 4);
    expect(kv.getComputedBlocks(req3)).toEqual({ blocks: [], numTokens: 0 });
    expect(kv.allocateSlots(req3, 4)).toBeNull();
    expect(kv.blockPool.numCachedBlocks).toBe(0);
  });
});

describe("test_cache_blocks", () => {
  it("caches full blocks from the start, then continues from the last cached one", () => {
    const kv = new KVCacheManager(5, 4, 8192, true);
    const pool = kv.blockPool;
    // Blocks of 4: [0..3] [4..7] [8..11] [12,13].
    const req = makeRequest(0, { promptTokens: 14, hashIds: [0, 1, 2] }, 4);
    req.blockIds = pool.getNewBlocks(2);
    kv.cacheBlocks(req, 8);
    expect(pool.numCachedBlocks).toBe(2);
    expect(req.blockIds.every((b) => hasHash(kv, b))).toBe(true);
    const first = pool.blockHash[req.blockIds[0]];
    req.blockIds.push(...pool.getNewBlocks(1));
    kv.cacheBlocks(req, 12);
    expect(pool.numCachedBlocks).toBe(3);
    expect(pool.blockHash[req.blockIds[0]]).toBe(first);
    req.blockIds.push(...pool.getNewBlocks(1));
    kv.cacheBlocks(req, 14); // the partial 4th block is never hashed
    expect(pool.numCachedBlocks).toBe(3);
  });
});

describe("test_prefill_not_enough_free_blocks_with_computed_blocks", () => {
  it("a request that cannot be allocated leaves its hit blocks' ref counts untouched", () => {
    const kv = new KVCacheManager(11, 16, 8192, true);
    const pool = kv.blockPool;
    const req0 = makeRequest(0, { promptTokens: 48, hashIds: COMMON });
    expect(kv.getComputedBlocks(req0).numTokens).toBe(0);
    kv.allocateSlots(req0, 48);
    const part0 = [...req0.blockIds];
    expect(part0).toEqual([1, 2, 3]);

    // | Common-0 | Common-1 | Common-2 | Req1-3 | Req1-4 | Req1-5 |
    const req1 = makeRequest(1, { promptTokens: 96, hashIds: [...COMMON, ...COMMON] });
    const hit1 = kv.getComputedBlocks(req1);
    expect(hit1).toEqual({ blocks: part0, numTokens: 48 });
    kv.allocateSlots(req1, 48, hit1.blocks);
    const part1 = [...req1.blockIds];
    expect(part1).toEqual([1, 2, 3, 4, 5, 6]);
    kv.free(req1);
    expect(part1.slice(0, 3).map((b) => pool.refCnt[b])).toEqual([1, 1, 1]);
    expect(part1.slice(3).map((b) => pool.refCnt[b])).toEqual([0, 0, 0]);

    // req2 takes 2 blocks from the head ([7,8]); 5 free remain, 3 of them req1's cached tail.
    const req2 = makeRequest(2, { promptTokens: 32, hashIds: [7, 7] });
    expect(kv.getComputedBlocks(req2).numTokens).toBe(0);
    expect(kv.allocateSlots(req2, 32)).toEqual([7, 8]);
    expect(pool.getNumFreeBlocks()).toBe(5);

    // req3 = common × 3: hits 6 blocks (96 tokens) and needs 3 more: 3 new + 3 evictable hits = 6 > 5 free.
    const req3 = makeRequest(3, { promptTokens: 144, hashIds: [...COMMON, ...COMMON, ...COMMON] });
    const hit3 = kv.getComputedBlocks(req3);
    expect(hit3).toEqual({ blocks: part1, numTokens: 96 });
    expect(kv.allocateSlots(req3, 48, hit3.blocks)).toBeNull();
    expect(part1.slice(0, 3).map((b) => pool.refCnt[b])).toEqual([1, 1, 1]);
    expect(part1.slice(3).map((b) => pool.refCnt[b])).toEqual([0, 0, 0]);
    expect(req3.blockIds).toEqual([]);
    pool.checkInvariants();
  });
});

describe("duplicate hashes (test_maybe_evict_cached_block, test_block_lookup_cache_*_blocks_per_key)", () => {
  const H0 = 1000;
  const H1 = 2000;
  const H2 = 3000;
  it("evicting one copy of a duplicated hash keeps the entry pointing at the other", () => {
    const pool = new BlockPool(5, true);
    expect(pool.getNewBlocks(4)).toEqual([1, 2, 3, 4]);
    // block 4 has the exact same hash as block 1
    pool.cacheBlock(1, H0);
    pool.cacheBlock(2, H1);
    pool.cacheBlock(3, H2);
    pool.cacheBlock(4, H0);
    expect(pool.numCachedBlocks).toBe(4);
    expect(pool.getCachedBlock(H0)).toBe(1); // the first inserted is returned
    pool.freeBlocks([2, 1, 3, 4]); // eviction order
    pool.getNewBlocks(1); // evicts block 2
    expect([pool.getCachedBlock(H0), pool.getCachedBlock(H1), pool.getCachedBlock(H2)]).toEqual([1, -1, 3]);
    pool.getNewBlocks(1); // evicts block 1: H0 survives in block 4
    expect([pool.getCachedBlock(H0), pool.getCachedBlock(H2)]).toEqual([4, 3]);
    pool.getNewBlocks(1); // evicts block 3
    expect([pool.getCachedBlock(H0), pool.getCachedBlock(H2)]).toEqual([4, -1]);
    pool.getNewBlocks(1); // evicts block 4
    expect(pool.getCachedBlock(H0)).toBe(-1);
    expect(pool.numCachedBlocks).toBe(0);
    pool.checkInvariants();
  });
  it("evicting the second copy first leaves the lookup on the first", () => {
    const pool = new BlockPool(3, true);
    pool.getNewBlocks(2);
    pool.cacheBlock(1, H0);
    pool.cacheBlock(2, H0);
    pool.freeBlocks([2, 1]);
    pool.getNewBlocks(1); // block 2: not the one the map points at
    expect(pool.getCachedBlock(H0)).toBe(1);
    pool.getNewBlocks(1);
    expect(pool.getCachedBlock(H0)).toBe(-1);
  });
});

describe("test_kv_cache_events (stored / removed)", () => {
  for (const n of [2, 3, 10]) {
    it(`${n} blocks: one store of ${n} blocks, then ${n} evictions and a new store`, () => {
      const kv = new KVCacheManager(n + 1, 16, 8192, true);
      const stored: number[][] = [];
      kv.onCached = (_req, _first, ids) => stored.push(ids);
      kv.blockPool.recordEvictions(true);
      const hashIds = Array.from({ length: n }, (_, i) => i);
      const req0 = makeRequest(0, { promptTokens: 16 * n, hashIds });
      kv.allocateSlots(req0, 16 * n);
      const ids = Array.from({ length: n }, (_, i) => i + 1);
      expect(stored).toEqual([ids]);
      expect(kv.blockPool.numCachedBlocks).toBe(n);
      expect(kv.blockPool.takeEvicted()).toEqual([]);

      // Same tokens, allocated without a lookup (as upstream does): every cached block is evicted and re-stored.
      kv.free(req0);
      const req1 = makeRequest(1, { promptTokens: 16 * n, hashIds });
      kv.allocateSlots(req1, 16 * n);
      const reversed = [...ids].reverse(); // req0 was freed tail-first
      expect(kv.blockPool.takeEvicted()).toEqual(reversed);
      expect(stored).toEqual([ids, reversed]);
      expect(kv.blockPool.numCachedBlocks).toBe(n);
    });
  }
});
