import { DEFAULT_HASH_BLOCK_TOKENS } from "../traces/types.ts";

/**
 * Block hashes without token ids (vLLM `hash_block_tokens`, `kv_cache_utils.py`).
 *
 * Traces carry token counts, not tokens, so a token's identity is synthetic (the Mooncake convention): prompt token j
 * of a request with hash ids H (C tokens per id) is (H[⌊j/C⌋], j mod C); prompt tokens past the hashed chunks and every
 * generated token are unique to their request, identified by (request uid, j) — except in conversation traces, whose
 * ids go on over the answer (`outputTokens`), so the next turn, which repeats it, hits its blocks. A block's hash chains
 * (parent hash, identities of its block_size tokens) exactly as vLLM chains (parent hash, token ids), so identical
 * identities give identical hashes and caching behaves as if the real tokens were there.
 *
 * Hashes are 53-bit integers (two 32-bit lanes mixed, one truncated) so they key a plain Map; the chance of a false
 * hit is ~1e-10 per lookup at a million cached blocks.
 */

/** The root parent (vLLM's NONE_HASH), as lanes; `NONE_HASH` is its packed form. */
const NONE_H1 = 0x1234567;
const NONE_H2 = 0x7654321;
const UNIQUE_TAG = 0x5bd1e995;
const TWO21 = 0x200000;
export const NONE_HASH = (NONE_H1 >>> 0) * TWO21 + (NONE_H2 & 0x1fffff);

function mix32(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Packs the two int32 lanes into one non-negative 53-bit integer (the public hash value). */
function pack(h1: number, h2: number): number {
  return (h1 >>> 0) * TWO21 + (h2 & 0x1fffff);
}

/**
 * The table key of a packed hash: its low 21 bits, computed with float arithmetic (exact below 2^53) because integer
 * truncation of a double past 2^31 takes V8's slow path. Equals `h2 & 0x1fffff` of the lanes.
 */
export function hashKey(hash: number): number {
  return hash - Math.floor(hash / TWO21) * TWO21;
}

/** The identity source of one request's tokens. */
export interface TokenIdentity {
  /** Unique per request in a run (its trace index). */
  uid: number;
  promptTokens: number;
  /** Output tokens the hash ids identify too (TraceRequest.hashIdsCoverOutput); 0 or absent: none. */
  outputTokens?: number;
  hashIds?: readonly number[];
  hashBlockTokens?: number;
}

// Output lanes of `hashLanes` (module scratch: the hot path allocates nothing).
let outH1 = 0;
let outH2 = 0;

/**
 * Lanes of block `k`'s hash given its parent's lanes. Segment rule: a block whose tokens all carry shared identities
 * hashes the (hash id, offset, length) runs it covers; a block with any unique token hashes (uid, k) — once the chain
 * holds a unique token every later block is unique to the request anyway, because the parent hash is.
 */
function hashLanes(p1: number, p2: number, id: TokenIdentity, k: number, blockSize: number): void {
  const start = k * blockSize;
  const end = start + blockSize;
  const C = id.hashBlockTokens ?? DEFAULT_HASH_BLOCK_TOKENS;
  const H = id.hashIds;
  const sharedEnd = H ? Math.min(id.promptTokens + (id.outputTokens ?? 0), H.length * C) : 0;
  let h1 = mix32(p1, p2 ^ 0x27d4eb2f);
  let h2 = mix32(p2, p1 ^ 0x165667b1);
  if (end > sharedEnd) {
    outH1 = mix32(mix32(h1, id.uid ^ UNIQUE_TAG), k);
    outH2 = mix32(mix32(h2, id.uid), k + 0x9e3779b9);
    return;
  }
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
  outH1 = h1;
  outH2 = h2;
}

/** Lanes of a packed hash (for `blockHash` callers that chain from a public value). */
function unpack(hash: number): [number, number] {
  const key = hashKey(hash);
  return [(hash - key) / TWO21 | 0, key];
}

/** Hash of block `k` given its parent's (packed) hash; `BlockHashChain` computes the same chain without unpacking. */
export function blockHash(parent: number, id: TokenIdentity, k: number, blockSize: number): number {
  const [p1, p2] = unpack(parent);
  hashLanes(p1, p2, id, k, blockSize);
  return pack(outH1, outH2);
}

/**
 * The hash chain of a request's full blocks, computed lazily as far as asked (vLLM computes `request.block_hashes`
 * incrementally as tokens are appended). Identities of future generated tokens are known in advance (they are unique),
 * but callers only ask for blocks whose tokens exist.
 */
export class BlockHashChain {
  private readonly hashes: number[] = [];
  private lane1 = NONE_H1;
  private lane2 = NONE_H2 & 0x1fffff;
  /** Blocks from this index on hold a token unique to the request (past its shared hash-id prefix). */
  readonly firstUniqueBlock: number;
  constructor(
    private readonly id: TokenIdentity,
    private readonly blockSize: number,
  ) {
    const C = id.hashBlockTokens ?? DEFAULT_HASH_BLOCK_TOKENS;
    const sharedEnd = id.hashIds ? Math.min(id.promptTokens + (id.outputTokens ?? 0), id.hashIds.length * C) : 0;
    this.firstUniqueBlock = Math.floor(sharedEnd / blockSize);
  }

  /** Hash of full block k (0-based). */
  get(k: number): number {
    const hs = this.hashes;
    while (hs.length <= k) {
      hashLanes(this.lane1, this.lane2, this.id, hs.length, this.blockSize);
      // chain from exactly what the packed hash keeps (all of lane 1, 21 bits of lane 2), as `blockHash` does
      this.lane1 = outH1;
      this.lane2 = outH2 & 0x1fffff;
      hs.push(pack(outH1, outH2));
    }
    return hs[k];
  }
}
