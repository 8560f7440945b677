/**
 * The streaming protocol of `/api/runs/:id/stream`, version {@link PROTOCOL_VERSION}: TypeBox schemas (validated on
 * every client message) and their static types (what the client codes against).
 *
 * Why a schema per message rather than ad-hoc JSON: the server must answer any malformed, unknown or out-of-range
 * message with an `error` naming the field, and the browser client is written concurrently against these types.
 * Every message is one JSON object per WebSocket text message with a string `type` field.
 *
 * Server → client: `hello` once on connect, then `state` on every lifecycle/speed change, `frame` batches (at most
 * ~30 per second of wall time, whatever the speed), `blocks` (a full KV block map, on subscribing to `blocks` and
 * after a seek), `summary` when the run ends, `error` in reply to a bad message or when the run fails.
 * Client → server: `play`, `pause`, `step`, `speed`, `seek`, `subscribe`.
 *
 * Invariants a client may rely on:
 * - PROTO-1 frames of one connection have increasing `seq` and non-overlapping, non-decreasing [t0, t1] ranges,
 *   except right after a `state` carrying `rewoundTo` (a backward seek): the timeline restarts there.
 * - PROTO-2 discrete events (arrivals, admissions, preemptions, evictions, finishes, …) of the subscribed detail
 *   levels are never dropped, only batched; `counts` totals them whatever the subscription. Only the continuous
 *   `snapshots` series is downsampled, and `droppedSamples` says by how many.
 *
 * Bump PROTOCOL_VERSION on any incompatible change; adding an optional field is compatible.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import type { EngineEvent, KvBudget, MemorySnapshot, ReplaySummary } from "../sim/serving/types.ts";

export const PROTOCOL_VERSION = 1;

/** Simulation speed: multiplier of simulated time per wall second, or "max" (as fast as the worker can go). */
export const MIN_SPEED = 0.25;
export const MAX_SPEED = 10_000;
export const SpeedSchema = Type.Union([Type.Number({ minimum: MIN_SPEED, maximum: MAX_SPEED }), Type.Literal("max")]);
export type Speed = Static<typeof SpeedSchema>;

/**
 * What a connection wants in its frames. `memory`: the snapshot series; `steps`: one `step` event per engine step;
 * `requests`: arrival/admitted/preempted/first_token/finished/rejected; `blocks`: per-block allocate/touch/free/
 * cache/evict events (expensive for big pools: leave it off and use the aggregates in `snapshots`/`counts`).
 */
export const DETAIL_LEVELS = ["blocks", "requests", "steps", "memory"] as const;
export type DetailLevel = (typeof DETAIL_LEVELS)[number];
export const DetailLevelSchema = Type.Union(DETAIL_LEVELS.map((d) => Type.Literal(d)));
/** Detail levels a new connection gets until it sends `subscribe`. */
export const DEFAULT_DETAIL: readonly DetailLevel[] = ["requests", "steps", "memory"];

/** created (queued or waiting to start) → running ⇄ paused → finished | failed | cancelled. */
export const RUN_STATES = ["created", "running", "paused", "finished", "failed", "cancelled"] as const;
export type RunState = (typeof RUN_STATES)[number];
export const RunStateSchema = Type.Union(RUN_STATES.map((s) => Type.Literal(s)));

export const RUN_KINDS_KNOWN = ["replay", "train", "rl", "sweep"] as const;

// ---------------------------------------------------------------------------------------------------------------
// Engine payloads (mirrors of sim/serving/types.ts; `_check*` below keep them in step at compile time)

const num = Type.Number();
const int = Type.Integer();

export const MemorySnapshotSchema = Type.Object({
  t: num,
  weightsBytes: num,
  activationBytes: num,
  nonTorchBytes: num,
  kvUsedBytes: num,
  kvCachedFreeBytes: num,
  kvFreeBytes: num,
  numUsedBlocks: int,
  numCachedFreeBlocks: int,
  numFreeBlocks: int,
  kvUsage: num,
  numRunning: int,
  numWaiting: int,
});

