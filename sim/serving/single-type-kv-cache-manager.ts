import type { BlockHashChain } from "./block-hash.ts";
import type { BlockPool } from "./block-pool.ts";
import type { Request } from "./request.ts";

/**
 * Per-KV-cache-group block tables (vLLM `SingleTypeKVCacheManager`, `vllm/v1/core/single_type_kv_cache_manager.py`,
 * as of v0.9.2–v0.10): one manager per group, all drawing from one shared `BlockPool`. A hybrid model (Gemma-2,
 * gpt-oss: sliding-window and full-attention layers) has one group per `groupSize` layers of one kind; every group
 * keeps its own block table per request, indexed by token block (position k holds tokens [k·bs, (k+1)·bs) of that
 * group's layers), so all of a request's tables have the same length.
 *
 * Why per group and not one table: a sliding-window layer never reads tokens older than its window, so its manager
 * replaces the blocks wholly outside the window by the null block and frees them (`removeSkippedBlocks`), while the
 * full-attention group keeps the whole context.
 *
 * Invariants: SWA-1 a sliding table is null from position 0 up to its first live block, never null after it;
 * SWA-2 the null block is never touched, freed or cached (refCnt of block 0 stays 0).
 */

/** vLLM's null block: a placeholder (block id 0) for positions a sliding window has skipped. */
export const NULL_BLOCK = 0;

const TWO53 = 2 ** 53;
/** Odd multiplier spreading group ids over the 53-bit hash space (any fixed odd constant works). */
const GROUP_STRIDE = 0x1b873593a1f3b;

/**
 * The prefix-cache key of block hash `hash` in KV-cache group `groupId` (vLLM `BlockHashWithGroupId`): the same
 * tokens cached by two groups are two different entries. Group 0 keeps the plain hash, so a single-group pool's
 * table is exactly the one-table engine's. Integer arithmetic modulo 2^53 keeps the key a non-negative integer.
 */
export function groupBlockHash(hash: number, groupId: number): number {
  if (groupId === 0) return hash;
  const offset = (groupId * GROUP_STRIDE) % TWO53;
  return hash >= TWO53 - offset ? hash - (TWO53 - offset) : hash + offset;
}

export type KvCacheGroupKind = "full_attention" | "sliding_window";

/** One KV-cache group (vLLM `KVCacheGroupSpec` reduced to what allocation needs). */
export interface KvCacheGroupSpec {
  kind: KvCacheGroupKind;
  /** Tokens, for "sliding_window" groups. */
  slidingWindow?: number;
}

/** Called with blocks as they are cached: block-table position of the first, and the ids (for the event stream). */
export type OnCached = (req: Request, firstBlockIndex: number, blockIds: number[]) => void;

export abstract class SingleTypeKVCacheManager {
  /** vLLM `req_to_blocks`: each request's table for this group, null blocks included. */
  readonly reqToBlocks = new Map<Request, number[]>();
  /** vLLM `num_cached_block`: leading blocks already cached; present from admission until freed. */
  readonly numCachedBlock = new Map<Request, number>();

  constructor(
    readonly blockPool: BlockPool,
    readonly blockSize: number,
    readonly kvCacheGroupId: number,
    readonly enableCaching: boolean,
  ) {}

  /**
   * vLLM `get_num_blocks_to_allocate`: blocks still missing for `numTokens` slots, plus every prefix-hit block
   * that sits in the free queue (refCnt 0, not the null block) — touching it takes it out of the free queue.
   */
  getNumBlocksToAllocate(req: Request, numTokens: number, newComputedBlocks: readonly number[]): number {
    const numRequired = Math.ceil(numTokens / this.blockSize);
    const held = this.reqToBlocks.get(req)?.length ?? 0;
    const refCnt = this.blockPool.refCnt;
    let numEvictable = 0;
    for (const b of newComputedBlocks) if (b !== NULL_BLOCK && refCnt[b] === 0) numEvictable++;
    return Math.max(numRequired - newComputedBlocks.length - held, 0) + numEvictable;
  }

  /** vLLM `save_new_computed_blocks`: a newly admitted request's table starts with its prefix hit (nulls included). */
  saveNewComputedBlocks(req: Request, newComputedBlocks: readonly number[]): void {
    if (this.numCachedBlock.has(req)) {
      if (newComputedBlocks.length > 0) throw new Error(`INV: running request ${req.reqId} got new computed blocks`);
      return;
    }
    const table = this.reqToBlocks.get(req);
    if (table && table.length > 0) throw new Error(`INV: request ${req.reqId} admitted with ${table.length} blocks`);
    this.reqToBlocks.set(req, newComputedBlocks.slice());
    this.numCachedBlock.set(req, newComputedBlocks.length);
  }

