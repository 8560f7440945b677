import type { KVCacheManager, KvCacheAllocator } from "./kv-cache-manager.ts";
import type { Request } from "./request.ts";
import { createRequestQueue, type RequestQueue } from "./request-queue.ts";
import type { SchedulingPolicy } from "./types.ts";

export interface SchedulerConfig {
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  maxModelLen: number;
  enableChunkedPrefill: boolean;
  /** 0 = off. */
  longPrefillTokenThreshold: number;
  schedulingPolicy: SchedulingPolicy;
}

export interface ScheduledRequest {
  req: Request;
  numTokens: number;
  /** numComputedTokens before this step (the context the step attends over). */
  numComputedBefore: number;
  /** Still computing prompt (or recomputing after preemption) rather than decoding one token. */
  isPrefill: boolean;
}

/**
 * The request's reusable schedule entry: a request is scheduled at most once per step, and a replay schedules tens of
 * millions of (request, step) pairs, so entries are not allocated per step. Valid until the next `schedule()`.
 */
function entry(req: Request, numTokens: number, isPrefill: boolean): ScheduledRequest {
  const e = (req.scheduleEntry ??= { req, numTokens: 0, numComputedBefore: 0, isPrefill: false });
  e.numTokens = numTokens;
  e.numComputedBefore = req.numComputedTokens;
  e.isPrefill = isPrefill;
  return e;
}

const NO_FREED: ReadonlyMap<Request, number[]> = new Map();

/** What one `schedule()` decided (vLLM `SchedulerOutput`, reduced to what the simulator needs). */
export interface SchedulerOutput {
  scheduled: ScheduledRequest[];
  numScheduledTokens: number;
  preempted: Request[];
  admitted: { req: Request; cachedTokens: number; resumed: boolean; hitBlocks: number[] }[];
  /** Per request, blocks newly taken from the free queue this step (only when recording block events). */
  allocated: Map<Request, number[]> | null;
  /** Per preempted request, the blocks its preemption freed, in free order (only when recording block events). */
  freedByPreemption: Map<Request, number[]> | null;
}

/** What `updateFromOutput` observed at the step's end. */
export interface StepResult {
  firstTokens: Request[];
  finished: Request[];
  /** Blocks freed by finished requests, per request, in free order. */
  freed: ReadonlyMap<Request, number[]>;
}

/**
 * vLLM V1's scheduler (`vllm/v1/core/sched/scheduler.py`, `Scheduler.schedule`). One step: running requests first
 * (decodes and prefill chunks mixed under one token budget), preempting the last running request by recompute when a
 * block allocation fails; then — only if nothing was preempted this step — waiting requests in queue order with
 * head-of-line blocking: the first that does not fit stops admission.
 */
export class Scheduler<K extends KvCacheAllocator = KVCacheManager> {
  readonly waiting: RequestQueue;
  running: Request[] = [];
  numPreemptions = 0;
  numRecomputedTokens = 0;
  /** Tokens sampled so far (the engine's progress check, INV-5). */
  numSampledTokens = 0;
  prefixCacheHitTokens = 0;
  recordBlocks = false;

  constructor(
    readonly config: SchedulerConfig,
    readonly kvCacheManager: K,
  ) {
    this.waiting = createRequestQueue(config.schedulingPolicy);
  }

  addRequest(req: Request): void {
    req.status = "waiting";
    this.waiting.add(req);
  }

