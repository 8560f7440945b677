import type { TraceRequest } from "../traces/types.ts";
import { BlockHashChain } from "./block-hash.ts";

export type RequestStatus = "waiting" | "running" | "preempted" | "finished" | "rejected";

/**
 * A request inside the engine (vLLM `Request`). There is no prefill or decode phase: the scheduler only tries to
 * make `numComputedTokens` catch up with `numTokens` (prompt + tokens generated so far).
 */
export class Request {
  readonly reqId: number;
  readonly arrival: number;
  readonly numPromptTokens: number;
  /** Tokens to generate (the trace's output length; generation ignores EOS as vLLM benchmarks do). */
  readonly maxTokens: number;
  readonly priority: number;
  numOutputTokens = 0;
  numComputedTokens = 0;
  status: RequestStatus = "waiting";
  /** Block table, in token order. */
  blockIds: number[] = [];
  /** Leading blocks of `blockIds` already cached (hashed) in the pool. */
  numCachedBlocks = 0;
  readonly blockHashes: BlockHashChain;
  numPreemptions = 0;
  /** Prefix-cache hit at first admission, tokens (vLLM `num_cached_tokens`); -1 until admitted. */
  numCachedTokens = -1;
  /** Tokens computed before the last preemption, to count recomputation on resume. */
  lostTokens = 0;
  firstScheduledTime: number | null = null;
  firstTokenTime: number | null = null;
  finishTime: number | null = null;
  /** Reused by the scheduler for this request's entry in each step's output (see scheduler.ts). */
  scheduleEntry: { req: Request; numTokens: number; numComputedBefore: number; isPrefill: boolean } | null = null;

  constructor(reqId: number, tr: TraceRequest, blockSize: number) {
    this.reqId = reqId;
    this.arrival = tr.arrival;
    this.numPromptTokens = tr.promptTokens;
    this.maxTokens = Math.max(1, tr.outputTokens);
    this.priority = tr.priority ?? 0;
    this.blockHashes = new BlockHashChain(
      {
        uid: reqId,
        promptTokens: tr.promptTokens,
        outputTokens: tr.hashIdsCoverOutput ? tr.outputTokens : 0,
        hashIds: tr.hashIds,
        hashBlockTokens: tr.hashBlockTokens,
      },
      blockSize,
    );
  }

  get numTokens(): number {
    return this.numPromptTokens + this.numOutputTokens;
  }

  get isFinished(): boolean {
    return this.numOutputTokens >= this.maxTokens;
  }
}
