import { UserError } from "../errors.ts";
import type { TraceRequest } from "../traces/types.ts";
import { computeKvBudget } from "./budget.ts";
import { costInputs, stepCost, type CostInputs } from "./cost-model.ts";
import { kvLayout } from "../model/kv.ts";
import { KVCacheCoordinator, kvCacheGroupSpecs } from "./kv-cache-coordinator.ts";
import { KVCacheManager, type KvCacheAllocator } from "./kv-cache-manager.ts";
import { MetricsCollector } from "./metrics.ts";
import { Request } from "./request.ts";
import { Scheduler } from "./scheduler.ts";
import { cloneGraph, type CloneSize } from "./checkpoint.ts";
import type { EngineEvent, KvBudget, MemorySnapshot, ReplaySummary, RequestRecord, ServingConfig } from "./types.ts";

/** Which parts of the event stream a subscriber wants; block-level events are off unless asked for. */
export interface EngineDetail {
  blocks?: boolean;
  requests?: boolean;
  steps?: boolean;
  memory?: boolean;
}

export interface EngineOptions {
  onEvent?: (e: EngineEvent) => void;
  detail?: EngineDetail;
  /** Keep every RequestRecord for `requestRecords()` (default true; off for million-request replays). */
  keepRecords?: boolean;
  /** Called once per request when it finishes or is rejected. */
  onRequestDone?: (r: RequestRecord) => void;
  /** Check the block pool's invariants after every step (tests). */
  checkInvariants?: boolean;
}

/**
 * The discrete-event serving engine: a virtual clock, arrivals from a trace, and vLLM V1 engine steps.
 *
 * Timing rule (vLLM's engine loop): a step that starts at t sees every request that arrived at or before t, in
 * arrival order; its sampled tokens appear at its end (t + step time); with nothing running or waiting the clock jumps
 * to the next arrival. The trace is pushed in batches (`addRequests`), so a million-row file streams through with
 * memory bounded by live requests; the engine only steps past t once it knows every arrival up to t.
 *
 * Invariants: INV-2 the clock never goes back; INV-3 arrival ≤ first scheduled ≤ first token ≤ finish.
 */
export class ServingEngine {
  readonly config: ServingConfig;
  readonly budget: KvBudget;
  readonly scheduler: Scheduler<KvCacheAllocator>;
  /** `KVCacheManager` for one full-attention group (the fast path); `KVCacheCoordinator` with sliding windows. */
  readonly kvCacheManager: KvCacheAllocator;
  private readonly cost: CostInputs;
  private readonly metrics = new MetricsCollector();
  private emit: ((e: EngineEvent) => void) | null;
  private readonly detail: Required<EngineDetail>;
  private readonly records: RequestRecord[] | null;
  private readonly onRequestDone?: (r: RequestRecord) => void;
  private readonly checkInvariants: boolean;
  /** Bytes of one engine block: one page for each layer of a KV-cache group (vLLM shares one pool over the groups). */
  private readonly engineBlockBytes: number;

  private pendingCached: EngineEvent[] = [];
  /** Blocks sliding-window groups dropped this step (emitted with the preemption frees). */
  private pendingSkipped: EngineEvent[] = [];
  private pending: TraceRequest[] = [];
  private pendingHead = 0;
  private lastPushedArrival = Number.NEGATIVE_INFINITY;
  private traceEnded = false;
  private nextReqId = 0;
  private stepIndex = 0;
  /** INV-5 (progress): scheduling steps since a token was last sampled, and the bound they must stay within. */
  private stallSteps = 0;
  private sampledBefore = 0;
  private readonly stallLimit: number;
  now = 0;
  finished = false;

