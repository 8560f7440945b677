import { DEFAULT_HASH_BLOCK_TOKENS } from "../traces/types.ts";

/**
 * Block hashes without token ids (vLLM `hash_block_tokens`, `kv_cache_utils.py`).
 *
 * Traces carry token counts, not tokens, so a token's identity is synthetic (the Mooncake convention): prompt token j
 * of a request with hash ids H (C tokens per id) is (H[⌊j/C⌋], j mod C); prompt tokens past the hashed chunks and every
 * generated token are unique to their request, identified by (request uid, j). A block's hash chains
 * (parent hash, identities of its block_size tokens) exactly as vLLM chains (parent hash, token ids), so identical
 * identities give identical hashes and caching behaves as if the real tokens were there.
 *
 * Hashes are 53-bit integers (two 32-bit lanes mixed, one truncated) so they key a plain Map; the chance of a false
 * hit is ~1e-10 per lookup at a million cached blocks.
 */

const NONE_HASH = 0x1234567;
const UNIQUE_TAG = 0x5bd1e995;

function mix32(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Combines two lanes into a non-negative 53-bit integer. */
function pack(h1: number, h2: number): number {
  return (h1 >>> 0) * 0x200000 + (h2 & 0x1fffff);
}

/** The identity source of one request's tokens. */
export interface TokenIdentity {
  /** Unique per request in a run (its trace index). */
  uid: number;
  promptTokens: number;
  hashIds?: readonly number[];
  hashBlockTokens?: number;
}

/**
 * Hash of block `k` given its parent's hash. Segment rule: a block whose tokens all carry shared identities hashes the
 * (hash id, offset, length) runs it covers; a block with any unique token hashes (uid, k) — once the chain holds a
 * unique token every later block is unique to the request anyway, because the parent hash is.
 */
export function blockHash(parent: number, id: TokenIdentity, k: number, blockSize: number): number {
  const start = k * blockSize;
  const end = start + blockSize;
  const C = id.hashBlockTokens ?? DEFAULT_HASH_BLOCK_TOKENS;
  const H = id.hashIds;
  const sharedEnd = H ? Math.min(id.promptTokens, H.length * C) : 0;
  let h1 = mix32(parent >>> 0, (parent / 0x100000000) >>> 0);
  let h2 = mix32(h1 ^ 0x27d4eb2f, parent & 0x1fffff);
  if (end > sharedEnd) {
    h1 = mix32(mix32(h1, UNIQUE_TAG), id.uid);
    h1 = mix32(h1, k);
    h2 = mix32(mix32(h2, id.uid ^ UNIQUE_TAG), k + 0x9e3779b9);
    return pack(h1, h2);
  }
  // All tokens shared: walk the chunk runs the block covers.
  let j = start;
  while (j < end) {
    const chunk = Math.floor(j / C);
    const runEnd = Math.min(end, (chunk + 1) * C);
    const hid = H![chunk];
    const off = j - chunk * C;
    h1 = mix32(mix32(mix32(h1, hid), off), runEnd - j);
    h2 = mix32(mix32(mix32(h2, hid ^ 0x68e31da4), off + 0x1b873593), runEnd - j);
    j = runEnd;
  }
  return pack(h1, h2);
}

/**
 * The hash chain of a request's full blocks, computed lazily as far as asked (vLLM computes `request.block_hashes`
 * incrementally as tokens are appended). Identities of future generated tokens are known in advance (they are unique),
 * but callers only ask for blocks whose tokens exist.
 */
export class BlockHashChain {
  private readonly hashes: number[] = [];
  constructor(
    private readonly id: TokenIdentity,
    private readonly blockSize: number,
  ) {}

  /** Hash of full block k (0-based). */
  get(k: number): number {
    while (this.hashes.length <= k) {
      const i = this.hashes.length;
      const parent = i === 0 ? NONE_HASH : this.hashes[i - 1];
      this.hashes.push(blockHash(parent, this.id, i, this.blockSize));
    }
    return this.hashes[k];
  }
}
