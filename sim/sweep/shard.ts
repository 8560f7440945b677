import { UserError } from "../errors.ts";

/**
 * `--shard i/n`: run only the points whose index ≡ i (mod n), 0 ≤ i < n. Round-robin rather than contiguous
 * blocks so each shard gets a mix of cheap and expensive points (a sweep's later points are often the big-memory,
 * high-concurrency ones). `i` is 0-based to match a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX` and
 * `sbatch --array=0-(n-1)`'s `SLURM_ARRAY_TASK_ID`.
 */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new UserError(`--shard: expected i/n (e.g. 0/4), got "${text}"`, { field: "--shard" });
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new UserError(`--shard: n must be at least 1, got ${count}`, { field: "--shard" });
  if (index >= count)
    throw new UserError(`--shard: i is 0-based and must be below n (${count}), got ${index}`, { field: "--shard" });
  return { index, count };
}

/** Point indices this shard runs, ascending. */
export function shardIndices(total: number, shard: Shard | null | undefined): number[] {
  const out: number[] = [];
  const start = shard ? shard.index : 0;
  const stride = shard ? shard.count : 1;
  for (let i = start; i < total; i += stride) out.push(i);
  return out;
}