  /** vLLM `allocate_new_blocks`: grows the table to ⌈numTokens / bs⌉ blocks; the new ids are appended to `out`. */
  allocateNewBlocks(req: Request, numTokens: number, out: number[]): void {
    let table = this.reqToBlocks.get(req);
    if (!table) {
      table = [];
      this.reqToBlocks.set(req, table);
    }
    const numNew = Math.ceil(numTokens / this.blockSize) - table.length;
    if (numNew <= 0) return;
    const start = table.length;
    this.blockPool.getNewBlocksInto(numNew, table);
    for (let i = start; i < table.length; i++) out.push(table[i]);
  }

  /**
   * vLLM `cache_blocks`: hash and publish the newly full blocks (generated tokens included). Blocks past the
   * request's shared prefix are cached deferred (see `BlockPool.cacheBlockDeferred`).
   */
  cacheBlocks(req: Request, numTokens: number, onCached: OnCached | null): void {
    const table = this.reqToBlocks.get(req)!;
    const numCached = this.numCachedBlock.get(req) ?? 0;
    const numFull = Math.floor(numTokens / this.blockSize);
    if (numFull <= numCached) return;
    if (onCached) onCached(req, numCached, table.slice(numCached, numFull));
    const chain = req.blockHashes;
    const pool = this.blockPool;
    for (let k = numCached; k < numFull; k++) {
      const b = table[k];
      if (b === NULL_BLOCK) throw new Error(`INV: SWA-2 request ${req.reqId} would cache the null block at ${k}`);
      if (k >= chain.firstUniqueBlock) pool.cacheBlockDeferred(b);
      else pool.cacheBlock(b, groupBlockHash(chain.get(k), this.kvCacheGroupId));
    }
    this.numCachedBlock.set(req, numFull);
  }

  /**
   * vLLM `free`: the table in reverse (tail evicted first), null blocks skipped. On preemption the request's deferred
   * blocks get their real key first, so it can re-hit them when it comes back. Freed ids are appended to `out`.
   */
  free(req: Request, preempted: boolean, out: number[]): void {
    const table = this.reqToBlocks.get(req);
    const numCached = this.numCachedBlock.get(req) ?? 0;
    this.reqToBlocks.delete(req);
    this.numCachedBlock.delete(req);
    if (!table) return;
    if (preempted && this.enableCaching) this.publishDeferred(req.blockHashes, table, numCached);
    const ordered: number[] = [];
    for (let i = table.length - 1; i >= 0; i--) if (table[i] !== NULL_BLOCK) ordered.push(table[i]);
    this.blockPool.freeBlocks(ordered);
    for (const b of ordered) out.push(b);
  }

  protected publishDeferred(chain: BlockHashChain, table: readonly number[], numCached: number): void {
    const pool = this.blockPool;
    for (let k = chain.firstUniqueBlock; k < numCached; k++) {
      const b = table[k];
      if (b !== NULL_BLOCK && pool.isDeferred(b)) pool.publishDeferred(b, groupBlockHash(chain.get(k), this.kvCacheGroupId));
    }
  }

  /** The prefix-cache block of chain position k in every group of `groupIds`, or false on any miss (vLLM `get_cached_block`). */
  protected lookup(chain: BlockHashChain, k: number, groupIds: readonly number[], out: number[]): boolean {
    const h = chain.get(k);
    for (let g = 0; g < groupIds.length; g++) {
      const b = this.blockPool.getCachedBlock(groupBlockHash(h, groupIds[g]));
      if (b < 0) return false;
      out[g] = b;
    }
    return true;
  }

  /**
   * vLLM `find_longest_cache_hit` for the groups `groupIds` (all of this manager's kind): per group, the hit blocks
   * of the longest prefix of at most `maxLength` tokens that every one of them can reuse.
   */
  abstract findLongestCacheHit(chain: BlockHashChain, maxLength: number, groupIds: readonly number[]): number[][];

  /**
   * vLLM `remove_skipped_blocks`: frees the blocks attention will no longer read given `numComputedTokens` computed
   * tokens and returns them in free order (empty for full attention).
   */
  abstract removeSkippedBlocks(req: Request, numComputedTokens: number): number[];
}