const ids = Type.Array(int);
export const EngineEventSchema = Type.Union([
  Type.Object({ type: Type.Literal("arrival"), t: num, reqId: int, promptTokens: int, outputTokens: int }),
  Type.Object({ type: Type.Literal("rejected"), t: num, reqId: int, reason: Type.String() }),
  Type.Object({
    type: Type.Literal("step"),
    t: num,
    end: num,
    stepIndex: int,
    numScheduledTokens: int,
    numPrefillTokens: int,
    numDecodeTokens: int,
    numRunning: int,
    numWaiting: int,
    scheduled: Type.Array(Type.Tuple([int, int, int])),
  }),
  Type.Object({ type: Type.Literal("admitted"), t: num, reqId: int, cachedTokens: int, resumed: Type.Boolean() }),
  Type.Object({ type: Type.Literal("preempted"), t: num, reqId: int, lostTokens: int }),
  Type.Object({ type: Type.Literal("first_token"), t: num, reqId: int }),
  Type.Object({ type: Type.Literal("finished"), t: num, reqId: int }),
  Type.Object({ type: Type.Literal("blocks_allocated"), t: num, reqId: int, blockIds: ids, groupBlocks: Type.Optional(Type.Array(int)) }),
  Type.Object({ type: Type.Literal("blocks_touched"), t: num, reqId: int, blockIds: ids, groupBlocks: Type.Optional(Type.Array(int)) }),
  Type.Object({ type: Type.Literal("blocks_freed"), t: num, reqId: int, blockIds: ids }),
  Type.Object({ type: Type.Literal("blocks_cached"), t: num, reqId: int, blockIds: ids, firstBlockIndex: int }),
  Type.Object({ type: Type.Literal("blocks_evicted"), t: num, blockIds: ids }),
  Type.Object({ type: Type.Literal("memory"), t: num, snapshot: MemorySnapshotSchema }),
]);

const KvBudgetObject = Type.Object({
  totalBytes: num,
  requestedBytes: num,
  weightsBytes: num,
  activationPeakBytes: num,
  nonTorchBytes: num,
  kvCacheBytes: num,
  kvBytesPerToken: num,
  pageBytesPerLayer: num,
  numGpuBlocks: int,
  kvCacheTokens: int,
  maxConcurrency: num,
  maxModelLen: int,
  blockSize: int,
  kvCacheGroups: Type.Optional(int),
  engineNumBlocks: Type.Optional(int),
  cudaGraphBytes: Type.Optional(num),
  logLines: Type.Array(Type.String()),
  notes: Type.Array(Type.String()),
}, { additionalProperties: true });
/** Validates the fields the server relies on; its static type is the engine's KvBudget itself. */
export const KvBudgetSchema = Type.Unsafe<KvBudget>(KvBudgetObject);

const PercentilesSchema = Type.Object({ p50: num, p90: num, p99: num, mean: num });
const ReplaySummaryObject = Type.Object({
  requests: int,
  completed: int,
  rejected: int,
  preemptions: int,
  recomputedTokens: int,
  prefixCacheQueries: num,
  prefixCacheHitTokens: num,
  prefixCacheHitRate: num,
  ttft: PercentilesSchema,
  tpot: PercentilesSchema,
  e2e: PercentilesSchema,
  queueTime: PercentilesSchema,
  throughput: Type.Object({ requestsPerS: num, inputTokensPerS: num, outputTokensPerS: num }),
  simulatedSeconds: num,
  engineSteps: int,
  peakKvUsage: num,
  meanKvUsage: num,
  numGpuBlocks: int,
  peakRunning: int,
  peakWaiting: int,
});
export const ReplaySummarySchema = Type.Unsafe<ReplaySummary>(ReplaySummaryObject);

/** Totals of the discrete events inside one frame's [t0, t1], counted whatever the subscription (PROTO-2). */
export const FrameCountsSchema = Type.Object({
  steps: int,
  arrivals: int,
  admitted: int,
  finished: int,
  rejected: int,
  preemptions: int,
  evictedBlocks: int,
});
export type FrameCounts = Static<typeof FrameCountsSchema>;

/** Model and GPU facts for the header of the page (the full specs are in `config`). */
export const RunFactsSchema = Type.Object({
  modelName: Type.String(),
  gpuName: Type.String(),
  gpuMemoryBytes: num,
  tensorParallelSize: int,
  numLayers: Type.Optional(int),
  numKvHeads: Type.Optional(int),
  headDim: Type.Optional(int),
  hbmBandwidth: Type.Optional(num),
  /** Trace the run replays (embedded name or upload id), with its request count and last arrival, seconds. */
  trace: Type.Optional(Type.Object({ name: Type.String(), requests: int, lastArrival: num })),
});
export type RunFacts = Static<typeof RunFactsSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Server → client

