/**
 * Peer suite: vLLM's `tests/v1/core/test_specialized_manager.py` and the hybrid cases of `test_prefix_caching.py`
 * (both read as of v0.10, mid-2025, when `SlidingWindowManager.find_longest_cache_hit` took `kv_cache_group_ids` and
 * `remove_skipped_blocks` took `request.num_computed_tokens`), ported to the simulator's SlidingWindowManager /
 * KVCacheCoordinator. Expected block ids, lengths and orders are vLLM's assertions, re-derived by hand in the comments;
 * where the port asserts more than upstream (free-queue order), the comment derives it from vLLM's free order.
 * Token lists become hash ids, one per block (see helpers.ts).
 *
 * Ported (upstream test → test here):
 *   test_sliding_window_possible_cached_prefix → "test_sliding_window_possible_cached_prefix"
 *   test_sliding_window_remove_skipped_blocks  → "test_sliding_window_remove_skipped_blocks" (+ the free-queue order
 *                                                its comment states: 1003 before 1002)
 *   test_get_num_blocks_to_allocate            → "test_get_num_blocks_to_allocate"
 *   test_prefill_hybrid_model (test_prefix_caching.py) → "test_prefill_hybrid_model" (+ the free-queue order after
 *                                                both requests are freed)
 *   test_cache_blocks_multi_group (test_prefix_caching.py) → "test_cache_blocks_multi_group" (the simulator's block ids
 *                                                differ: one block holds one (hash, group) entry, so each group gets its own)
 *   (allocate_slots' all-groups check, kv_cache_manager.py)  → "allocate_slots checks every group before allocating"
 *
 * Skipped:
 *   test_chunked_local_attention_* (later versions) — chunked local attention (Llama-4) is not modelled
 *   test_sliding_window_*_with_eagle / use_eagle cases — speculative decoding (EAGLE) is not modelled
 *   test_prefill_hybrid_model_combinations*, mamba cases (2026 files) — Mamba groups and mixed block sizes
 *   cases that poke `num_computed_tokens` into remove_skipped_blocks for external (KV-connector) tokens — no connectors
 */
import { describe, expect, it } from "vitest";
import { BlockPool } from "../../sim/serving/block-pool.ts";
import { KVCacheCoordinator } from "../../sim/serving/kv-cache-coordinator.ts";
import {
  FullAttentionManager,
  groupBlockHash,
  NULL_BLOCK,
  SlidingWindowManager,
  type KvCacheGroupSpec,
} from "../../sim/serving/single-type-kv-cache-manager.ts";
import type { BlockHashTable } from "../../sim/serving/block-hash-table.ts";
import { makeRequest } from "./helpers.ts";

/** The pool's prefix table, to drop and restore single entries as upstream pokes `cached_block_hash_to_block`. */
function table(pool: BlockPool): BlockHashTable {
  return (pool as unknown as { cachedBlockHashToBlock: BlockHashTable }).cachedBlockHashToBlock;
}

describe("test_sliding_window_possible_cached_prefix: block size 2, window 4", () => {
  // A hit must end with ⌈(4 − 1) / 2⌉ = 2 contiguous cached blocks; the search runs right to left.
  const cases: [boolean[], number][] = [
    // [F]*10: nothing cached → 0.
    [Array(10).fill(false), 0],
    // [T]: block 0 alone (run of 1 < 2, but the leading run from block 0 is still a hit) → 1.
    [[true], 1],
    [[true, false], 1],
    // [T,T]: i=1, i=0 → run of 2 found at i=0 → length 0 + 2 = 2.
    [[true, true], 2],
    [[true, true, false], 2],
    // [T,T,T]: run of 2 found at i=1 → length 1 + 2 = 3.
    [[true, true, true], 3],
    [[true, true, true, false], 3],
    // 12 blocks ending T,T,T: blocks 11 and 10 are a run of 2 → 10 + 2 = 12.
    [[true, true, false, true, false, false, true, true, false, true, true, true], 12],
    // 11 blocks ending F,F,F: first run of 2 from the right is blocks 7, 6 → 6 + 2 = 8.
    [[true, true, false, true, false, false, true, true, false, false, false], 8],
    // block 11 alone is a run of 1, then a miss resets it; blocks 7, 6 again → 8.
    [[true, true, false, true, false, false, true, true, false, false, false, true], 8],
  ];
  for (const [isCached, expectLength] of cases)
    it(`${isCached.map((c) => (c ? "T" : "F")).join("")} → ${expectLength} blocks`, () => {
      const pool = new BlockPool(100, true);
      const manager = new SlidingWindowManager(pool, 2, 0, true, 4);
      const n = isCached.length;
      // n shared blocks (one hash id per 2-token block) and one more token, so every block is a full prefix block.
      const req = makeRequest(0, { promptTokens: 2 * n + 1, hashIds: [...Array(n).keys()] }, 2);
      // upstream maps hash i to block i + 10
      isCached.forEach((c, i) => c && pool.cacheBlock(i + 10, req.blockHashes.get(i)));
      const [computed] = manager.findLongestCacheHit(req.blockHashes, n * 2, [0]);
      expect(computed).toHaveLength(expectLength);
      expect(computed.slice(0, Math.max(0, expectLength - 2)).every((b) => b === NULL_BLOCK)).toBe(true);
      for (let i = 0; i < 2 && i < expectLength; i++) {
        const index = expectLength - i - 1;
        expect(computed[index]).toBe(index + 10);
      }
    });
});

