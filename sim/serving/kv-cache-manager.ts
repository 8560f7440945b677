import { BlockPool } from "./block-pool.ts";
import type { Request } from "./request.ts";
import type { FreeQueueOrder } from "./types.ts";

const NO_BLOCKS: readonly number[] = Object.freeze([]);

/** Prefix-cache counters in tokens (vLLM `PrefixCacheStats`; feeds `vllm:prefix_cache_queries`/`_hits`). */
export interface PrefixCacheStats {
  queries: number;
  hits: number;
}

/** A prefix-cache hit: the reusable blocks (never the null block) and the tokens they cover. */
export interface ComputedBlocks {
  blocks: number[];
  numTokens: number;
}

/**
 * What the scheduler and engine need from KV allocation. Two implementations: `KVCacheManager` (one
 * full-attention block table per request — almost every model, and the fast path) and `KVCacheCoordinator`
 * (`kv-cache-coordinator.ts`: several KV-cache groups, sliding windows).
 */
export interface KvCacheAllocator {
  readonly blockPool: BlockPool;
  readonly stats: PrefixCacheStats;
  readonly usage: number;
  /** When false, allocations return an empty array on success instead of the new block ids (hot path). */
  returnNewBlockIds: boolean;
  /** Called with blocks as they are cached: block-table position of the first (= hash-chain position), the ids. */
  onCached: ((req: Request, firstBlockIndex: number, blockIds: number[]) => void) | null;
  getComputedBlocks(req: Request): ComputedBlocks;
  recordPrefixLookup(req: Request, hitTokens: number): void;
  /** Slots for a running request's next tokens; null when the pool is short. */
  allocateSlots(req: Request, numNewTokens: number): number[] | null;
  /** Slots for a waiting request admitted with prefix hit `hit` (from `getComputedBlocks`). */
  allocateSlotsForHit(req: Request, numNewTokens: number, hit: ComputedBlocks): number[] | null;
  /** Frees every block of the request; returns their ids in free order. */
  free(req: Request, preempted?: boolean): number[];
  /** The request's blocks (no null block). */
  blocksOf(req: Request): readonly number[];
  /** Checks the pool's invariants and the block tables of `running` (tests and debug runs). */
  checkInvariants(running: Iterable<Request>): void;
}

/**
 * Per-request block tables over one shared pool, with prefix caching (vLLM `KVCacheManager` +
 * `FullAttentionManager`, single KV-cache group: every attention layer shares one block table).
 *
 * Blocks are allocated lazily as tokens are scheduled — a decode step takes a new block only when it crosses a block
 * boundary — and never reserved for future output, which is why running out mid-decode forces preemption.
 */
export class KVCacheManager implements KvCacheAllocator {
  readonly blockPool: BlockPool;
  readonly stats: PrefixCacheStats = { queries: 0, hits: 0 };
  /** When false, `allocateSlots` returns an empty array on success instead of the new block ids (hot path). */
  returnNewBlockIds = true;
  /** Called with blocks as they are cached (hashed), when the event stream wants block detail. */
  onCached: ((req: Request, firstBlockIndex: number, blockIds: number[]) => void) | null = null;

  constructor(
    numGpuBlocks: number,
    readonly blockSize: number,
    readonly maxModelLen: number,
    readonly enableCaching: boolean,
    freeQueueOrder: FreeQueueOrder = "append",
  ) {
    this.blockPool = new BlockPool(numGpuBlocks, enableCaching, freeQueueOrder);
  }

  get usage(): number {
    return this.blockPool.getUsage();
  }

  /**
   * vLLM `get_computed_blocks`: the longest run of leading full blocks already cached. At most numTokens − 1 tokens
   * can hit ("we must recompute the last token to obtain logits"), floored to whole blocks. Does not take references.
   */
  getComputedBlocks(req: Request): ComputedBlocks {
    if (!this.enableCaching) return { blocks: [], numTokens: 0 };
    const maxHitBlocks = Math.floor((req.numTokens - 1) / this.blockSize);
    const blocks: number[] = [];
    for (let k = 0; k < maxHitBlocks; k++) {
      const b = this.blockPool.getCachedBlock(req.blockHashes.get(k));
      if (b < 0) break;
      blocks.push(b);
    }
    return { blocks, numTokens: blocks.length * this.blockSize };
  }

  /** Records a lookup in the prefix-cache counters (done at admission; see scheduler.ts). */
  recordPrefixLookup(req: Request, hitTokens: number): void {
    if (!this.enableCaching) return; // vLLM returns before touching the stats when caching is off
    this.stats.queries += req.numTokens;
    this.stats.hits += hitTokens;
  }

