import { BlockHashTable } from "./block-hash-table.ts";
import type { FreeQueueOrder } from "./types.ts";

const NO_HASH = -1;
/** A cached block whose hash is unique to its request: kept out of the lookup table until it could be hit. */
const DEFERRED = -2;
const EMPTY: number[] = [];

/**
 * The free-block queue (vLLM `FreeKVCacheBlockQueue`): an intrusive doubly linked list over block ids.
 *
 * Why a list and not a heap: eviction order is pure recency. The head is the next block handed out (and so the next
 * cached block evicted); freed blocks join at the tail. A request's blocks are freed in reverse, so the tail of its
 * hash chain sits nearest the head and is evicted first. `remove` is O(1) because a prefix hit pulls a block out of
 * the middle.
 *
 * Invariant: every block with refCnt 0 (except the null block) is in the queue exactly once.
 */
export class FreeKVCacheBlockQueue {
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly inQueue: Uint8Array;
  /** Sentinel index (== number of blocks) whose next is the head and prev the tail. */
  private readonly sentinel: number;
  numFreeBlocks = 0;

  constructor(numBlocks: number) {
    this.prev = new Int32Array(numBlocks + 1);
    this.next = new Int32Array(numBlocks + 1);
    this.inQueue = new Uint8Array(numBlocks);
    this.sentinel = numBlocks;
    this.prev[this.sentinel] = this.sentinel;
    this.next[this.sentinel] = this.sentinel;
  }

  /** Block id at the head, or -1 when empty. */
  peekHead(): number {
    const h = this.next[this.sentinel];
    return h === this.sentinel ? -1 : h;
  }

  popleft(): number {
    const h = this.next[this.sentinel];
    if (h === this.sentinel) throw new Error("INV: popleft on an empty free queue");
    this.remove(h);
    return h;
  }

  remove(b: number): void {
    if (!this.inQueue[b]) throw new Error(`INV: block ${b} removed from the free queue but is not in it`);
    const p = this.prev[b];
    const n = this.next[b];
    this.next[p] = n;
    this.prev[n] = p;
    this.inQueue[b] = 0;
    this.numFreeBlocks--;
  }

  append(b: number): void {
    this.insertAfter(this.prev[this.sentinel], b);
  }

  prepend(b: number): void {
    this.insertAfter(this.sentinel, b);
  }

  has(b: number): boolean {
    return this.inQueue[b] === 1;
  }

  private insertAfter(p: number, b: number): void {
    if (this.inQueue[b]) throw new Error(`INV: block ${b} appended to the free queue twice`);
    const n = this.next[p];
    this.prev[b] = p;
    this.next[b] = n;
    this.next[p] = b;
    this.prev[n] = b;
    this.inQueue[b] = 1;
    this.numFreeBlocks++;
  }

  /** Block ids from head (next to evict) to tail. */
  toArray(): number[] {
    const out: number[] = [];
    for (let b = this.next[this.sentinel]; b !== this.sentinel; b = this.next[b]) out.push(b);
    return out;
  }
}

/**
 * The pool of KV blocks (vLLM `BlockPool`, `vllm/v1/core/block_pool.py`).
 *
 * Block 0 is the null block (a placeholder vLLM never hands out), so usable blocks = numGpuBlocks − 1. Freed blocks
 * keep their hash: eviction is lazy and happens only when `getNewBlocks` hands a cached block out again, which is
 * what lets a preempted request re-hit its own blocks. Several blocks may carry the same hash (vLLM does not
 * de-duplicate, so block tables stay append-only); lookups return the first.
 *
 * Invariants: INV-1 numFree + referenced = numGpuBlocks − 1; INV-4 refCnt ≥ 0; a block with a hash is in
 * `cachedBlockHashToBlock`.
 */
export class BlockPool {
  readonly numGpuBlocks: number;
  readonly nullBlock = 0;
  readonly refCnt: Int32Array;
  /** Hash of a full cached block, or -1. */
  readonly blockHash: Float64Array;
  readonly freeBlockQueue: FreeKVCacheBlockQueue;
  private readonly cachedBlockHashToBlock: BlockHashTable;
  /** Blocks whose hash was dropped on reallocation since the last `takeEvicted()`, when recording. */
  private evicted: number[] | null = null;
  numCachedBlocks = 0;
  numDeferredBlocks = 0;
  /** Blocks with refCnt 0 that still hold a hash (evictable prefix-cache entries), kept incrementally. */
  numCachedFreeBlocks = 0;

