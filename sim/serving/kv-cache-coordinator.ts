import type { KvLayout, ModelSpec } from "../model/types.ts";
import { BlockPool } from "./block-pool.ts";
import type { ComputedBlocks, KvCacheAllocator, PrefixCacheStats } from "./kv-cache-manager.ts";
import type { Request } from "./request.ts";
import {
  FullAttentionManager,
  NULL_BLOCK,
  SlidingWindowManager,
  type KvCacheGroupSpec,
  type OnCached,
  type SingleTypeKVCacheManager,
} from "./single-type-kv-cache-manager.ts";
import type { FreeQueueOrder } from "./types.ts";

/**
 * The KV-cache groups vLLM builds for a model (`_get_kv_cache_config_uniform_page_size`, v0.9–v0.10): layers of one
 * kind (full attention, or one sliding window) in groups of `groupSize` = the smaller kind's layer count, kinds in
 * the order of their first layer (Gemma-2 and gpt-oss start with a sliding layer, so their sliding group is group 0).
 * A model without sliding layers has one full-attention group; one with only sliding layers (Mistral-7B-v0.1,
 * Phi-3-mini) one sliding group.
 */
export function kvCacheGroupSpecs(model: ModelSpec, layout: KvLayout): KvCacheGroupSpec[] {
  const nFull = layout.numFullAttentionLayers;
  const nSliding = layout.numSlidingLayers;
  const window = layout.slidingWindow;
  if (nSliding === 0 || window === undefined) return [{ kind: "full_attention" }];
  const sliding: KvCacheGroupSpec = { kind: "sliding_window", slidingWindow: window };
  if (nFull === 0) return [sliding];
  const groupSize = Math.min(nFull, nSliding);
  const fullGroups = Array.from({ length: Math.ceil(nFull / groupSize) }, (): KvCacheGroupSpec => ({ kind: "full_attention" }));
  const slidingGroups = Array.from({ length: Math.ceil(nSliding / groupSize) }, () => ({ ...sliding }));
  const slidingFirst = model.layerTypes ? model.layerTypes[0] === "sliding_attention" : true;
  return slidingFirst ? [...slidingGroups, ...fullGroups] : [...fullGroups, ...slidingGroups];
}

/** A prefix hit across groups: `blocks` every non-null hit block (group by group), `groups` each group's hit list. */
export interface GroupedComputedBlocks extends ComputedBlocks {
  groups: number[][];
}

const NO_HIT: GroupedComputedBlocks = Object.freeze({ blocks: [], numTokens: 0, groups: [] }) as GroupedComputedBlocks;

/**
 * Allocation over several KV-cache groups sharing one pool (vLLM `KVCacheCoordinator` with `KVCacheManager`'s
 * `allocate_slots` on top, `vllm/v1/core/kv_cache_coordinator.py` + `kv_cache_manager.py`, v0.9.2–v0.10):
 * `UnitaryKVCacheCoordinator` when there is one group (a sliding-window-only model), `HybridKVCacheCoordinator`
 * for full + sliding groups. A model with one full-attention group uses `KVCacheManager`, the single-table fast path.
 *
 * Why groups share one pool: one physical block holds one page for each of a group's `groupSize` layers, whichever
 * group uses it, so a sliding group's freed blocks serve the full group's growth (vLLM's hybrid allocator).
 *
 * Invariants: COORD-1 a request's tables in every group have the same length (they index the same token blocks) and
 * the same number of cached blocks; COORD-2 `allocateSlots` takes nothing unless the blocks of every group fit
 * (checked against the free queue first); COORD-3 the sliding groups (one window) have null blocks at the same
 * positions.
 */
