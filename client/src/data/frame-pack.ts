/**
 * What the stream worker does to a frame before the page sees it, so the page never parses or allocates per block:
 *
 * - the per-block events (blocks_allocated / touched / freed / cached / evicted) become one packed Int32Array of
 *   records `[op, reqId, arg, n, ...blockIds]` with their times in a Float64Array — transferred, not copied. An
 *   allocated / touched event with `groupBlocks` (a model with several KV-cache groups) becomes one record per group,
 *   the group index in `arg`; a grouped touched record lists the group's whole hit, -1 for each null block in front
 *   (so every group's record has the hit's length), which places each block at its own group-table position;
 * - step events keep only the `scheduled` entries the request tracker acts on (prefill chunks, and the first decode
 *   of a request that is recomputing after a preemption): at full speed the decode entries are ~45 % of the stream
 *   and say nothing the tracker needs.
 *
 * The page applies both through the same ServeStore path it uses for unpacked frames (it packs those itself), so a
 * slimmed frame and the original give the same block map and the same request lifetimes (test/e2e/client-state).
 *
 * Invariant PACK-1: records keep the engine's order; a BARRIER record stands where a step or memory event was,
 * because a step's prefix hits and cache marks apply at its end (see ServeStore).
 */
import type { EngineEvent } from "../../../sim/serving/types.ts";
import type { FrameMessage, ServerMessage } from "../../../server/protocol.ts";

export const OP_ALLOCATED = 1;
export const OP_TOUCHED = 2;
export const OP_FREED = 3;
export const OP_CACHED = 4;
export const OP_EVICTED = 5;
export const OP_BARRIER = 6;
/**
 * Words before a record's block ids: op, reqId, arg (firstBlockIndex for OP_CACHED; the KV-cache group for
 * OP_ALLOCATED / OP_TOUCHED, 0 for an event without `groupBlocks`), n.
 */
export const RECORD_HEADER = 4;

export interface PackedBlockOps {
  ops: Int32Array;
  /** Simulated time of each record, in record order. */
  times: Float64Array;
}

/** The frame's evictions in a line: what the event log and the timeline markers need. */
export interface EvictionSummary {
  blocks: number;
  steps: number;
  firstT: number;
  lastT: number;
  /** The first few evicted block ids, for the log line. */
  firstIds: number[];
}

/** A frame whose block events were packed (by the worker, or by the store for a frame that arrived unpacked). */
export interface PackedFrame extends FrameMessage {
  packed: PackedBlockOps;
  evictions: EvictionSummary | null;
}

export type StreamMessage = Exclude<ServerMessage, FrameMessage> | FrameMessage | PackedFrame;

export function isPacked(m: FrameMessage): m is PackedFrame {
  return (m as Partial<PackedFrame>).packed !== undefined;
}

type BlockEvent = Extract<EngineEvent, { blockIds: number[] }>;

const OPS: Record<string, number> = {
  blocks_allocated: OP_ALLOCATED,
  blocks_touched: OP_TOUCHED,
  blocks_freed: OP_FREED,
  blocks_cached: OP_CACHED,
  blocks_evicted: OP_EVICTED,
};

/**
 * Each KV-cache group's share of a grouped allocated / touched event's ids, or null for one record (no groups, or
 * counts that do not add up to the ids: such an event is placed as one table rather than packed out of bounds).
 */
function groupsOf(e: BlockEvent): number[] | null {
  if (e.type !== "blocks_allocated" && e.type !== "blocks_touched") return null;
  const g = e.groupBlocks;
  if (g === undefined || g.length < 2) return null;
  let sum = 0;
  for (const n of g) {
    if (!(Number.isInteger(n) && n >= 0)) return null;
    sum += n;
  }
  return sum === e.blockIds.length ? g : null;
}

/**
 * The chain length of a grouped prefix hit: every group's hit covers positions 0..L−1 (COORD-1) and a full-attention
 * group (a hybrid model has one) has no null block, so the largest count is L.
 */
function hitLength(groups: readonly number[]): number {
  let max = 0;
  for (const n of groups) if (n > max) max = n;
  return max;
}