  constructor(config: ServingConfig, opts: EngineOptions = {}) {
    this.config = config;
    this.budget = computeKvBudget(config);
    this.cost = costInputs(config);
    const groups = kvCacheGroupSpecs(
      config.model,
      kvLayout(config.model, { kvCacheDtype: config.kvCacheDtype, modelDtype: config.dtype, tensorParallelSize: config.tensorParallelSize }),
    );
    this.kvCacheManager =
      groups.length === 1 && groups[0].kind === "full_attention"
        ? new KVCacheManager(
            this.budget.engineNumBlocks,
            config.blockSize,
            config.maxModelLen,
            config.enablePrefixCaching,
            config.freeQueueOrder,
          )
        : new KVCacheCoordinator(
            this.budget.engineNumBlocks,
            groups,
            config.blockSize,
            config.maxModelLen,
            config.enablePrefixCaching,
            config.freeQueueOrder,
          );
    this.scheduler = new Scheduler(
      {
        maxNumSeqs: config.maxNumSeqs,
        maxNumBatchedTokens: config.maxNumBatchedTokens,
        maxModelLen: config.maxModelLen,
        enableChunkedPrefill: config.enableChunkedPrefill,
        longPrefillTokenThreshold: config.longPrefillTokenThreshold,
        schedulingPolicy: config.schedulingPolicy,
      },
      this.kvCacheManager,
    );
    this.engineBlockBytes = this.budget.blockBytes;
    this.emit = opts.onEvent ?? null;
    const d = opts.detail ?? {};
    this.detail = {
      blocks: !!this.emit && (d.blocks ?? false),
      requests: !!this.emit && (d.requests ?? true),
      steps: !!this.emit && (d.steps ?? true),
      memory: !!this.emit && (d.memory ?? true),
    };
    this.kvCacheManager.returnNewBlockIds = this.detail.blocks;
    if (this.detail.blocks) {
      this.scheduler.recordBlocks = true;
      this.kvCacheManager.blockPool.recordEvictions(true);
    }
    this.wireBlockHooks();
    this.records = opts.keepRecords === false ? null : [];
    this.onRequestDone = opts.onRequestDone;
    this.checkInvariants = opts.checkInvariants ?? false;
    // INV-5 bound. The first running request gets the token budget first, so unless preempted it completes its
    // prompt (≤ max_model_len tokens, `chunk` per step) and samples within ⌈max_model_len / chunk⌉ steps; only a more
    // important request can preempt it (FCFS: none; PRIORITY: a fixed total order) and admissions queue behind it, so
    // at most max_num_seqs requests come first before the most important one runs. 16× that leaves a wide margin.
    const chunk = Math.min(config.maxNumBatchedTokens, config.longPrefillTokenThreshold || Infinity);
    this.stallLimit = 16 * (config.maxNumSeqs + 2) * (Math.ceil(config.maxModelLen / chunk) + 2);
  }

  /**
   * Turns per-block events on or off between steps (a viewer subscribing to the block map after the run started).
   * The engine's state does not depend on them, so from here on it emits exactly what an engine with block detail
   * from the start would; a viewer starts from `blockStates()` and `blockTables()` taken now.
   */
  setBlockDetail(on: boolean): void {
    const want = on && !!this.emit;
    if (want === this.detail.blocks) return;
    this.detail.blocks = want;
    this.kvCacheManager.returnNewBlockIds = want;
    this.scheduler.recordBlocks = want;
    this.kvCacheManager.blockPool.recordEvictions(want);
    this.pendingCached = [];
    this.pendingSkipped = [];
    if (want) this.wireBlockHooks();
    else {
      this.kvCacheManager.onCached = null;
      if (this.kvCacheManager instanceof KVCacheCoordinator) this.kvCacheManager.onSkippedFreed = null;
    }
  }

  /** The KV-cache manager's block hooks close over this engine (so a clone re-wires them to itself). */
  private wireBlockHooks(): void {
    if (!this.detail.blocks) return;
    // held back so a step's block events read in causal order: freed → evicted → touched → allocated → cached
    this.kvCacheManager.onCached = (req, first, blockIds) =>
      this.pendingCached.push({ type: "blocks_cached", t: this.now, reqId: req.reqId, blockIds, firstBlockIndex: first });
    if (this.kvCacheManager instanceof KVCacheCoordinator)
      this.kvCacheManager.onSkippedFreed = (req, blockIds) =>
        this.pendingSkipped.push({ type: "blocks_freed", t: this.now, reqId: req.reqId, blockIds });
  }

  /**
   * An independent copy of the whole engine state (a checkpoint; see checkpoint.ts): stepping either one leaves the
   * other as it was, and both replay the rest of the trace identically. Shares what never changes after
   * construction: the config, budget and cost inputs, the event callbacks, the latency samples' full chunks, and the
   * trace once `endTrace()` was called (consumed entries are dropped by slicing, never by writing into the array).
   * `onEvent` replaces the event callback in the copy (the copy emits exactly the events the original's callback was
   * given, so only where they go changes); without it the copy shares the original's. `size` gets an estimate of
   * the bytes the copy takes.
   */
  clone(onEvent?: (e: EngineEvent) => void, size?: CloneSize): ServingEngine {
    const shared = new Set<object>([this.config, this.budget, this.cost, ...this.metrics.sealedChunks()]);
    if (this.traceEnded) shared.add(this.pending);
    const copy = cloneGraph(this, shared, size);
    if (onEvent && this.emit) copy.emit = onEvent;
    copy.wireBlockHooks();
    return copy;
  }