export const HelloMessageSchema = Type.Object({
  type: Type.Literal("hello"),
  protocolVersion: Type.Literal(PROTOCOL_VERSION),
  runId: Type.String(),
  kind: Type.String(),
  /** The resolved config (for replay: a ServingConfig with the full ModelSpec and GpuSpec). */
  config: Type.Unknown(),
  facts: RunFactsSchema,
  /** The startup KV arithmetic; null for kinds without a KV cache budget. */
  budget: Type.Union([KvBudgetSchema, Type.Null()]),
  state: RunStateSchema,
  speed: SpeedSchema,
  /** Simulated seconds at connect time. */
  t: num,
  detail: Type.Array(DetailLevelSchema),
  /** Server-side frame limit, frames per wall second. */
  maxFrameRate: num,
});

export const FrameMessageSchema = Type.Object({
  type: Type.Literal("frame"),
  seq: int,
  /** Simulated time range the frame covers, seconds. */
  t0: num,
  t1: num,
  /** Memory series over [t0, t1] (detail `memory`), downsampled to keep peaks. */
  snapshots: Type.Array(MemorySnapshotSchema),
  /** Snapshots merged away by downsampling in this frame (0 when none). */
  droppedSamples: int,
  /** Engine events of the subscribed detail levels, in engine order. */
  events: Type.Array(EngineEventSchema),
  counts: FrameCountsSchema,
  /** Kind-specific series for non-replay kinds (training/RL/sweep points). */
  extra: Type.Optional(Type.Array(Type.Unknown())),
  /**
   * The engine's own report so far (replay runs; `ReplaySummary` over the requests finished up to `liveT`), at most
   * about twice a wall second: live percentiles come from the engine, not from the viewer.
   */
  live: Type.Optional(ReplaySummarySchema),
  /**
   * Simulated time `live` was taken at (with `live`). A frame may merge several worker batches and only one of them
   * carries a report, so `liveT` can be earlier than `t1`: requests finished in (liveT, t1] are not in it yet.
   */
  liveT: Type.Optional(num),
});

/** The whole KV block map at time `t`: state[i] 0 free, 1 used, 2 cached-free, 3 null block; owner[i] reqId or -1. */
export const BlocksMessageSchema = Type.Object({
  type: Type.Literal("blocks"),
  t: num,
  state: Type.Array(int),
  owner: Type.Array(int),
  /**
   * Each running request's block table per KV-cache group, `[reqId, group, ...blockIds]` (-1 where a sliding window
   * dropped a block): chain positions of the blocks held now, and where the next ones go (replay runs).
   */
  tables: Type.Optional(Type.Array(Type.Array(int))),
  /** Blocks in use already in the prefix cache (state 1 but hashed): freeing them leaves them cached-free. */
  cachedInUse: Type.Optional(Type.Array(int)),
});

export const SummaryMessageSchema = Type.Object({
  type: Type.Literal("summary"),
  runId: Type.String(),
  /** The replay report; absent for non-replay kinds, which put theirs in `result`. */
  summary: Type.Optional(ReplaySummarySchema),
  result: Type.Optional(Type.Unknown()),
});

export const StateMessageSchema = Type.Object({
  type: Type.Literal("state"),
  runId: Type.String(),
  state: RunStateSchema,
  speed: SpeedSchema,
  /** Simulated seconds now. */
  t: num,
  /** Position in the queue while waiting for a worker slot (1 = next). */
  queuePosition: Type.Optional(int),
  /** Set after a backward seek: drop everything after this time, the stream restarts here (PROTO-1). */
  rewoundTo: Type.Optional(num),
  /**
   * With `rewoundTo`: the simulated time the silent re-simulation started from — the latest checkpoint before the
   * target (the worker keeps a few while streaming), or 0 when it rebuilt from the start.
   */
  resumedFrom: Type.Optional(num),
  /** Why the run failed (state `failed`) or any other human-readable note. */
  message: Type.Optional(Type.String()),
});

export const ErrorMessageSchema = Type.Object({
  type: Type.Literal("error"),
  message: Type.String(),
  /** The offending field of the client message, JSON-pointer-like ("speed", "n", "detail/1", "type"). */
  field: Type.Optional(Type.String()),
});