  /**
   * vLLM `allocate_slots`. Returns the newly allocated blocks, or null when the free queue is short — counting each
   * prefix-hit block with refCnt 0 as needed too, since touching it takes it out of the free queue.
   */
  allocateSlots(req: Request, numNewTokens: number, newComputedBlocks: readonly number[] = NO_BLOCKS): number[] | null {
    const bs = this.blockSize;
    if (newComputedBlocks.length === 0) {
      // Fast path (most decode steps): the new tokens fit in blocks the request already holds. Prompt + output never
      // exceed max_model_len (longer requests are rejected at arrival), so no clamp is needed here.
      const needSlot = req.numComputedTokens + numNewTokens;
      if (needSlot <= req.blockIds.length * bs) {
        if (this.enableCaching) {
          const full = Math.floor((needSlot < req.numTokens ? needSlot : req.numTokens) / bs);
          if (full > req.numCachedBlocks) this.cacheBlocks(req, full * bs);
        }
        return NO_BLOCKS as number[];
      }
    }
    const numComputed = Math.min(req.numComputedTokens + newComputedBlocks.length * bs, this.maxModelLen);
    const numTokensNeedSlot = Math.min(numComputed + numNewTokens, this.maxModelLen);
    const numRequired = Math.ceil(numTokensNeedSlot / bs);
    let numEvictableHits = 0;
    const refCnt = this.blockPool.refCnt;
    for (let i = 0; i < newComputedBlocks.length; i++) if (refCnt[newComputedBlocks[i]] === 0) numEvictableHits++;
    const numNew = Math.max(numRequired - newComputedBlocks.length - req.blockIds.length, 0);
    if (numNew + numEvictableHits > this.blockPool.getNumFreeBlocks()) return null;

    if (newComputedBlocks.length > 0) {
      this.blockPool.touch(newComputedBlocks);
      for (const b of newComputedBlocks) req.blockIds.push(b);
      req.numCachedBlocks = req.blockIds.length;
    }
    let newBlocks: number[];
    if (this.returnNewBlockIds) {
      newBlocks = this.blockPool.getNewBlocks(numNew);
      for (let i = 0; i < newBlocks.length; i++) req.blockIds.push(newBlocks[i]);
    } else {
      this.blockPool.getNewBlocksInto(numNew, req.blockIds);
      newBlocks = NO_BLOCKS as number[];
    }
    if (this.enableCaching) {
      const full = Math.floor(Math.min(numComputed + numNewTokens, req.numTokens) / bs);
      if (full > req.numCachedBlocks) this.cacheBlocks(req, full * bs);
    }
    return newBlocks;
  }

  allocateSlotsForHit(req: Request, numNewTokens: number, hit: ComputedBlocks): number[] | null {
    return this.allocateSlots(req, numNewTokens, hit.blocks);
  }

  blocksOf(req: Request): readonly number[] {
    return req.blockIds;
  }

  checkInvariants(): void {
    this.blockPool.checkInvariants();
  }

  /** vLLM `cache_blocks`: hash and publish the request's newly full blocks (generated tokens included). */
  cacheBlocks(req: Request, numTokens: number): void {
    const numFull = Math.floor(numTokens / this.blockSize);
    if (this.onCached && numFull > req.numCachedBlocks)
      this.onCached(req, req.numCachedBlocks, req.blockIds.slice(req.numCachedBlocks, numFull));
    const chain = req.blockHashes;
    const pool = this.blockPool;
    for (let k = req.numCachedBlocks; k < numFull; k++)
      if (k >= chain.firstUniqueBlock) pool.cacheBlockDeferred(req.blockIds[k]);
      else pool.cacheBlock(req.blockIds[k], chain.get(k));
    if (numFull > req.numCachedBlocks) req.numCachedBlocks = numFull;
  }

  /**
   * vLLM `free`: reverse order, so the tail of the chain is evicted first. Hashes stay (lazy eviction). Returns the
   * freed blocks in free order (the request's old block table, reversed in place).
   */
  free(req: Request, preempted = false): number[] {
    const blocks = req.blockIds;
    if (preempted && this.enableCaching) {
      // the request may come back and re-hit its own unique blocks: make them findable now
      const pool = this.blockPool;
      for (let k = req.blockHashes.firstUniqueBlock; k < req.numCachedBlocks; k++)
        if (pool.isDeferred(blocks[k])) pool.publishDeferred(blocks[k], req.blockHashes.get(k));
    }
    this.blockPool.freeBlocksReversed(blocks);
    req.blockIds = [];
    req.numCachedBlocks = 0;
    return blocks.reverse();
  }
}