/** Splits a frame's events into the packed block records and everything else (in order). */
export function packBlockEvents(events: readonly EngineEvent[]): {
  rest: EngineEvent[];
  packed: PackedBlockOps;
  evictions: EvictionSummary | null;
} {
  let words = 0;
  let records = 0;
  let anyBlocks = false;
  for (const e of events) {
    if (OPS[e.type] !== undefined) {
      const g = groupsOf(e as BlockEvent);
      if (g) {
        words += g.length * RECORD_HEADER + (e.type === "blocks_touched" ? g.length * hitLength(g) : (e as BlockEvent).blockIds.length);
        records += g.length;
      } else {
        words += RECORD_HEADER + (e as BlockEvent).blockIds.length;
        records++;
      }
      anyBlocks = true;
    } else if (e.type === "step" || e.type === "memory") {
      words += RECORD_HEADER;
      records++;
    }
  }
  if (!anyBlocks) return { rest: events as EngineEvent[], packed: { ops: new Int32Array(0), times: new Float64Array(0) }, evictions: null };
  const ops = new Int32Array(words);
  const times = new Float64Array(records);
  const rest: EngineEvent[] = [];
  let w = 0;
  let r = 0;
  let ev: EvictionSummary | null = null;
  for (const e of events) {
    const op = OPS[e.type];
    if (op === undefined) {
      rest.push(e);
      if (e.type !== "step" && e.type !== "memory") continue;
      ops[w] = OP_BARRIER;
      w += RECORD_HEADER;
      times[r++] = e.t;
      continue;
    }
    const b = e as BlockEvent;
    const groups = groupsOf(b);
    if (groups) {
      // one record per KV-cache group; a touched group's hit padded in front with -1 (null blocks) to the hit length
      const len = op === OP_TOUCHED ? hitLength(groups) : 0;
      for (let g = 0, from = 0; g < groups.length; from += groups[g], g++) {
        const n = groups[g];
        const pad = op === OP_TOUCHED ? len - n : 0;
        ops[w] = op;
        ops[w + 1] = "reqId" in b ? b.reqId : -1;
        ops[w + 2] = g;
        ops[w + 3] = pad + n;
        ops.fill(-1, w + RECORD_HEADER, w + RECORD_HEADER + pad);
        for (let i = 0; i < n; i++) ops[w + RECORD_HEADER + pad + i] = b.blockIds[from + i];
        w += RECORD_HEADER + pad + n;
        times[r++] = e.t;
      }
      continue;
    }
    ops[w] = op;
    ops[w + 1] = "reqId" in b ? b.reqId : -1;
    ops[w + 2] = b.type === "blocks_cached" ? b.firstBlockIndex : 0;
    ops[w + 3] = b.blockIds.length;
    ops.set(b.blockIds, w + RECORD_HEADER);
    w += RECORD_HEADER + b.blockIds.length;
    times[r++] = e.t;
    if (op === OP_EVICTED) {
      ev ??= { blocks: 0, steps: 0, firstT: e.t, lastT: e.t, firstIds: [] };
      ev.blocks += b.blockIds.length;
      ev.steps++;
      ev.lastT = e.t;
      for (const id of b.blockIds) if (ev.firstIds.length < 5) ev.firstIds.push(id);
    }
  }
  return { rest, packed: { ops, times }, evictions: ev };
}

/**
 * Keeps, of each step's `scheduled` list, what RequestTracker acts on. It follows each live request's phase the way
 * the tracker does (admitted resumed → recomputing; first token or the first decode after it → decode), so it
 * passes exactly the entries that change a lifetime. State is per live request: finished ones are forgotten.
 */
export class ScheduleFilter {
  private readonly live = new Map<number, { first: boolean; recomputing: boolean }>();

  apply(e: EngineEvent): EngineEvent {
    switch (e.type) {
      case "arrival":
        this.live.set(e.reqId, { first: false, recomputing: false });
        return e;
      case "admitted":
        this.get(e.reqId).recomputing = e.resumed;
        return e;
      case "first_token": {
        const r = this.get(e.reqId);
        r.first = true;
        r.recomputing = false;
        return e;
      }
      case "preempted":
        this.get(e.reqId).recomputing = false;
        return e;
      case "finished":
      case "rejected":
        this.live.delete(e.reqId);
        return e;
      case "step": {
        const kept: [number, number, number][] = [];
        for (const s of e.scheduled) {
          if (s[2] === 1) kept.push(s);
          else {
            const r = this.live.get(s[0]);
            if (r && r.recomputing && r.first) {
              r.recomputing = false;
              kept.push(s);
            }
          }
        }
        return kept.length === e.scheduled.length ? e : { ...e, scheduled: kept };
      }
      default:
        return e;
    }
  }

  clear(): void {
    this.live.clear();
  }

  private get(id: number): { first: boolean; recomputing: boolean } {
    let r = this.live.get(id);
    if (!r) this.live.set(id, (r = { first: false, recomputing: false }));
    return r;
  }
}

/** The worker's whole job on one parsed message: frames are slimmed and packed, everything else passes. */
export function slimMessage(m: ServerMessage, filter: ScheduleFilter): StreamMessage {
  // A backward seek restarts the run's history (the tracker clears too); a reconnect's hello does not.
  if (m.type === "state" && m.rewoundTo !== undefined) filter.clear();
  if (m.type !== "frame") return m;
  const events = m.events.map((e) => filter.apply(e));
  const { rest, packed, evictions } = packBlockEvents(events);
  return { ...m, events: rest, packed, evictions };
}
