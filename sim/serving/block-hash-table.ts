/**
 * vLLM's `cached_block_hash_to_block` as an open-addressing table over block ids.
 *
 * Why not a Map: block hashes are 53-bit numbers, which V8 boxes as Map keys; a replay hashes and evicts millions of
 * blocks, and boxing made the map the top cost of a replay. The table never grows: at most every block is cached, so
 * capacity ≥ 4 × blocks keeps the load ≤ ¼. Deletion shifts the rest of the probe run back (no tombstones), which
 * also keeps entries in insertion order along their probe path.
 *
 * Several blocks may carry one hash (vLLM keeps duplicates so block tables stay append-only); `get` returns the one
 * cached first, as vLLM's dict does: an older duplicate always sits earlier on the probe path.
 */
import { hashKey } from "./block-hash.ts";

export class BlockHashTable {
  private readonly slots: Int32Array;
  private readonly mask: number;
  private live = 0;

  /** Per block, the table key (low 21 bits) of its hash, so probing never truncates a 53-bit double. */
  private readonly blockKey: Int32Array;

  constructor(
    private readonly blockHash: Float64Array,
    numBlocks: number,
  ) {
    this.blockKey = new Int32Array(numBlocks);
    let cap = 16;
    while (cap < numBlocks * 4) cap *= 2;
    this.slots = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.live;
  }


  /** First block cached with this hash, or −1. */
  get(hash: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const bh = this.blockHash;
    for (let i = hashKey(hash) & mask; ; i = (i + 1) & mask) {
      const b = slots[i];
      if (b === -1) return -1;
      if (bh[b] === hash) return b;
    }
  }

  /** Adds block b under blockHash[b] (already set). */
  insert(b: number): void {
    const slots = this.slots;
    const mask = this.mask;
    const key = hashKey(this.blockHash[b]);
    this.blockKey[b] = key;
    let i = key & mask;
    while (slots[i] !== -1) i = (i + 1) & mask;
    slots[i] = b;
    this.live++;
  }

  /** Removes block b (call before clearing blockHash[b]). */
  remove(b: number): void {
    const slots = this.slots;
    const mask = this.mask;
    const keys = this.blockKey;
    let i = keys[b] & mask;
    while (slots[i] !== b) {
      if (slots[i] === -1) throw new Error(`INV: block ${b} is not in the prefix-cache table`);
      i = (i + 1) & mask;
    }
    // backward-shift deletion: move later entries of the run into the hole unless they would pass their home slot
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const v = slots[j];
      if (v === -1) break;
      const k = keys[v] & mask;
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (stays) continue;
      slots[i] = v;
      i = j;
    }
    slots[i] = -1;
    this.live--;
  }
}