export class KVCacheCoordinator implements KvCacheAllocator {
  readonly blockPool: BlockPool;
  readonly stats: PrefixCacheStats = { queries: 0, hits: 0 };
  readonly managers: SingleTypeKVCacheManager[];
  returnNewBlockIds = true;
  onCached: OnCached | null = null;
  /** Called with the blocks a sliding group drops outside its window, in free order (event stream). */
  onSkippedFreed: ((req: Request, blockIds: number[]) => void) | null = null;
  /**
   * Per request, how many of its last prefix-hit blocks (`touched`, nulls left out) and of its last new blocks
   * (`allocated`) each group contributed, in group order: the `groupBlocks` of the `blocks_touched` /
   * `blocks_allocated` events, which list the blocks of all groups concatenated. Recorded only when new block ids are
   * returned (the event stream wants them) and there is more than one group; an entry goes when the request is freed.
   */
  readonly lastGroupBlocks = new Map<Request, { touched: number[]; allocated: number[] }>();
  private readonly fullGroupIds: number[] = [];
  private readonly otherGroupIds: number[] = [];
  /** The first sliding group's manager (all sliding groups share one window), for the decode fast path. */
  private readonly firstSliding: SlidingWindowManager | null;

  constructor(
    numGpuBlocks: number,
    readonly groupSpecs: readonly KvCacheGroupSpec[],
    readonly blockSize: number,
    readonly maxModelLen: number,
    readonly enableCaching: boolean,
    freeQueueOrder: FreeQueueOrder = "append",
  ) {
    if (groupSpecs.length === 0) throw new Error("KVCacheCoordinator needs at least one KV-cache group");
    this.blockPool = new BlockPool(numGpuBlocks, enableCaching, freeQueueOrder);
    this.managers = groupSpecs.map((g, i) =>
      g.kind === "sliding_window"
        ? new SlidingWindowManager(this.blockPool, blockSize, i, enableCaching, g.slidingWindow!)
        : new FullAttentionManager(this.blockPool, blockSize, i, enableCaching),
    );
    groupSpecs.forEach((g, i) => (g.kind === "full_attention" ? this.fullGroupIds : this.otherGroupIds).push(i));
    // vLLM `verify_and_split_kv_cache_groups`: one other kind (one window) beside full attention
    const windows = new Set(groupSpecs.filter((g) => g.kind === "sliding_window").map((g) => g.slidingWindow));
    if (windows.size > 1) throw new Error("KVCacheCoordinator supports one sliding window beside full attention");
    this.firstSliding = (this.managers.find((m) => m instanceof SlidingWindowManager) as SlidingWindowManager) ?? null;
  }

  get usage(): number {
    return this.blockPool.getUsage();
  }

  get numGroups(): number {
    return this.managers.length;
  }

  /**
   * vLLM `get_computed_blocks` → `find_longest_cache_hit`. At most numTokens − 1 tokens can hit. Hybrid: the
   * full-attention groups' hit first, then the sliding groups' hit within that length, then the full hit cut back
   * to the sliding one (both in whole blocks, as the groups share one block size).
   */
  getComputedBlocks(req: Request): GroupedComputedBlocks {
    if (!this.enableCaching) return NO_HIT;
    const chain = req.blockHashes;
    const maxLength = req.numTokens - 1;
    const bs = this.blockSize;
    const groups: number[][] = new Array(this.managers.length);
    let hitLength: number;
    if (this.fullGroupIds.length === 0 || this.otherGroupIds.length === 0) {
      // unitary: every group of one kind
      const ids = this.fullGroupIds.length > 0 ? this.fullGroupIds : this.otherGroupIds;
      const hits = this.managers[ids[0]].findLongestCacheHit(chain, maxLength, ids);
      ids.forEach((g, i) => (groups[g] = hits[i]));
      hitLength = hits[0].length * bs;
    } else {
      const fullHits = this.managers[this.fullGroupIds[0]].findLongestCacheHit(chain, maxLength, this.fullGroupIds);
      hitLength = fullHits[0].length * bs;
      const otherHits = this.managers[this.otherGroupIds[0]].findLongestCacheHit(chain, hitLength, this.otherGroupIds);
      hitLength = otherHits[0].length * bs;
      for (const h of fullHits) h.length = hitLength / bs;
      this.fullGroupIds.forEach((g, i) => (groups[g] = fullHits[i]));
      this.otherGroupIds.forEach((g, i) => (groups[g] = otherHits[i]));
    }
    if (hitLength === 0) return NO_HIT;
    const blocks: number[] = [];
    for (const list of groups) for (const b of list) if (b !== NULL_BLOCK) blocks.push(b);
    return { blocks, numTokens: hitLength, groups };
  }