describe("test_sliding_window_remove_skipped_blocks: block size 2, window 4", () => {
  it("nulls and frees exactly the blocks wholly before token c − 4 + 1, newest first", () => {
    const pool = new BlockPool(2000, true);
    const manager = new SlidingWindowManager(pool, 2, 0, true, 4);
    const req = makeRequest(0, { promptTokens: 22 }, 2);
    const original = [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010];
    pool.touch(original); // the request holds them (refCnt 1, out of the free queue)
    const blockTable = original.slice();
    manager.reqToBlocks.set(req, blockTable);
    const tail = () => pool.freeBlockQueue.toArray().slice(-4);

    // c = 0: first useful token 0 − 3 = −3 → block ⌊−3/2⌋ = −2: nothing before it.
    expect(manager.removeSkippedBlocks(req, 0)).toEqual([]);
    expect(blockTable).toEqual(original);
    // c = 4: token 0 is out of the window but block 1000 also holds token 1 (first useful token 1 → block 0).
    expect(manager.removeSkippedBlocks(req, 4)).toEqual([]);
    expect(blockTable).toEqual(original);
    // c = 5: tokens 0 and 1 are out (first useful 2 → block 1): 1000 goes.
    expect(manager.removeSkippedBlocks(req, 5)).toEqual([1000]);
    expect(blockTable).toEqual([NULL_BLOCK, ...original.slice(1)]);
    // c = 6: first useful token 3 → block 1; 1001 still holds token 3.
    expect(manager.removeSkippedBlocks(req, 6)).toEqual([]);
    // c = 7: first useful token 4 → block 2: 1001 goes; the walk stops at the null block before it.
    expect(manager.removeSkippedBlocks(req, 7)).toEqual([1001]);
    expect(blockTable).toEqual([NULL_BLOCK, NULL_BLOCK, ...original.slice(2)]);
    // c = 11: first useful token 8 → block 4: 1003 then 1002 ("1003 represents a longer sequence, and is expected to
    // be evicted earlier than 1002"): freed in that order, so 1003 sits nearer the free queue's head.
    expect(manager.removeSkippedBlocks(req, 11)).toEqual([1003, 1002]);
    expect(blockTable).toEqual([NULL_BLOCK, NULL_BLOCK, NULL_BLOCK, NULL_BLOCK, ...original.slice(4)]);
    expect(tail()).toEqual([1000, 1001, 1003, 1002]);
    for (const b of [1000, 1001, 1002, 1003]) expect(pool.refCnt[b]).toBe(0);
    expect(pool.refCnt[NULL_BLOCK]).toBe(0);
    pool.checkInvariants();
  });
});

describe("test_get_num_blocks_to_allocate: block size 2", () => {
  it("counts missing blocks plus hit blocks waiting in the free queue, never the null block", () => {
    const pool = new BlockPool(100, true);
    const manager = new SlidingWindowManager(pool, 2, 0, true, 4);
    const cached1 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const cached2 = [0, 0, 0, 0, 0, 1, 2, 3, 4, 5];
    // 40 tokens → 20 blocks: (20 − 10 held by the hit) + 10 hit blocks with refCnt 0 = 20.
    expect(manager.getNumBlocksToAllocate(makeRequest(1, { promptTokens: 40 }, 2), 40, cached1)).toBe(20);
    // (20 − 10) + 5 evictable: the 5 null blocks count as held but are not in the free queue = 15.
    expect(manager.getNumBlocksToAllocate(makeRequest(2, { promptTokens: 40 }, 2), 40, cached2)).toBe(15);
  });
});