  constructor(
    numGpuBlocks: number,
    readonly enableCaching: boolean,
    readonly freeQueueOrder: FreeQueueOrder = "append",
  ) {
    if (!Number.isInteger(numGpuBlocks) || numGpuBlocks < 2)
      throw new Error(`BlockPool needs at least 2 blocks (one is the null block), got ${numGpuBlocks}`);
    this.numGpuBlocks = numGpuBlocks;
    this.refCnt = new Int32Array(numGpuBlocks);
    this.blockHash = new Float64Array(numGpuBlocks).fill(NO_HASH);
    this.freeBlockQueue = new FreeKVCacheBlockQueue(numGpuBlocks);
    this.cachedBlockHashToBlock = new BlockHashTable(this.blockHash, numGpuBlocks);
    for (let b = 1; b < numGpuBlocks; b++) this.freeBlockQueue.append(b);
  }

  /** Starts collecting evicted block ids (for the event stream). */
  recordEvictions(on: boolean): void {
    this.evicted = on ? [] : null;
  }

  takeEvicted(): number[] {
    if (!this.evicted || this.evicted.length === 0) return [];
    const out = this.evicted;
    this.evicted = [];
    return out;
  }

  getNumFreeBlocks(): number {
    return this.freeBlockQueue.numFreeBlocks;
  }

  /** vLLM `get_usage`: fraction of usable blocks referenced by live requests (cached-but-free counts as free). */
  getUsage(): number {
    return 1 - this.freeBlockQueue.numFreeBlocks / (this.numGpuBlocks - 1);
  }

  /** vLLM `get_cached_block`. */
  getCachedBlock(hash: number): number {
    return this.cachedBlockHashToBlock.get(hash);
  }

  /** vLLM `get_new_blocks`: pops from the head, evicting any stale hash. Throws if short (callers check first). */
  getNewBlocks(n: number): number[] {
    if (n === 0) return EMPTY;
    const out: number[] = [];
    this.getNewBlocksInto(n, out);
    return out;
  }

  /** `getNewBlocks` appending straight onto a block table (no intermediate array on the hot path). */
  getNewBlocksInto(n: number, target: number[]): void {
    if (n > this.freeBlockQueue.numFreeBlocks)
      throw new Error(`INV: asked for ${n} blocks with ${this.freeBlockQueue.numFreeBlocks} free`);
    for (let i = 0; i < n; i++) {
      const b = this.freeBlockQueue.popleft();
      if (this.blockHash[b] !== NO_HASH) {
        this.numCachedFreeBlocks--;
        this.maybeEvictCachedBlock(b);
      }
      this.refCnt[b] = 1;
      target.push(b);
    }
  }

  /** vLLM `touch`: a prefix hit takes a reference, pulling an unreferenced block out of the free queue. */
  touch(blocks: readonly number[]): void {
    for (const b of blocks) {
      if (this.refCnt[b] === 0) {
        this.freeBlockQueue.remove(b);
        if (this.blockHash[b] !== NO_HASH) this.numCachedFreeBlocks--;
      }
      this.refCnt[b]++;
    }
  }

  /**
   * vLLM `free_blocks`: `ordered` is in eviction priority (first = evicted first). Blocks reaching refCnt 0 join the
   * tail ("append"), or with "split" fresh (hash-less) blocks go to the head so they are reused before cached ones.
   */
  freeBlocks(ordered: readonly number[]): void {
    const fresh: number[] = [];
    for (const b of ordered) {
      const r = --this.refCnt[b];
      if (r < 0) throw new Error(`INV-4: block ${b} refCnt went negative`);
      if (r === 0) {
        if (this.blockHash[b] !== NO_HASH) this.numCachedFreeBlocks++;
        if (this.freeQueueOrder === "split" && this.blockHash[b] === NO_HASH) fresh.push(b);
        else this.freeBlockQueue.append(b);
      }
    }
    // prepend in reverse so the first fresh block ends up at the head
    for (let i = fresh.length - 1; i >= 0; i--) this.freeBlockQueue.prepend(fresh[i]);
  }

