import { UserError } from "../errors.ts";
import { gammaArrivals } from "./arrivals.ts";
import { sampleLength, type LengthDist } from "./length-dist.ts";
import { Rng } from "./rng.ts";
import type { TraceRequest } from "./types.ts";

/**
 * A synthetic workload: how many requests, when they arrive and what they look like. Defaults reproduce
 * `vllm bench serve --dataset-name random` arrivals (Gamma gaps rescaled to end at N/R).
 */
export interface SynthSpec {
  numRequests: number;
  /** Requests per second overall; Infinity = all at t = 0 (vLLM's default). */
  requestRate: number;
  /** Gamma shape of the inter-arrival gaps (1 = Poisson). Default 1. */
  burstiness?: number;
  seed?: number;
  /** New prompt tokens per turn (after the system prompt and earlier turns). */
  promptLen: LengthDist;
  outputLen: LengthDist;
  /** (prompt, output) pairs drawn together (empirical from a trace), instead of promptLen/outputLen. */
  pairs?: readonly (readonly [number, number])[];
  /** Tokens of a system prompt shared by requests (a prefix-cache study's reusable prefix). Default 0. */
  systemPromptTokens?: number;
  /** Distinct system prompts; each session uses one, uniformly. Default 1. */
  numSystemPrompts?: number;
  /** Turns per session: turn k's prompt is the session so far plus its new tokens. Default 1. */
  turns?: number;
  /** Mean seconds between a session's turns (exponential). Default 10. */
  turnGapSeconds?: number;
  /** Weights of priority classes 0, 1, …; each session draws its class (0 = served first). */
  priorityWeights?: readonly number[];
  /** Tokens per synthetic hash id. Default 16 (vLLM's default block size). */
  hashBlockTokens?: number;
}

export const DEFAULT_TURN_GAP_SECONDS = 10;
export const SYNTH_HASH_BLOCK_TOKENS = 16;

function checkSpec(s: SynthSpec): void {
  const posInt = (v: number | undefined, flag: string, min = 1) => {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= min))
      throw new UserError(`${flag}: expected an integer ≥ ${min}, got ${v}`, { field: flag });
  };
  posInt(s.numRequests, "--num-prompts");
  posInt(s.turns, "--turns");
  posInt(s.numSystemPrompts, "--num-system-prompts");
  posInt(s.systemPromptTokens, "--system-prompt-len", 0);
  posInt(s.hashBlockTokens, "--hash-block-tokens");
  if (s.turnGapSeconds !== undefined && !(s.turnGapSeconds >= 0 && Number.isFinite(s.turnGapSeconds)))
    throw new UserError(`--turn-gap: expected a non-negative number of seconds, got ${s.turnGapSeconds}`, { field: "--turn-gap" });
  if (s.priorityWeights && (s.priorityWeights.length === 0 || s.priorityWeights.some((w) => !(w >= 0)) || !s.priorityWeights.some((w) => w > 0)))
    throw new UserError(`--priority-weights: expected non-negative weights, at least one positive, got ${s.priorityWeights.join(",")}`, {
      field: "--priority-weights",
    });
  if (s.pairs && s.pairs.length === 0) throw new UserError(`--lengths-from: the trace has no requests to draw lengths from`, { field: "--lengths-from" });
}

/**
 * Generates the workload, sorted by arrival. Sessions (of `turns` requests; the last may be shorter so exactly
 * numRequests come out) start at Gamma arrivals with rate R/turns, so the overall rate is ≈ R; later turns follow
 * after exponential think times. Prefix sharing is written as hashIds over `hashBlockTokens` chunks of each
 * session's token stream: system prompt k's full chunks have ids shared by every session using it; the rest are
 * unique to the session, so turn k+1 repeats turn k's ids and then adds new ones. With several turns a request's
 * ids also cover its answer (`hashIdsCoverOutput`), which the next turn's prompt repeats. hashIds are written only
 * when there is something to share (a system prompt or more than one turn).
 * Deterministic: one Rng, drawn in a fixed order (arrivals first, then sessions in order).
 */
export function synthesize(spec: SynthSpec): TraceRequest[] {
  checkSpec(spec);
  const rng = new Rng(spec.seed ?? 0);
  const n = spec.numRequests;
  const turns = spec.turns ?? 1;
  const B = spec.hashBlockTokens ?? SYNTH_HASH_BLOCK_TOKENS;
  const sys = spec.systemPromptTokens ?? 0;
  const numSys = spec.numSystemPrompts ?? 1;
  const gap = spec.turnGapSeconds ?? DEFAULT_TURN_GAP_SECONDS;
  const withIds = sys > 0 || turns > 1;
  const numSessions = Math.ceil(n / turns);
  const starts = gammaArrivals(numSessions, spec.requestRate / turns, spec.burstiness ?? 1, rng);

  const sysFull = Math.floor(sys / B);
  let nextId = sys > 0 ? numSys * sysFull : 0;
  const out: (TraceRequest & { order: number })[] = [];
  for (let s = 0; s < numSessions; s++) {
    const k = sys > 0 && numSys > 1 ? rng.int(0, numSys - 1) : 0;
    const priority = spec.priorityWeights ? rng.weighted(spec.priorityWeights) : undefined;
    const count = Math.min(turns, n - s * turns);
    const lens: [number, number][] = [];
    for (let t = 0; t < count; t++) {
      if (spec.pairs) {
        const p = spec.pairs[rng.int(0, spec.pairs.length - 1)];
        lens.push([p[0], p[1]]);
      } else lens.push([sampleLength(spec.promptLen, rng), sampleLength(spec.outputLen, rng)]);
    }
    let total = sys;
    for (const [p, o] of lens) total += p + o;
    // The session's chunk ids: the system prompt's full chunks (shared), then ids of its own.
    let ids: number[] = [];
    if (withIds) {
      const numChunks = Math.ceil(total / B);
      ids = new Array<number>(numChunks);
      for (let j = 0; j < numChunks; j++) ids[j] = j < sysFull ? k * sysFull + j : nextId++;
    }
    let arrival = starts[s];
    let soFar = sys;
    for (let t = 0; t < count; t++) {
      if (t > 0 && gap > 0) arrival += rng.exponential(gap);
      const [p, o] = lens[t];
      const prompt = soFar + p;
      const req: TraceRequest & { order: number } = { arrival, promptTokens: prompt, outputTokens: o, order: out.length };
      if (withIds) {
        // A conversation's answer is part of its next turn's prompt: its ids go with the request (hashIdsCoverOutput).
        req.hashIds = ids.slice(0, Math.ceil((turns > 1 ? prompt + o : prompt) / B));
        if (turns > 1) req.hashIdsCoverOutput = true;
        req.hashBlockTokens = B;
      }
      if (turns > 1) req.sessionId = `s${s}`;
      if (priority !== undefined) req.priority = priority;
      out.push(req);
      soFar = prompt + o;
    }
  }
  out.sort((a, b) => a.arrival - b.arrival || a.order - b.order);
  return out.map(({ order: _order, ...r }) => r);
}