export const ServerMessageSchema = Type.Union([
  HelloMessageSchema,
  FrameMessageSchema,
  BlocksMessageSchema,
  SummaryMessageSchema,
  StateMessageSchema,
  ErrorMessageSchema,
]);

export type HelloMessage = Static<typeof HelloMessageSchema>;
export type FrameMessage = Static<typeof FrameMessageSchema>;
export type BlocksMessage = Static<typeof BlocksMessageSchema>;
export type SummaryMessage = Static<typeof SummaryMessageSchema>;
export type StateMessage = Static<typeof StateMessageSchema>;
export type ErrorMessage = Static<typeof ErrorMessageSchema>;
export type ServerMessage = Static<typeof ServerMessageSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Client → server. `runId`, when present, must name the run of the socket (else an `error` naming `runId`).

const runIdField = { runId: Type.Optional(Type.String({ maxLength: 64 })) };
export const MAX_STEP_N = 100_000;

export const PlayMessageSchema = Type.Object({ type: Type.Literal("play"), ...runIdField }, { additionalProperties: false });
export const PauseMessageSchema = Type.Object({ type: Type.Literal("pause"), ...runIdField }, { additionalProperties: false });
/** Advance `n` engine steps (default 1) while paused. */
export const StepMessageSchema = Type.Object(
  { type: Type.Literal("step"), n: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_STEP_N })), ...runIdField },
  { additionalProperties: false },
);
export const SpeedMessageSchema = Type.Object(
  { type: Type.Literal("speed"), speed: SpeedSchema, ...runIdField },
  { additionalProperties: false },
);
/** Jump to simulated second `t` (deterministic re-simulation; backward seeks rewind the stream). */
export const SeekMessageSchema = Type.Object(
  { type: Type.Literal("seek"), t: Type.Number({ minimum: 0, maximum: 1e9 }), ...runIdField },
  { additionalProperties: false },
);
export const SubscribeMessageSchema = Type.Object(
  { type: Type.Literal("subscribe"), detail: Type.Array(DetailLevelSchema, { maxItems: 8 }), ...runIdField },
  { additionalProperties: false },
);

export const CLIENT_MESSAGE_SCHEMAS = {
  play: PlayMessageSchema,
  pause: PauseMessageSchema,
  step: StepMessageSchema,
  speed: SpeedMessageSchema,
  seek: SeekMessageSchema,
  subscribe: SubscribeMessageSchema,
} as const satisfies Record<string, TSchema>;
export type ClientMessageType = keyof typeof CLIENT_MESSAGE_SCHEMAS;
export const CLIENT_MESSAGE_TYPES = Object.keys(CLIENT_MESSAGE_SCHEMAS) as ClientMessageType[];

export type PlayMessage = Static<typeof PlayMessageSchema>;
export type PauseMessage = Static<typeof PauseMessageSchema>;
export type StepMessage = Static<typeof StepMessageSchema>;
export type SpeedMessage = Static<typeof SpeedMessageSchema>;
export type SeekMessage = Static<typeof SeekMessageSchema>;
export type SubscribeMessage = Static<typeof SubscribeMessageSchema>;
export type ClientMessage = PlayMessage | PauseMessage | StepMessage | SpeedMessage | SeekMessage | SubscribeMessage;

/** Close codes the server uses on the stream socket. */
export const CLOSE_CODES = {
  /** The client stayed behind the send-buffer bound (backpressure): reconnect to resume. */
  tooSlow: 4008,
  /** No run with that id. */
  unknownRun: 4004,
  /** The client sent more messages per second than the limit for too long. */
  flood: 4029,
  /** The server has as many stream connections as it accepts. */
  busy: 1013,
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Compile-time checks that the schemas match the engine contracts (both directions for the event and snapshot
// schemas; for the budget and summary, every contract value must pass the schema: the static type is the contract).

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _checkSnapshot: Same<Static<typeof MemorySnapshotSchema>, MemorySnapshot> = true;
const _checkEvent: Same<Static<typeof EngineEventSchema>, EngineEvent> = true;
const _checkBudget: KvBudget extends Static<typeof KvBudgetObject> ? true : false = true;
const _checkSummary: ReplaySummary extends Static<typeof ReplaySummaryObject> ? true : false = true;
void _checkSnapshot, _checkEvent, _checkBudget, _checkSummary;