  /** vLLM `cache_full_blocks` for one block: records its hash so later requests can hit it. */
  cacheBlock(b: number, hash: number): void {
    if (this.blockHash[b] !== NO_HASH) return;
    this.blockHash[b] = hash;
    this.numCachedBlocks++;
    this.cachedBlockHashToBlock.insert(b);
  }

  /**
   * Caches a block whose tokens are unique to its request (a generated token, or a prompt past the shared prefix).
   * Only that same request can ever hit it, and only after a preemption, so the table entry is deferred until
   * `publishDeferred` (called on preemption). It counts as cached everywhere else — free-queue order, eviction,
   * usage — exactly as the hashed block vLLM keeps. This keeps hashing and table work off the hot path.
   */
  cacheBlockDeferred(b: number): void {
    if (this.blockHash[b] !== NO_HASH) return;
    this.blockHash[b] = DEFERRED;
    this.numCachedBlocks++;
    this.numDeferredBlocks++;
  }

  /** Gives a deferred block its real hash and makes it findable. */
  publishDeferred(b: number, hash: number): void {
    if (this.blockHash[b] !== DEFERRED) return;
    this.numDeferredBlocks--;
    this.blockHash[b] = hash;
    this.cachedBlockHashToBlock.insert(b);
  }

  /** True when block b is a prefix-cache entry (has a hash, possibly deferred). */
  isCached(b: number): boolean {
    return this.blockHash[b] !== NO_HASH;
  }

  isDeferred(b: number): boolean {
    return this.blockHash[b] === DEFERRED;
  }

  private maybeEvictCachedBlock(b: number): void {
    if (this.blockHash[b] === DEFERRED) this.numDeferredBlocks--;
    else this.cachedBlockHashToBlock.remove(b);
    this.blockHash[b] = NO_HASH;
    this.numCachedBlocks--;
    if (this.evicted) this.evicted.push(b);
  }

  /** vLLM `free_blocks` over a request's block table in reverse (tail of the chain evicted first), no copy. */
  freeBlocksReversed(blocks: readonly number[]): void {
    if (this.freeQueueOrder === "split") {
      this.freeBlocks(blocks.slice().reverse());
      return;
    }
    for (let i = blocks.length - 1; i >= 0; i--) {
      const b = blocks[i];
      const r = --this.refCnt[b];
      if (r < 0) throw new Error(`INV-4: block ${b} refCnt went negative`);
      if (r === 0) {
        if (this.blockHash[b] !== NO_HASH) this.numCachedFreeBlocks++;
        this.freeBlockQueue.append(b);
      }
    }
  }

  /** INV-1 and INV-4, for tests and debug runs. */
  checkInvariants(): void {
    let referenced = 0;
    let cachedFree = 0;
    for (let b = 1; b < this.numGpuBlocks; b++) {
      if (this.refCnt[b] === 0 && this.blockHash[b] !== NO_HASH) cachedFree++;
      if (this.refCnt[b] < 0) throw new Error(`INV-4: block ${b} has refCnt ${this.refCnt[b]}`);
      if (this.refCnt[b] > 0) {
        referenced++;
        if (this.freeBlockQueue.has(b)) throw new Error(`INV-1: referenced block ${b} is in the free queue`);
      } else if (!this.freeBlockQueue.has(b)) throw new Error(`INV-1: free block ${b} is missing from the free queue`);
    }
    if (this.cachedBlockHashToBlock.size !== this.numCachedBlocks - this.numDeferredBlocks)
      throw new Error(`INV: ${this.numCachedBlocks} cached blocks but ${this.cachedBlockHashToBlock.size} in the table`);
    if (cachedFree !== this.numCachedFreeBlocks)
      throw new Error(`INV: cached-free count ${this.numCachedFreeBlocks} != actual ${cachedFree}`);
    if (referenced + this.freeBlockQueue.numFreeBlocks !== this.numGpuBlocks - 1)
      throw new Error(
        `INV-1: free ${this.freeBlockQueue.numFreeBlocks} + referenced ${referenced} != usable ${this.numGpuBlocks - 1}`,
      );
  }
}
