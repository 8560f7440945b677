/**
 * The KV block map as the client knows it: one entry per physical block, updated from the `blocks` snapshot
 * message and the per-block engine events (blocks_allocated / touched / freed / cached / evicted).
 *
 * Why the client keeps its own copy instead of asking for the map every frame: a 200k-block pool is 200k entries;
 * the events say what changed. The snapshot (`blocks` message, sent on subscribe and after a seek) resets it.
 *
 * Invariants:
 * - BLK-1 state[i] is FREE, USED, CACHED_FREE or NULL; USED ⇔ refCnt[i] > 0 (for blocks learnt from events).
 * - BLK-2 a freed block with a hash (it was cached) becomes CACHED_FREE, one without becomes FREE (vLLM's free
 *   queue keeps cached blocks reusable until evicted).
 * Flash times are wall-clock ms (performance.now()) so a flash lasts the same on screen at any simulation speed.
 */
export const FREE = 0;
export const USED = 1;
export const CACHED_FREE = 2;
export const NULL_BLOCK = 3;

/** Block ids of one event: an array, or a view into a packed frame (frame-pack.ts). */
export type BlockIds = ArrayLike<number> & Iterable<number>;

export type FlashKind = 0 | 1 | 2; // none, eviction, prefix hit
export const FLASH_NONE = 0;
export const FLASH_EVICT = 1;
export const FLASH_HIT = 2;

export class BlockStateMap {
  n = 0;
  state = new Uint8Array(0);
  owner = new Int32Array(0);
  refCnt = new Int32Array(0);
  /**
   * Position of the block in its owner's block table of its KV-cache group (= hash-chain position for full blocks;
   * all of a request's group tables index the same token blocks), -1 unknown.
   */
  chainPos = new Int32Array(0);
  /** KV-cache group of the table `chainPos` counts in (-1 unknown); only hybrid models have more than group 0. */
  group = new Int8Array(0);
  /** Whether any event named a group other than 0 (the hover then names each block's group). */
  multiGroup = false;
  hashed = new Uint8Array(0);
  lastTouched = new Float64Array(0);
  /** 0 unknown, 1 allocated fresh, 2 prefix hit (touched from the cache). */
  how = new Uint8Array(0);
  flashAt = new Float64Array(0);
  flashKind = new Uint8Array(0);
  /**
   * Each request's block tables, one per KV-cache group (touched prefix blocks first, then its own; -1 where a
   * sliding window dropped a block or its prefix hit has the null block), to place new blocks in their group's chain
   * and to release them when the engine reports them freed. Events without a group (single-group models) use group 0.
   */
  private tables = new Map<number, number[][]>();
  /** Bumped on every change so views can skip redraws. */
  version = 0;
  /** Blocks whose state changed since the last `takeDirty()`; null = everything. */
  private dirty: Set<number> | null = null;

  resize(n: number): void {
    this.n = n;
    this.state = new Uint8Array(n);
    this.owner = new Int32Array(n).fill(-1);
    this.refCnt = new Int32Array(n);
    this.chainPos = new Int32Array(n).fill(-1);
    this.group = new Int8Array(n).fill(-1);
    this.multiGroup = false;
    this.hashed = new Uint8Array(n);
    this.lastTouched = new Float64Array(n).fill(NaN);
    this.how = new Uint8Array(n);
    this.flashAt = new Float64Array(n).fill(-Infinity);
    this.flashKind = new Uint8Array(n);
    this.tables.clear();
    // vLLM reserves block 0 as the null block (never allocated): draw it as such until told otherwise.
    if (n > 0) this.state[0] = NULL_BLOCK;
    this.touchAll();
  }

  /**
   * Replaces everything with the server's full map (`blocks` message). `tables` (`[reqId, group, ...blockIds]` per
   * running request and KV-cache group) give the held blocks their chain positions, reference counts and the
   * requests their tables, and `cachedInUse` the held blocks already hashed; without them positions stay unknown
   * until blocks are cached.
   */
  load(
    state: ArrayLike<number>,
    owner: ArrayLike<number>,
    t: number,
    tables?: readonly (readonly number[])[],
    cachedInUse?: readonly number[],
  ): void {
    if (state.length !== this.n) this.resize(state.length);
    this.tables.clear();
    for (let i = 0; i < this.n; i++) {
      const s = state[i];
      this.state[i] = s;
      this.owner[i] = owner[i] ?? -1;
      this.refCnt[i] = s === USED ? 1 : 0;
      this.hashed[i] = s === CACHED_FREE ? 1 : 0;
      this.chainPos[i] = -1;
      this.group[i] = -1;
      this.lastTouched[i] = s === FREE ? NaN : t;
      this.how[i] = 0;
      this.flashKind[i] = FLASH_NONE;
    }
    // Every table holding a block holds a reference (prefix sharing): count them, so a shared block stays in use
    // until its last holder frees it.
    if (tables) for (let i = 0; i < this.n; i++) if (this.state[i] === USED) this.refCnt[i] = 0;
    for (const row of tables ?? []) {
      const [reqId, group] = row;
      const table = this.table(reqId, group);
      table.length = 0;
      for (let k = 2; k < row.length; k++) {
        const b = row[k];
        table.push(b);
        if (b < 0 || b >= this.n) continue;
        this.chainPos[b] = k - 2;
        this.group[b] = group;
        this.refCnt[b]++;
      }
      if (group > 0) this.multiGroup = true;
    }
    if (tables) for (let i = 0; i < this.n; i++) if (this.state[i] === USED && this.refCnt[i] === 0) this.refCnt[i] = 1;
    for (const b of cachedInUse ?? []) if (b >= 0 && b < this.n) this.hashed[b] = 1;
    this.touchAll();
  }

