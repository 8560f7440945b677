import { KVCacheManager } from "../../sim/serving/kv-cache-manager.ts";
import { Request } from "../../sim/serving/request.ts";
import { Scheduler, type SchedulerOutput, type StepResult } from "../../sim/serving/scheduler.ts";
import type { FreeQueueOrder, SchedulingPolicy } from "../../sim/serving/types.ts";

/**
 * Helpers for the vLLM peer suites (vllm-*.test.ts), after vLLM's `tests/v1/core/utils.py` (`create_scheduler`,
 * `create_requests`) and the `make_request` of `test_prefix_caching.py`.
 *
 * Token identity: the simulator has no token ids. A request's prompt is described by `hashIds` with one hash id per
 * `blockSize` tokens (`hashBlockTokens` = block size), so prompt block k is identified by (hashIds[0..k]) exactly as
 * vLLM identifies it by its token ids and its parent's hash. vLLM's `[0]*16 + [1]*16 + [2]*16 + [3]*7` is
 * `{ promptTokens: 55, hashIds: [0, 1, 2] }`; `list(range(87))` is `{ promptTokens: 87, hashIds: [0, 1, 2, 3, 4] }`
 * (the 7-token tail is past the hashed chunks, so unique — it is never a full block anyway).
 */
export interface RequestSpec {
  promptTokens: number;
  /** One id per `hashBlockTokens` prompt tokens; omitted = every token unique to this request. */
  hashIds?: number[];
  /** Defaults to the block size, so one hash id = one block. */
  hashBlockTokens?: number;
  /** vLLM `max_tokens`; create_requests defaults to 16. */
  outputTokens?: number;
  priority?: number;
  arrival?: number;
}

export function makeRequest(id: number, spec: RequestSpec, blockSize = 16): Request {
  return new Request(
    id,
    {
      arrival: spec.arrival ?? id,
      promptTokens: spec.promptTokens,
      outputTokens: spec.outputTokens ?? 16,
      hashIds: spec.hashIds,
      hashBlockTokens: spec.hashIds ? (spec.hashBlockTokens ?? blockSize) : undefined,
      priority: spec.priority,
    },
    blockSize,
  );
}

/** `n` requests with ids 0..n−1 and distinct prompts (vLLM create_requests: prompt `[i] * num_tokens`). */
export function makeRequests(n: number, spec: RequestSpec, blockSize = 16): Request[] {
  return Array.from({ length: n }, (_, i) => makeRequest(i, spec, blockSize));
}

export interface SchedulerOptions {
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  /** Includes the null block, as vLLM's `num_blocks`. */
  numBlocks?: number;
  blockSize?: number;
  maxModelLen?: number;
  enablePrefixCaching?: boolean;
  enableChunkedPrefill?: boolean;
  longPrefillTokenThreshold?: number;
  schedulingPolicy?: SchedulingPolicy;
  freeQueueOrder?: FreeQueueOrder;
}

/**
 * vLLM `create_scheduler` defaults: max_num_seqs 16, max_num_batched_tokens 8192, 10,000 blocks of 16 tokens,
 * max_model_len = max_num_batched_tokens, chunked prefill on, long_prefill_token_threshold 0. Prefix caching defaults
 * to on (vLLM V1's default for generative models); `create_scheduler_with_priority` passes it off explicitly.
 */
export function makeScheduler(o: SchedulerOptions = {}): Scheduler {
  const maxNumBatchedTokens = o.maxNumBatchedTokens ?? 8192;
  const maxModelLen = o.maxModelLen ?? maxNumBatchedTokens;
  const kv = new KVCacheManager(
    o.numBlocks ?? 10_000,
    o.blockSize ?? 16,
    maxModelLen,
    o.enablePrefixCaching ?? true,
    o.freeQueueOrder ?? "append",
  );
  return new Scheduler(
    {
      maxNumSeqs: o.maxNumSeqs ?? 16,
      maxNumBatchedTokens,
      maxModelLen,
      enableChunkedPrefill: o.enableChunkedPrefill ?? true,
      longPrefillTokenThreshold: o.longPrefillTokenThreshold ?? 0,
      schedulingPolicy: o.schedulingPolicy ?? "fcfs",
    },
    kv,
  );
}

/** `create_scheduler_with_priority`: policy "priority", prefix caching off unless asked. */
export function makePriorityScheduler(o: SchedulerOptions = {}): Scheduler {
  return makeScheduler({ enablePrefixCaching: false, ...o, schedulingPolicy: "priority" });
}

/** vLLM `SchedulerOutput.num_scheduled_tokens`: request id → tokens scheduled this step. */
export function scheduledTokens(out: SchedulerOutput): Record<number, number> {
  return Object.fromEntries(out.scheduled.map((s) => [s.req.reqId, s.numTokens]));
}

/** vLLM `scheduled_new_reqs` (first admissions, in admission order). */
export function newReqIds(out: SchedulerOutput): number[] {
  return out.admitted.filter((a) => !a.resumed).map((a) => a.req.reqId);
}

/** Requests still being scheduled from before (vLLM `scheduled_cached_reqs`: running ones and resumed ones). */
export function cachedReqIds(out: SchedulerOutput): number[] {
  const fresh = new Set(newReqIds(out));
  return out.scheduled.map((s) => s.req.reqId).filter((id) => !fresh.has(id));
}

/**
 * Drives `schedule()` / `updateFromOutput()` on a virtual clock of 1 s steps (the model runner's output in vLLM's
 * tests: one sampled token for every request whose prompt is complete).
 */
export class Driver {
  t = 0;
  constructor(readonly s: Scheduler) {}
  schedule(): SchedulerOutput {
    return this.s.schedule(this.t);
  }
  update(out: SchedulerOutput): StepResult {
    this.t += 1;
    return this.s.updateFromOutput(out, this.t);
  }
  step(): { out: SchedulerOutput; res: StepResult } {
    const out = this.schedule();
    return { out, res: this.update(out) };
  }
}

/** Block ids in the free queue from head (next handed out / evicted) to tail. */
export function freeQueue(kv: KVCacheManager): number[] {
  return kv.blockPool.freeBlockQueue.toArray();
}

/** True when block `b` carries a hash (is a prefix-cache entry, its table entry possibly deferred). */
export function hasHash(kv: KVCacheManager, b: number): boolean {
  return kv.blockPool.isCached(b);
}

export const ORDERS: readonly FreeQueueOrder[] = ["append", "split"];