  /** Pushes trace requests; arrivals must not go back in time (a trace parser sorts or rejects first). */
  addRequests(reqs: Iterable<TraceRequest>): void {
    if (this.traceEnded) throw new Error("addRequests after endTrace");
    for (const r of reqs) {
      if (!(r.arrival >= this.lastPushedArrival))
        throw new UserError(
          `${r.source ?? `request ${this.nextReqId + this.pending.length - this.pendingHead}`}: arrival ${r.arrival}s is earlier than the previous request's ${this.lastPushedArrival}s (traces must be sorted by arrival)`,
          { field: "arrival", location: r.source },
        );
      this.lastPushedArrival = r.arrival;
      this.pending.push(r);
    }
  }

  endTrace(): void {
    this.traceEnded = true;
  }

  /** True when the engine cannot advance until more of the trace is pushed. */
  get blocked(): boolean {
    return !this.finished && !this.traceEnded && !(this.lastPushedArrival > this.now);
  }

  private get hasPending(): boolean {
    return this.pendingHead < this.pending.length;
  }

  private admitArrivals(): void {
    while (this.hasPending && this.pending[this.pendingHead].arrival <= this.now) {
      const tr = this.pending[this.pendingHead++];
      const id = this.nextReqId++;
      this.metrics.onArrival(tr.arrival);
      const req = new Request(id, tr, this.config.blockSize);
      if (this.detail.requests)
        this.emit!({ type: "arrival", t: tr.arrival, reqId: id, promptTokens: tr.promptTokens, outputTokens: tr.outputTokens });
      let reason: string | null = null;
      if (!(tr.promptTokens >= 1)) reason = `empty prompt (${tr.promptTokens} tokens)`;
      else if (tr.promptTokens + req.maxTokens > this.config.maxModelLen)
        reason = `prompt ${tr.promptTokens} + output ${req.maxTokens} tokens exceeds max_model_len ${this.config.maxModelLen}`;
      if (reason) {
        req.status = "rejected";
        this.metrics.rejected++;
        if (this.detail.requests) this.emit!({ type: "rejected", t: this.now, reqId: id, reason });
        this.done(req);
        continue;
      }
      this.scheduler.addRequest(req);
    }
    // Drop consumed trace entries now and then so memory follows live requests, not trace length.
    if (this.pendingHead > 4096 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
  }

  /**
   * Advances by one engine step, or one idle jump to the next arrival. Returns false when it cannot advance:
   * finished, or blocked waiting for more trace input.
   */
  step(): boolean {
    if (this.finished || this.blocked) return false;
    this.admitArrivals();
    const sched = this.scheduler;
    if (sched.running.length === 0 && sched.waiting.length === 0) {
      if (this.hasPending) {
        this.now = Math.max(this.now, this.pending[this.pendingHead].arrival);
        return true;
      }
      if (this.traceEnded) {
        this.finished = true;
        return false;
      }
      return false;
    }

    const start = this.now;
    const out = sched.schedule(start);
    if (out.scheduled.length === 0 && out.preempted.length === 0) {
      // Nothing fits and nothing runs: only possible with a pool smaller than the request (override). Reject it.
      this.stallSteps = 0;
      const req = sched.waiting.pop();
      req.status = "rejected";
      this.metrics.rejected++;
      if (this.detail.requests)
        this.emit!({ type: "rejected", t: start, reqId: req.reqId, reason: "does not fit in the KV cache" });
      this.done(req);
      return true;
    }
    // An empty step, as in vLLM: the running loop stopped at a request that preempted itself (PRIORITY: the least
    // important running request came first and found no free block). The model runner returns at once and the next
    // step goes on with the others; nobody is rejected (the pool holds any one request on its own).
    const empty = out.scheduled.length === 0;
    const seconds = empty ? 0 : (this.config.stepTimeS ?? stepCost(this.cost, out.scheduled).seconds);
    const end = start + seconds;
    if (!empty && !(end > start)) throw new Error(`INV-2: step time ${seconds} did not advance the clock`);

    const e = this.emit;
    if (e && this.detail.requests) {
      for (const p of out.preempted) e({ type: "preempted", t: start, reqId: p.reqId, lostTokens: p.lostTokens });
      for (const a of out.admitted)
        e({ type: "admitted", t: start, reqId: a.req.reqId, cachedTokens: a.cachedTokens, resumed: a.resumed });
    }
    if (e && this.detail.blocks) {
      for (const [req, blocks] of out.freedByPreemption!) e({ type: "blocks_freed", t: start, reqId: req.reqId, blockIds: blocks });
      for (const f of this.pendingSkipped) e(f);
      this.pendingSkipped = [];
      const evicted = this.kvCacheManager.blockPool.takeEvicted();
      if (evicted.length > 0) e({ type: "blocks_evicted", t: start, blockIds: evicted });
      // more than one KV-cache group: each group's share of the concatenated ids (absent otherwise: same stream)
      const kv = this.kvCacheManager;
      const groups = kv instanceof KVCacheCoordinator && kv.numGroups > 1 ? kv.lastGroupBlocks : null;
      for (const a of out.admitted) {
        if (a.hitBlocks.length === 0) continue;
        const g = groups?.get(a.req);
        if (g) e({ type: "blocks_touched", t: start, reqId: a.req.reqId, blockIds: a.hitBlocks, groupBlocks: g.touched });
        else e({ type: "blocks_touched", t: start, reqId: a.req.reqId, blockIds: a.hitBlocks });
      }
      for (const [req, blocks] of out.allocated!) {
        const g = groups?.get(req);
        if (g) e({ type: "blocks_allocated", t: start, reqId: req.reqId, blockIds: blocks, groupBlocks: g.allocated });
        else e({ type: "blocks_allocated", t: start, reqId: req.reqId, blockIds: blocks });
      }
      for (const c of this.pendingCached) e(c);
      this.pendingCached = [];
    }

    const result = sched.updateFromOutput(out, end);
    this.now = end;
    this.checkProgress();
    if (!empty) this.stepIndex++;
    if (e && this.detail.steps && !empty) {
      let prefill = 0;
      const scheduled: [number, number, number][] = [];
      for (const s of out.scheduled) {
        if (s.isPrefill) prefill += s.numTokens;
        scheduled.push([s.req.reqId, s.numTokens, s.isPrefill ? 1 : 0]);
      }
      e({
        type: "step",
        t: start,
        end,
        stepIndex: this.stepIndex,
        numScheduledTokens: out.numScheduledTokens,
        numPrefillTokens: prefill,
        numDecodeTokens: out.numScheduledTokens - prefill,
        numRunning: sched.running.length + result.finished.length,
        numWaiting: sched.waiting.length,
        scheduled,
      });
    }
    if (e && this.detail.requests) for (const r of result.firstTokens) e({ type: "first_token", t: end, reqId: r.reqId });
    for (const r of result.finished) {
      this.metrics.onFinish(r);
      if (e && this.detail.requests) e({ type: "finished", t: end, reqId: r.reqId });
      if (e && this.detail.blocks) e({ type: "blocks_freed", t: end, reqId: r.reqId, blockIds: result.freed.get(r)! });
      this.done(r);
    }
    if (!empty) this.metrics.onStep(start, end, this.kvCacheManager.usage, sched.running.length + result.finished.length, sched.waiting.length);
    if (e && this.detail.memory) e({ type: "memory", t: end, snapshot: this.snapshot() });
    if (this.checkInvariants) this.kvCacheManager.checkInvariants(sched.running);
    return true;
  }

  /**
   * INV-5 (progress): a token is sampled within `stallLimit` scheduling steps. Requests that preempt each other in
   * turn keep the clock running while nothing finishes, so a replay would spin forever; this stops it with the state.
   */
  private checkProgress(): void {
    const sampled = this.scheduler.numSampledTokens;
    if (sampled !== this.sampledBefore) {
      this.sampledBefore = sampled;
      this.stallSteps = 0;
      return;
    }
    if (++this.stallSteps <= this.stallLimit) return;
    const show = (rs: readonly Request[]) =>
      rs.slice(0, 8).map((r) => `#${r.reqId} (priority ${r.priority}, arrival ${r.arrival}s, ${r.numComputedTokens}/${r.numTokens} tokens computed, ${r.numPreemptions} preemptions)`).join(", ") + (rs.length > 8 ? `, … ${rs.length - 8} more` : "");
    throw new Error(
      `INV-5: no token sampled in ${this.stallSteps} engine steps (t=${this.now}s, ${this.kvCacheManager.blockPool.getNumFreeBlocks()} free blocks); running: ${show(this.scheduler.running)}; waiting: ${show(this.scheduler.waiting.toArray())}`,
    );
  }

  /** Steps until the clock reaches `t` (simulated seconds), the run finishes, or more trace input is needed. */
  runUntil(t: number): void {
    while (this.now < t && this.step()) {
      /* advance */
    }
  }

  /** Runs the rest of the trace (after `endTrace()`) as fast as possible. */
  runToEnd(): ReplaySummary {
    if (!this.traceEnded) throw new Error("runToEnd needs endTrace() first");
    while (this.step()) {
      /* advance */
    }
    return this.summary();
  }

  /** Runs while it can without more input: use between `addRequests` batches when streaming a trace. */
  drain(): void {
    while (this.step()) {
      /* advance */
    }
  }

  private done(req: Request): void {
    if (!this.records && !this.onRequestDone) return;
    const rec: RequestRecord = {
      id: req.reqId,
      arrival: req.arrival,
      promptTokens: req.numPromptTokens,
      outputTokens: req.maxTokens,
      firstScheduledTime: req.firstScheduledTime,
      firstTokenTime: req.firstTokenTime,
      finishTime: req.finishTime,
      preemptions: req.numPreemptions,
      cachedTokens: Math.max(0, req.numCachedTokens),
      rejected: req.status === "rejected",
    };
    this.records?.push(rec);
    this.onRequestDone?.(rec);
  }

  requestRecords(): RequestRecord[] {
    return this.records ?? [];
  }

  snapshot(): MemorySnapshot {
    const pool = this.kvCacheManager.blockPool;
    const usable = pool.numGpuBlocks - 1;
    const free = pool.getNumFreeBlocks();
    const cachedFree = pool.numCachedFreeBlocks;
    const used = usable - free;
    const kvUsedBytes = used * this.engineBlockBytes;
    const kvCachedFreeBytes = cachedFree * this.engineBlockBytes;
    return {
      t: this.now,
      weightsBytes: this.budget.weightsBytes,
      activationBytes: this.budget.activationPeakBytes,
      nonTorchBytes: this.budget.nonTorchBytes,
      kvUsedBytes,
      kvCachedFreeBytes,
      kvFreeBytes: Math.max(0, this.budget.kvCacheBytes - kvUsedBytes - kvCachedFreeBytes),
      numUsedBlocks: used,
      numCachedFreeBlocks: cachedFree,
      numFreeBlocks: free - cachedFree,
      kvUsage: pool.getUsage(),
      numRunning: this.scheduler.running.length,
      numWaiting: this.scheduler.waiting.length,
    };
  }

  /** Per block: 0 free, 1 used, 2 cached-free, 3 null; and the owning request of used blocks (−1 otherwise). */
  blockStates(): { state: Uint8Array; owner: Int32Array } {
    const pool = this.kvCacheManager.blockPool;
    const n = pool.numGpuBlocks;
    const state = new Uint8Array(n);
    const owner = new Int32Array(n).fill(-1);
    state[0] = 3;
    for (let b = 1; b < n; b++) state[b] = pool.refCnt[b] > 0 ? 1 : pool.blockHash[b] !== -1 ? 2 : 0;
    for (const r of this.scheduler.running)
      for (const b of this.kvCacheManager.blocksOf(r)) if (owner[b] < 0) owner[b] = r.reqId;
    return { state, owner };
  }

  /**
   * Each running request's block table per KV-cache group, as `[reqId, group, ...blockIds]` with -1 where a sliding
   * window dropped a block (vLLM's null block): what a viewer that joins mid-run needs besides `blockStates()` to
   * know each block's chain position and to place the blocks allocated after.
   */
  blockTables(): number[][] {
    const kv = this.kvCacheManager;
    const out: number[][] = [];
    for (const r of this.scheduler.running) {
      if (kv instanceof KVCacheCoordinator)
        for (let g = 0; g < kv.numGroups; g++) out.push([r.reqId, g, ...kv.blockTable(r, g).map((b) => (b === 0 ? -1 : b))]);
      else out.push([r.reqId, 0, ...kv.blocksOf(r)]);
    }
    return out;
  }

  /** Blocks in use that are already in the prefix cache: freeing them leaves them cached (for a joining viewer). */
  cachedInUseBlocks(): number[] {
    const pool = this.kvCacheManager.blockPool;
    const out: number[] = [];
    for (let b = 1; b < pool.numGpuBlocks; b++) if (pool.refCnt[b] > 0 && pool.blockHash[b] !== -1) out.push(b);
    return out;
  }

  summary(): ReplaySummary {
    const s = this.scheduler;
    return this.metrics.summary({
      preemptions: s.numPreemptions,
      recomputedTokens: s.numRecomputedTokens,
      prefixCacheQueries: this.kvCacheManager.stats.queries,
      prefixCacheHitTokens: this.kvCacheManager.stats.hits,
      numGpuBlocks: this.budget.numGpuBlocks,
      now: this.now,
    });
  }
}

/** Replays an in-memory trace to the end. */
export function replay(config: ServingConfig, trace: readonly TraceRequest[], opts: EngineOptions = {}): ServingEngine {
  const engine = new ServingEngine(config, opts);
  engine.addRequests(trace);
  engine.endTrace();
  engine.runToEnd();
  return engine;
}
