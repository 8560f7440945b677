import { describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import { DEFAULT_STREAM_LIMITS, StreamConnection } from "../../server/stream/connection.ts";
import { emptyCounts, emptyMetrics, type WorkerBatch } from "../../server/runs/worker-messages.ts";
import type { ReplaySummary } from "../../sim/serving/types.ts";

/** A socket that records what is sent and never backs up. */
function fakeSocket() {
  const sent: string[] = [];
  const socket = { OPEN: 1, readyState: 1, bufferedAmount: 0, send: (t: string) => sent.push(t), on() {}, close() {}, terminate() {} };
  return { socket: socket as unknown as WebSocket, sent };
}

function batch(t0: number, t1: number, finishedAt: number[], live?: Partial<ReplaySummary>): WorkerBatch {
  return {
    op: "batch",
    id: 0,
    t0,
    t1,
    snapshots: [],
    droppedSamples: 0,
    events: finishedAt.map((t, i) => ({ type: "finished" as const, t, reqId: i })),
    counts: { ...emptyCounts(), finished: finishedAt.length },
    metrics: emptyMetrics(),
    last: null,
    finished: false,
    ...(live ? { live: live as ReplaySummary, liveT: t1 } : {}),
  };
}

describe("StreamConnection merges live reports", () => {
  it("a frame that merged a later batch keeps the report's own time, not the frame's end", () => {
    const { socket, sent } = fakeSocket();
    const conn = new StreamConnection(socket, { ...DEFAULT_STREAM_LIMITS, frameIntervalMs: 10_000 }, () => {});
    // The first batch goes out at once (no frame sent yet); the next two wait for the 10 s interval and merge.
    conn.pushBatch(batch(0, 1, [0.5]));
    // Batch 2 carries the worker's report at its end (t = 2 s, 2 requests done); batch 3 finishes one more.
    conn.pushBatch(batch(1, 2, [1.5], { completed: 2 }));
    conn.pushBatch(batch(2, 3, [2.5]));
    conn.send({ type: "state", state: "finished" } as never); // flushes the pending frame first (ordering)
    const frames = sent.map((t) => JSON.parse(t)).filter((m) => m.type === "frame");
    expect(frames).toHaveLength(2);
    const merged = frames[1];
    expect([merged.t0, merged.t1]).toEqual([1, 3]);
    // Two finishes stream in the frame, but the report (2 completed in all) covers only those at or before 2 s.
    expect(merged.events).toHaveLength(2);
    expect(merged.live.completed).toBe(2);
    expect(merged.liveT).toBe(2);
    conn.close(1000, "done");
  });
});