  /**
   * Aggregate mode (per-block events off for a huge pool): cells show only how many blocks are in each state,
   * in order used → cached-free → free, with no owners. The view says so in its caption.
   */
  loadCounts(used: number, cachedFree: number, free: number): void {
    let i = this.n > 0 ? 1 : 0;
    const fill = (k: number, s: number) => {
      for (let j = 0; j < k && i < this.n; j++, i++) {
        if (this.state[i] !== s || this.owner[i] !== -1) this.mark(i);
        this.state[i] = s;
        this.owner[i] = -1;
      }
    };
    fill(used, USED);
    fill(cachedFree, CACHED_FREE);
    fill(free, FREE);
  }

  /**
   * Fresh blocks for a request, at the end of its table of KV-cache group `group`. `hashed` is left alone: a reused
   * cached block is always `blocks_evicted` first, and the step's `blocks_cached` follows its allocations.
   */
  allocated(reqId: number, blockIds: BlockIds, t: number, group = 0): void {
    const table = this.table(reqId, group);
    if (group > 0) this.multiGroup = true;
    for (const b of blockIds) {
      if (b < 0 || b >= this.n) continue;
      this.state[b] = USED;
      this.owner[b] = reqId;
      this.refCnt[b] = 1;
      this.chainPos[b] = table.length;
      this.group[b] = group;
      table.push(b);
      this.lastTouched[b] = t;
      this.how[b] = 1;
      this.mark(b);
    }
  }

  /**
   * A prefix-cache hit: the request reuses cached blocks, which form the front of its block table. Applied after
   * the step's allocations (see ServeStore): a request admitted in the same step as the one computing those blocks
   * touches them before the engine reports their allocation, and each reference must count. A -1 in `blockIds` is
   * a hit position without a block (the null block of a sliding group, frame-pack.ts): it holds its place as a hole.
   */
  touched(reqId: number, blockIds: BlockIds, t: number, now: number, group = 0): void {
    const table = this.table(reqId, group);
    if (group > 0) this.multiGroup = true;
    const hits: number[] = [];
    for (const b of blockIds) if (b === -1 || (b >= 0 && b < this.n)) hits.push(b);
    for (const b of table) if (b >= 0 && this.owner[b] === reqId && this.chainPos[b] >= 0) this.chainPos[b] += hits.length;
    table.unshift(...hits);
    hits.forEach((b, i) => {
      if (b < 0) return;
      this.state[b] = USED;
      this.refCnt[b] = Math.max(0, this.refCnt[b]) + 1;
      this.owner[b] = reqId;
      if (this.chainPos[b] < 0) this.chainPos[b] = i;
      this.group[b] = group;
      this.lastTouched[b] = t;
      this.how[b] = 2;
      this.flashAt[b] = now;
      this.flashKind[b] = FLASH_HIT;
      this.mark(b);
    });
  }

  cached(blockIds: BlockIds, firstBlockIndex: number): void {
    for (let i = 0; i < blockIds.length; i++) {
      const b = blockIds[i];
      if (b < 0 || b >= this.n) continue;
      this.hashed[b] = 1;
      this.chainPos[b] = firstBlockIndex + i;
      this.mark(b);
    }
  }

  freed(reqId: number, blockIds: BlockIds, t: number): void {
    for (const b of blockIds) {
      if (b < 0 || b >= this.n) continue;
      this.refCnt[b] = Math.max(0, this.refCnt[b] - 1);
      if (this.refCnt[b] === 0) this.state[b] = this.hashed[b] ? CACHED_FREE : FREE; // BLK-2
      this.lastTouched[b] = t;
      this.mark(b);
    }
    this.release(reqId, blockIds);
  }

  /**
   * Takes freed blocks out of a request's table. A request that finished or was preempted frees them all and its
   * table goes; a sliding-window group frees the blocks that left the window while the request runs on, and those
   * become holes (-1), as vLLM puts the null block there, so later blocks keep their chain positions.
   */
  private release(reqId: number, blockIds: BlockIds): void {
    const tables = this.tables.get(reqId);
    if (!tables) return;
    const gone = new Set<number>(blockIds);
    let live = 0;
    for (const table of tables) {
      for (let i = 0; i < table.length; i++) {
        if (gone.has(table[i])) table[i] = -1;
        else if (table[i] >= 0) live++;
      }
    }
    // all groups go together: a group's holes keep their place while another group still holds blocks
    if (live === 0) this.tables.delete(reqId);
  }

  private table(reqId: number, group: number): number[] {
    let tables = this.tables.get(reqId);
    if (!tables) {
      tables = [];
      this.tables.set(reqId, tables);
    }
    while (tables.length <= group) tables.push([]);
    return tables[group];
  }

  evicted(blockIds: BlockIds, now: number): void {
    for (const b of blockIds) {
      if (b < 0 || b >= this.n) continue;
      this.hashed[b] = 0;
      if (this.state[b] === CACHED_FREE) this.state[b] = FREE;
      this.flashAt[b] = now;
      this.flashKind[b] = FLASH_EVICT;
      this.mark(b);
    }
  }

  counts(): { free: number; used: number; cachedFree: number } {
    let free = 0, used = 0, cachedFree = 0;
    for (let i = 0; i < this.n; i++) {
      const s = this.state[i];
      if (s === FREE) free++;
      else if (s === USED) used++;
      else if (s === CACHED_FREE) cachedFree++;
    }
    return { free, used, cachedFree };
  }

  /** The set of blocks changed since the last call (null = redraw all). */
  takeDirty(): Set<number> | null {
    const d = this.dirty;
    this.dirty = new Set();
    return d;
  }

  private mark(b: number): void {
    this.version++;
    if (this.dirty) this.dirty.add(b);
  }

  private touchAll(): void {
    this.version++;
    this.dirty = null;
  }
}