const NONE: number[] = [];

/** vLLM `FullAttentionManager`: hits are the leading run of cached blocks; nothing is ever skipped. */
export class FullAttentionManager extends SingleTypeKVCacheManager {
  findLongestCacheHit(chain: BlockHashChain, maxLength: number, groupIds: readonly number[]): number[][] {
    const hits = groupIds.map(() => [] as number[]);
    const maxNumBlocks = Math.floor(maxLength / this.blockSize);
    const found: number[] = [];
    for (let k = 0; k < maxNumBlocks; k++) {
      // a chain: once block k misses, no later block can be cached
      if (!this.lookup(chain, k, groupIds, found)) break;
      for (let g = 0; g < groupIds.length; g++) hits[g].push(found[g]);
    }
    return hits;
  }

  removeSkippedBlocks(): number[] {
    return NONE;
  }
}

/**
 * vLLM `SlidingWindowManager`. A token attends to itself and the `slidingWindow − 1` tokens before it, so once
 * `c` tokens are computed the next one reads from token c − w + 1 on: blocks wholly before it are skipped.
 */
export class SlidingWindowManager extends SingleTypeKVCacheManager {
  /** vLLM `sliding_window_contiguous_blocks`: cached blocks a hit must end with, ⌈(w − 1) / bs⌉. */
  readonly slidingWindowContiguousBlocks: number;

  constructor(
    blockPool: BlockPool,
    blockSize: number,
    kvCacheGroupId: number,
    enableCaching: boolean,
    readonly slidingWindow: number,
  ) {
    super(blockPool, blockSize, kvCacheGroupId, enableCaching);
    this.slidingWindowContiguousBlocks = Math.ceil((slidingWindow - 1) / blockSize);
  }

  /**
   * Searches right to left for `slidingWindowContiguousBlocks` contiguous cached blocks; the hit is everything up to
   * the end of that run, with null blocks in front of it (those tokens are outside the window). Without such a run,
   * the leading cached run from block 0 is still a hit.
   */
  findLongestCacheHit(chain: BlockHashChain, maxLength: number, groupIds: readonly number[]): number[][] {
    const maxNumBlocks = Math.floor(maxLength / this.blockSize);
    const computed = groupIds.map(() => new Array<number>(maxNumBlocks).fill(NULL_BLOCK));
    const found: number[] = [];
    let numContiguous = 0;
    let matchFound = false;
    for (let i = maxNumBlocks - 1; i >= 0; i--) {
      if (this.lookup(chain, i, groupIds, found)) {
        for (let g = 0; g < groupIds.length; g++) computed[g][i] = found[g];
        numContiguous++;
        if (numContiguous >= this.slidingWindowContiguousBlocks) {
          // e.g. [NULL, NULL, 8, 3, NULL, 9] → [NULL, NULL, 8, 3] with 2 contiguous blocks needed
          for (const c of computed) c.length = i + numContiguous;
          matchFound = true;
          break;
        }
      } else numContiguous = 0;
    }
    if (!matchFound) for (const c of computed) c.length = numContiguous;
    return computed;
  }

  /**
   * Replaces blocks before (numComputedTokens − w + 1) / bs by the null block, walking right to left and stopping at
   * the first null (SWA-1), and frees them in that order: the newer block lands nearer the free queue's head, so it is
   * evicted first (it stands for a longer prefix). A deferred block gets its real key first: it stays findable.
   */
  removeSkippedBlocks(req: Request, numComputedTokens: number): number[] {
    const lastUsefulToken = numComputedTokens - this.slidingWindow + 1;
    const lastUsefulBlock = Math.floor(lastUsefulToken / this.blockSize);
    if (lastUsefulBlock <= 0) return NONE;
    const table = this.reqToBlocks.get(req);
    if (!table) return NONE;
    let removed: number[] | null = null;
    const pool = this.blockPool;
    const chain = req.blockHashes;
    for (let i = Math.min(lastUsefulBlock, table.length) - 1; i >= 0; i--) {
      const b = table[i];
      if (b === NULL_BLOCK) break;
      if (this.enableCaching && pool.isDeferred(b)) pool.publishDeferred(b, groupBlockHash(chain.get(i), this.kvCacheGroupId));
      (removed ??= []).push(b);
      table[i] = NULL_BLOCK;
    }
    if (!removed) return NONE;
    pool.freeBlocks(removed);
    return removed;
  }
}