describe("test_prefill_hybrid_model: full + 2 sliding groups (window 32), block size 16, 21 blocks", () => {
  const groups: KvCacheGroupSpec[] = [
    { kind: "full_attention" },
    { kind: "sliding_window", slidingWindow: 32 },
    { kind: "sliding_window", slidingWindow: 32 },
  ];
  const COMMON = [0, 1, 2]; // [0]*16 + [1]*16 + [2]*16
  const tables = (kv: KVCacheCoordinator, req: ReturnType<typeof makeRequest>) => [0, 1, 2].map((g) => kv.blockTable(req, g));

  it("allocates per group, hits the window's last blocks behind null blocks, and finds the common hit length", () => {
    const kv = new KVCacheCoordinator(21, groups, 16, 8192, true);
    const pool = kv.blockPool;

    // req0: 55 tokens (3 full blocks + 7), full miss: 4 blocks per group, group by group from the head.
    const req0 = makeRequest(0, { promptTokens: 55, hashIds: COMMON });
    expect(kv.getComputedBlocks(req0).numTokens).toBe(0);
    expect(kv.allocateSlots(req0, 55)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(tables(kv, req0)).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
    ]);
    // Full blocks carry (block hash, group id): the same chain hash, keyed per group.
    for (const [k, ids] of [[1, 5, 9], [2, 6, 10], [3, 7, 11]].entries())
      ids.forEach((b, g) => {
        expect(pool.blockHash[b]).toBe(groupBlockHash(req0.blockHashes.get(k), g));
        expect(pool.refCnt[b]).toBe(1);
      });
    for (const b of [4, 8, 12]) {
      expect(pool.isCached(b)).toBe(false);
      expect(pool.refCnt[b]).toBe(1);
    }
    req0.numComputedTokens = 55;

    // req1: 48 common + 5 tokens. Full: ⌊52/16⌋ = 3 blocks hit [1,2,3]. Sliding, within 48 tokens: a hit needs
    // ⌈31/16⌉ = 2 contiguous blocks from the right: blocks 2 and 1 → [null, 6, 7] and [null, 10, 11].
    const req1 = makeRequest(1, { promptTokens: 53, hashIds: COMMON });
    const hit = kv.getComputedBlocks(req1);
    expect(hit.groups).toEqual([
      [1, 2, 3],
      [0, 6, 7],
      [0, 10, 11],
    ]);
    expect(hit.numTokens).toBe(48);
    expect(hit.blocks).toEqual([1, 2, 3, 6, 7, 10, 11]);
    // 53 tokens need 4 blocks per group; 3 are covered by the hit (nulls included): one new block each.
    expect(kv.allocateSlotsForHit(req1, 53 - 48, hit)).toEqual([13, 14, 15]);
    for (const b of hit.blocks) expect(pool.refCnt[b]).toBe(2);
    expect(pool.refCnt[NULL_BLOCK]).toBe(0);
    const chain = req1.blockHashes;

    // Free order (not asserted upstream; vLLM's coordinator frees group by group, each table reversed, and only
    // blocks reaching refCnt 0 join the tail). Queue before: [16..20].
    //   free(req0): full [4,3,2,1] → 4; sliding [8,7,6,5] → 8, 5; sliding [12,11,10,9] → 12, 9.
    //   free(req1): full [13,3,2,1]; sliding [14,7,6] (null skipped); sliding [15,11,10].
    kv.free(req0);
    kv.free(req1);
    expect(pool.freeBlockQueue.toArray()).toEqual([16, 17, 18, 19, 20, 4, 8, 5, 12, 9, 13, 3, 2, 1, 14, 7, 6, 15, 11, 10]);
    pool.checkInvariants();

    // Hybrid hit lengths with some (hash, group) entries dropped from the prefix table (as upstream pops them).
    const blockOf = (k: number, g: number) => [1, 5, 9][g] + k; // block of chain position k in group g
    const partialHit = (id: number, evict: [number, number][], expectBlocks: number) => {
      for (const [k, g] of evict) table(pool).remove(blockOf(k, g));
      const req = makeRequest(id, { promptTokens: 53, hashIds: COMMON });
      const h = kv.getComputedBlocks(req);
      expect(h.numTokens).toBe(expectBlocks * 16);
      for (const list of expectBlocks > 0 ? h.groups : []) expect(list).toHaveLength(expectBlocks);
      for (const [k, g] of evict) table(pool).insert(blockOf(k, g));
      kv.free(req); // never allocated: a no-op, as upstream
    };
    expect(chain.get(0)).toBe(req0.blockHashes.get(0));
    // Blocks outside the window (position 0 of the sliding groups) gone: the hit is still 3 blocks.
    partialHit(2, [[0, 1], [0, 2]], 3);
    // First full-attention block gone: full hit 0 → total miss.
    partialHit(3, [[0, 0]], 0);
    // Last block of every group gone → 2.
    partialHit(4, [[2, 0], [2, 1], [2, 2]], 2);
    // Last full block gone: full hit 2, sliding within 32 tokens finds blocks 1, 0 → 2.
    partialHit(5, [[2, 0]], 2);
    // Last block of one sliding group gone: that group's run from the right is blocks 1, 0 → 2.
    partialHit(6, [[2, 1]], 2);
    partialHit(7, [[2, 2]], 2);
    // Full hit 1 block (16 tokens); sliding within 16 tokens: block 0 is gone → 0: "the two types of layers have
    // different hit length" → total miss.
    partialHit(8, [[2, 0], [0, 1], [0, 2]], 0);
    pool.checkInvariants();
  });

  it("allocate_slots checks every group before allocating any", () => {
    // 9 blocks (8 usable). req0 takes 2 per group = 6; req1 needs 1 per group = 3 > 2 free: refused, nothing taken.
    const kv = new KVCacheCoordinator(9, groups, 16, 8192, true);
    const req0 = makeRequest(0, { promptTokens: 32 });
    expect(kv.allocateSlots(req0, 32)).toEqual([1, 2, 3, 4, 5, 6]);
    const req1 = makeRequest(1, { promptTokens: 10 });
    expect(kv.blockPool.getNumFreeBlocks()).toBe(2);
    expect(kv.allocateSlots(req1, 10)).toBeNull();
    expect(kv.blockPool.getNumFreeBlocks()).toBe(2);
    expect(tables(kv, req1)).toEqual([[], [], []]);
    kv.checkInvariants([req0, req1]);
  });
});