  schedule(now: number): SchedulerOutput {
    const cfg = this.config;
    const kv = this.kvCacheManager;
    let tokenBudget = cfg.maxNumBatchedTokens;
    const scheduled: ScheduledRequest[] = [];
    const preempted: Request[] = [];
    const admitted: SchedulerOutput["admitted"] = [];
    const allocated = this.recordBlocks ? new Map<Request, number[]>() : null;
    const freedByPreemption = this.recordBlocks ? new Map<Request, number[]>() : null;

    // 1. RUNNING requests, in list order.
    let i = 0;
    while (i < this.running.length && tokenBudget > 0) {
      const req = this.running[i];
      let numNew = req.numTokens - req.numComputedTokens;
      if (cfg.longPrefillTokenThreshold > 0 && numNew > cfg.longPrefillTokenThreshold)
        numNew = cfg.longPrefillTokenThreshold;
      numNew = Math.min(numNew, tokenBudget);
      if (numNew <= 0) {
        i++;
        continue;
      }
      let newBlocks: number[] | null;
      let selfPreempted = false;
      for (;;) {
        newBlocks = kv.allocateSlots(req, numNew);
        if (newBlocks !== null) break;
        const victim = this.pickVictim();
        const victimIdx = this.running.indexOf(victim);
        this.running.splice(victimIdx, 1);
        // PRIORITY may pick a request already scheduled this step: give its tokens back.
        const s = scheduled.findIndex((x) => x.req === victim);
        if (s >= 0) {
          tokenBudget += scheduled[s].numTokens;
          scheduled.splice(s, 1);
          allocated?.delete(victim);
        }
        if (victimIdx < i) i--;
        const freed = this.preempt(victim, now);
        freedByPreemption?.set(victim, freed);
        preempted.push(victim);
        if (victim === req) {
          selfPreempted = true;
          break;
        }
      }
      if (selfPreempted || newBlocks === null) break;
      if (allocated && newBlocks.length > 0) allocated.set(req, newBlocks);
      scheduled.push(entry(req, numNew, req.numComputedTokens + numNew < req.numTokens || numNew > 1));
      tokenBudget -= numNew;
      i++;
    }

    // 2. WAITING requests, only if nothing was preempted in this step.
    if (preempted.length === 0) {
      const skipped: Request[] = [];
      while (this.waiting.length > 0 && tokenBudget > 0) {
        if (this.running.length >= cfg.maxNumSeqs) break;
        const req = this.waiting.peek()!;
        const hit = kv.getComputedBlocks(req);
        let numNew = req.numTokens - hit.numTokens;
        if (cfg.longPrefillTokenThreshold > 0 && numNew > cfg.longPrefillTokenThreshold)
          numNew = cfg.longPrefillTokenThreshold;
        if (!cfg.enableChunkedPrefill && numNew > tokenBudget) {
          // vLLM skips it for this step so smaller requests behind it can still go.
          skipped.push(this.waiting.pop());
          continue;
        }
        numNew = Math.min(numNew, tokenBudget);
        const newBlocks = kv.allocateSlotsForHit(req, numNew, hit);
        if (newBlocks === null) break; // head-of-line blocking
        this.waiting.pop();
        const resumed = req.numPreemptions > 0;
        req.status = "running";
        req.numComputedTokens = hit.numTokens;
        kv.recordPrefixLookup(req, hit.numTokens);
        this.prefixCacheHitTokens += hit.numTokens;
        if (req.numCachedTokens < 0) req.numCachedTokens = hit.numTokens;
        if (req.firstScheduledTime === null) req.firstScheduledTime = now;
        if (resumed) this.numRecomputedTokens += Math.max(0, req.lostTokens - hit.numTokens);
        this.running.push(req);
        admitted.push({ req, cachedTokens: hit.numTokens, resumed, hitBlocks: hit.blocks });
        if (allocated && newBlocks.length > 0) allocated.set(req, newBlocks);
        scheduled.push(entry(req, numNew, true));
        tokenBudget -= numNew;
      }
      for (let k = skipped.length - 1; k >= 0; k--) this.waiting.prepend(skipped[k]);
    }

    // vLLM `_update_after_schedule`: computed tokens advance at schedule time so a chunk can follow next step.
    let numScheduledTokens = 0;
    for (const s of scheduled) {
      s.req.numComputedTokens += s.numTokens;
      numScheduledTokens += s.numTokens;
    }
    if (numScheduledTokens > cfg.maxNumBatchedTokens)
      throw new Error(`INV: scheduled ${numScheduledTokens} tokens > max_num_batched_tokens`);
    if (this.running.length > cfg.maxNumSeqs) throw new Error(`INV: ${this.running.length} running > max_num_seqs`);
    return { scheduled, numScheduledTokens, preempted, admitted, allocated, freedByPreemption };
  }

  /**
   * FCFS: the last running request; PRIORITY: the largest (priority, arrival, request id) — the least important,
   * latest. vLLM keys on (priority, arrival_time) alone, but its arrival times are distinct wall-clock stamps taken in
   * arrival order; a trace's tied arrivals stand for requests that came in trace order, so the id breaks the tie the
   * way those stamps would, and the same way the waiting queue does. A tie-break by running order instead is not a
   * fixed order: two tied requests that each need most of the pool preempt each other in turn forever (see
   * test/serving/no-hang.test.ts).
   */
  private pickVictim(): Request {
    if (this.config.schedulingPolicy === "priority") {
      let v = this.running[0];
      for (const r of this.running)
        if (
          r.priority > v.priority ||
          (r.priority === v.priority && (r.arrival > v.arrival || (r.arrival === v.arrival && r.reqId > v.reqId)))
        )
          v = r;
      return v;
    }
    return this.running[this.running.length - 1];
  }

  /** vLLM `_preempt_request`: free everything (hashes stay), recompute from scratch, front of the waiting queue. */
  private preempt(req: Request, _now: number): number[] {
    const freed = this.kvCacheManager.free(req, true);
    req.lostTokens = req.numComputedTokens;
    req.numComputedTokens = 0;
    req.status = "preempted";
    req.numPreemptions++;
    this.numPreemptions++;
    this.waiting.prepend(req);
    return freed;
  }

  /**
   * vLLM `update_from_output`: every scheduled request whose computed tokens caught up samples one token at the
   * step's end; one that reaches its output length finishes and frees its blocks.
   */
  updateFromOutput(out: SchedulerOutput, end: number): StepResult {
    const kv = this.kvCacheManager;
    const firstTokens: Request[] = [];
    const finished: Request[] = [];
    let freed = NO_FREED;
    const sched = out.scheduled;
    for (let k = 0; k < sched.length; k++) {
      const req = sched[k].req;
      if (req.status !== "running") continue;
      if (req.numComputedTokens < req.numTokens) continue; // a prefill chunk: nothing sampled yet
      req.numOutputTokens++;
      this.numSampledTokens++;
      if (req.firstTokenTime === null) {
        req.firstTokenTime = end;
        firstTokens.push(req);
      }
      if (req.isFinished) finished.push(req);
    }
    if (finished.length > 0) {
      const f = new Map<Request, number[]>();
      freed = f;
      for (const req of finished) {
        req.status = "finished";
        req.finishTime = end;
        f.set(req, kv.free(req));
      }
      // compact the running list in place, keeping order
      const run = this.running;
      let w = 0;
      for (let r = 0; r < run.length; r++) if (run[r].status !== "finished") run[w++] = run[r];
      run.length = w;
    }
    return { firstTokens, finished, freed };
  }
}
