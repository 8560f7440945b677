import { describe, expect, it } from "vitest";
import { Checkpoints, ReportedMetrics, type Checkpoint } from "../../server/runs/checkpoints.ts";
import { emptyMetrics } from "../../server/runs/worker-messages.ts";

const cp = (t: number, bytes = 1): Checkpoint => ({ t, sim: t, bytes, requests: null, last: null, reported: new ReportedMetrics().mark() });

describe("Checkpoints", () => {
  it("finds the latest at or before a time, and keeps them sorted when a rewound timeline adds earlier ones", () => {
    const c = new Checkpoints(0, 100);
    for (const t of [1, 2, 4]) c.add(cp(t), 0, 0);
    c.add(cp(3), 0, 0); // after a rewind to 2.5
    c.add(cp(2), 0, 0); // a time it already has: kept once
    expect(c.size).toBe(4);
    expect(c.atOrBefore(0.5)).toBeNull();
    expect(c.atOrBefore(2)!.t).toBe(2);
    expect(c.atOrBefore(3.9)!.t).toBe(3);
    expect(c.atOrBefore(100)!.t).toBe(4);
  });

  it("CKPT-1: beyond `max`, every other one goes and the interval doubles", () => {
    const c = new Checkpoints(100, 4);
    let busy = 0;
    for (let t = 1; t <= 5; t++) {
      busy += 100;
      expect(c.due(busy)).toBe(true);
      c.add(cp(t), busy, 1);
    }
    // 5 > 4: kept t = 1, 3, 5; the next is due 200 ms of work later, not 100.
    expect([c.atOrBefore(1)!.t, c.atOrBefore(2.9)!.t, c.atOrBefore(4.9)!.t]).toEqual([1, 1, 3]);
    expect(c.size).toBe(3);
    expect(c.due(busy + 100)).toBe(false);
    expect(c.due(busy + 200)).toBe(true);
  });

  it("CKPT-3: the copies stay under the byte budget; one copy over it alone is not kept", () => {
    const c = new Checkpoints(0, 100, 250);
    for (let t = 1; t <= 3; t++) c.add(cp(t, 100), 0, 0);
    // 300 B > 250 B: every other one goes (t = 1 and 3 stay, 200 B).
    expect(c.size).toBe(2);
    expect(c.bytes).toBe(200);
    expect(c.atOrBefore(2.5)!.t).toBe(1);
    const d = new Checkpoints(0, 100, 250);
    d.add(cp(1, 300), 0, 0);
    expect(d.size).toBe(0);
  });

  it("CKPT-2: a copy that took 40 ms is followed by ≥ 400 ms of work before the next (≤ 10 % overhead)", () => {
    const c = new Checkpoints(100, 24);
    c.add(cp(1), 1000, 40);
    expect(c.due(1399)).toBe(false);
    expect(c.due(1400)).toBe(true);
  });
});

describe("ReportedMetrics", () => {
  it("gives back exactly what had been reported at a mark, as a fresh delta", () => {
    const r = new ReportedMetrics();
    r.add({ ...emptyMetrics(), requestSuccess: 2, promptTokens: 100, ttft: [0.1, 0.2], iterationTokens: [50, 50] });
    const mark = r.mark();
    r.add({ ...emptyMetrics(), requestSuccess: 1, promptTokens: 30, ttft: [0.3], iterationTokens: [30] });
    const d = r.upTo(mark);
    expect(d).toMatchObject({ requestSuccess: 2, promptTokens: 100, ttft: [0.1, 0.2], iterationTokens: [50, 50] });
    d.ttft.push(9); // the caller's to extend; the record is untouched
    expect(r.upTo(mark).ttft).toEqual([0.1, 0.2]);
    // A rewind re-reports from zero: that delta becomes the whole record.
    r.replace({ ...emptyMetrics(), requestSuccess: 1, ttft: [0.1] });
    expect(r.mark()).toMatchObject({ requestSuccess: 1, ttft: 1, promptTokens: 0 });
  });
});