  recordPrefixLookup(req: Request, hitTokens: number): void {
    if (!this.enableCaching) return;
    this.stats.queries += req.numTokens;
    this.stats.hits += hitTokens;
  }

  allocateSlots(req: Request, numNewTokens: number): number[] | null {
    if (this.nothingToDo(req, numNewTokens)) return NONE as number[];
    return this.allocateSlotsForHit(req, numNewTokens, NO_HIT);
  }

  /**
   * The decode fast path (most steps of a running request): true when `allocateSlotsForHit` would change nothing —
   * the new tokens fit in the blocks held, no block became full, and no sliding group has a block to drop. By
   * COORD-1 the first group's table and cached count stand for every group's, and by COORD-3 the first sliding group's
   * nulls stand for every sliding group's.
   */
  private nothingToDo(req: Request, numNewTokens: number): boolean {
    const m0 = this.managers[0];
    const table = m0.reqToBlocks.get(req);
    if (!table) return false;
    const bs = this.blockSize;
    const c = req.numComputedTokens;
    if (Math.min(c + numNewTokens, this.maxModelLen) > table.length * bs) return false;
    if (this.enableCaching && Math.floor(Math.min(c + numNewTokens, req.numTokens) / bs) > (m0.numCachedBlock.get(req) ?? 0))
      return false;
    const sw = this.firstSliding;
    if (sw !== null) {
      const lastUsefulBlock = Math.floor((c - sw.slidingWindow + 1) / bs);
      if (lastUsefulBlock > 0) {
        const t = sw === m0 ? table : sw.reqToBlocks.get(req);
        if (!t || t[Math.min(lastUsefulBlock, t.length) - 1] !== NULL_BLOCK) return false;
      }
    }
    return true;
  }

  /**
   * vLLM `allocate_slots` (v0.10): first free what the sliding groups no longer need at the request's current
   * computed tokens (even if the allocation then fails: "to reduce the number of evicted blocks"); then the blocks
   * of every group are counted against the free queue before any is taken (COORD-2); then prefix hits are touched,
   * new blocks allocated group by group, and newly full blocks cached. Returns the new block ids of all groups, or
   * null when they do not fit.
   */
  allocateSlotsForHit(req: Request, numNewTokens: number, hit: ComputedBlocks): number[] | null {
    const managers = this.managers;
    const hitGroups = (hit as GroupedComputedBlocks).groups;
    const hasHit = hit.numTokens > 0;
    if (hasHit && hitGroups?.length !== managers.length)
      throw new Error(`INV: request ${req.reqId} hit has ${hitGroups?.length ?? 0} groups, expected ${managers.length}`);
    for (const m of managers) {
      const dropped = m.removeSkippedBlocks(req, req.numComputedTokens);
      if (dropped.length > 0 && this.onSkippedFreed) this.onSkippedFreed(req, dropped.slice());
    }
    const numComputed = req.numComputedTokens + hit.numTokens;
    const numTokensNeedSlot = Math.min(numComputed + numNewTokens, this.maxModelLen);
    let numBlocksToAllocate = 0;
    for (let g = 0; g < managers.length; g++)
      numBlocksToAllocate += managers[g].getNumBlocksToAllocate(req, numTokensNeedSlot, hasHit ? hitGroups[g] : NONE);
    if (numBlocksToAllocate > this.blockPool.getNumFreeBlocks()) return null;

    const record = this.returnNewBlockIds && managers.length > 1;
    const touchedPerGroup: number[] = record ? new Array(managers.length).fill(0) : NONE;
    if (hasHit) {
      for (let g = 0; g < hitGroups.length; g++) {
        const live: number[] = [];
        for (const b of hitGroups[g]) if (b !== NULL_BLOCK) live.push(b);
        this.blockPool.touch(live);
        if (record) touchedPerGroup[g] = live.length;
      }
    }
    for (let g = 0; g < managers.length; g++) managers[g].saveNewComputedBlocks(req, hasHit ? hitGroups[g] : NONE);
    const newBlocks: number[] = [];
    const allocatedPerGroup: number[] = record ? new Array(managers.length) : NONE;
    for (let g = 0; g < managers.length; g++) {
      const before = newBlocks.length;
      managers[g].allocateNewBlocks(req, numTokensNeedSlot, newBlocks);
      if (record) allocatedPerGroup[g] = newBlocks.length - before;
    }
    if (record) this.lastGroupBlocks.set(req, { touched: touchedPerGroup, allocated: allocatedPerGroup });
    if (this.enableCaching) {
      const numTokensToCache = Math.min(numComputed + numNewTokens, req.numTokens);
      for (const m of managers) m.cacheBlocks(req, numTokensToCache, this.onCached);
    }
    return this.returnNewBlockIds ? newBlocks : (NONE as number[]);
  }