describe("test_cache_blocks_multi_group: block size 4, 14 tokens (3 full blocks)", () => {
  it("caches per (hash, group): a lookup over several groups hits only where every group does", () => {
    const pool = new BlockPool(10, true);
    const req = makeRequest(0, { promptTokens: 14, hashIds: [0, 1, 2, 3] }, 4);
    const group0 = new FullAttentionManager(pool, 4, 0, true);
    const group1 = new FullAttentionManager(pool, 4, 1, true);
    // group 0 caches 2 full blocks (ids 1, 2), group 1 caches 3 (ids 3, 4, 5)
    pool.touch([1, 2, 3, 4, 5]);
    group0.reqToBlocks.set(req, [1, 2]);
    group0.numCachedBlock.set(req, 0);
    group0.cacheBlocks(req, 8, null);
    group1.reqToBlocks.set(req, [3, 4, 5]);
    group1.numCachedBlock.set(req, 0);
    group1.cacheBlocks(req, 12, null);
    expect(pool.numCachedBlocks).toBe(5);
    // block hash 0 and 1: hit for groups 0 and 1; block hash 2: hit for group 1 only
    expect(group0.findLongestCacheHit(req.blockHashes, 12, [0])).toEqual([[1, 2]]);
    expect(group1.findLongestCacheHit(req.blockHashes, 12, [1])).toEqual([[3, 4, 5]]);
    expect(group0.findLongestCacheHit(req.blockHashes, 12, [0, 1])).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(pool.getCachedBlock(groupBlockHash(req.blockHashes.get(2), 0))).toBe(-1);
    expect(pool.getCachedBlock(groupBlockHash(req.blockHashes.get(2), 1))).toBe(5);
  });
});