  /** vLLM `free`: group by group, each table in reverse. Returns every freed block id in free order. */
  free(req: Request, preempted = false): number[] {
    this.lastGroupBlocks.delete(req);
    const out: number[] = [];
    for (const m of this.managers) m.free(req, preempted, out);
    return out;
  }

  /** Every non-null block a request holds, group by group. */
  blocksOf(req: Request): number[] {
    const out: number[] = [];
    for (const m of this.managers) {
      const table = m.reqToBlocks.get(req);
      if (table) for (const b of table) if (b !== NULL_BLOCK) out.push(b);
    }
    return out;
  }

  /** Group g's block table of a request (null blocks included), for tests and the invariants. */
  blockTable(req: Request, g: number): readonly number[] {
    return this.managers[g].reqToBlocks.get(req) ?? NONE;
  }

  /** COORD-1, COORD-3, SWA-1, SWA-2 and the pool's INV-1/INV-4. */
  checkInvariants(requests: Iterable<Request>): void {
    this.blockPool.checkInvariants();
    if (this.blockPool.refCnt[NULL_BLOCK] !== 0) throw new Error("INV: SWA-2 the null block was referenced");
    for (const r of requests) {
      const m0 = this.managers[0];
      const len = m0.reqToBlocks.get(r)?.length ?? 0;
      const cached = m0.numCachedBlock.get(r);
      let nulls = -1;
      for (const m of this.managers) {
        const t = m.reqToBlocks.get(r) ?? NONE;
        if (t.length !== len || m.numCachedBlock.get(r) !== cached)
          throw new Error(`INV: COORD-1 request ${r.reqId}: group ${m.kvCacheGroupId} differs in table length or cached blocks`);
        let lead = 0;
        while (lead < t.length && t[lead] === NULL_BLOCK) lead++;
        for (let i = lead; i < t.length; i++)
          if (t[i] === NULL_BLOCK) throw new Error(`INV: SWA-1 request ${r.reqId}: a null block after a live one`);
        if (m instanceof SlidingWindowManager) {
          if (nulls >= 0 && lead !== nulls) throw new Error(`INV: COORD-3 request ${r.reqId}: sliding groups differ`);
          nulls = lead;
        } else if (lead > 0) throw new Error(`INV: request ${r.reqId}: a full-attention group holds null blocks`);
      }
    }
  }
}

const NONE: number[] = [];
