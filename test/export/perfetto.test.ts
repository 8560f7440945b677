import { describe, expect, it } from "vitest";
import { createRecorder } from "../../sim/export/recording.ts";
import { toPerfetto, type TraceEvent } from "../../sim/export/perfetto.ts";
import { traceEventViolations } from "./trace-event-rules.ts";
import { budget, config, events, handRecording, records, summary } from "./fixture.ts";

const parse = (x: unknown) => JSON.parse(JSON.stringify(x)) as { traceEvents: TraceEvent[] };

describe("Perfetto export of a hand-made run", () => {
  const file = parse(toPerfetto(handRecording()));
  const ev = file.traceEvents;

  it("is valid trace-event JSON", () => {
    expect(traceEventViolations(file)).toEqual([]);
  });

  it("draws the four engine steps as 10 ms X slices on one track", () => {
    const steps = ev.filter((e) => e.ph === "X");
    expect(steps.map((e) => [e.name, e.ts, e.dur, e.tid])).toEqual([
      ["prefill step", 0, 10000, 1],
      ["decode step", 10000, 10000, 1],
      ["decode step", 20000, 10000, 1],
      ["prefill step", 30000, 10000, 1],
    ]);
  });

  it("gives req 1 its phases queued → prefill → decode → preempted → decode", () => {
    const r1 = ev.filter((e) => (e.ph === "b" || e.ph === "e") && e.id === 1).map((e) => `${e.ph}:${e.name}@${e.ts}`);
    expect(r1).toEqual([
      "b:req-1@0",
      "b:queued@0",
      "e:queued@0",
      "b:prefill@0",
      "e:prefill@10000",
      "b:decode@10000",
      "e:decode@20000",
      "b:preempted@20000",
      "e:preempted@30000",
      "b:decode@30000",
      "e:decode@40000",
      "e:req-1@40000",
    ]);
  });

  it("links the preemption to the resume with a flow bound to the steps", () => {
    const flows = ev.filter((e) => e.ph === "s" || e.ph === "f");
    expect(flows.map((e) => [e.ph, e.ts, e.id, e.tid])).toEqual([
      ["s", 20000, 1, 1],
      ["f", 30000, 1, 1],
    ]);
    expect(flows[1].bp).toBe("e");
    expect(flows[0].args).toEqual({ reqId: 1, lostTokens: 34 });
  });

  it("has a memory counter with one series per component, sampled on change", () => {
    const mem = ev.filter((e) => e.ph === "C" && e.name === "memory (GiB)");
    // 4, 6, 3, (3 again at 30 ms: unchanged, skipped), 0 MiB of KV used; MiB / 1024 = GiB.
    expect(mem.map((e) => [e.ts, e.args!.kv_used])).toEqual([[0, 4 / 1024], [10000, 6 / 1024], [20000, 3 / 1024], [40000, 0]]);
    expect(Object.keys(mem[0].args!)).toEqual(["weights", "activation_reserve", "non_torch", "kv_used", "kv_cached_free", "kv_free"]);
    // weights 1000 MiB, KV total 10 MiB: used + free = 10 MiB at every sample.
    expect(mem[0].args!.weights).toBeCloseTo(1000 / 1024, 12);
    for (const e of mem) expect((e.args!.kv_used as number) + (e.args!.kv_free as number)).toBeCloseTo(10 / 1024, 12);
    const req = ev.filter((e) => e.ph === "C" && e.name === "requests").map((e) => [e.ts, e.args!.running, e.args!.waiting]);
    expect(req).toEqual([[0, 2, 0], [20000, 1, 1], [30000, 1, 0], [40000, 0, 0]]);
    expect(new Set(ev.filter((e) => e.ph === "C").map((e) => e.name))).toEqual(new Set(["memory (GiB)", "KV usage", "requests"]));
  });

  it("names the process and threads with metadata", () => {
    const meta = ev.filter((e) => e.ph === "M" && e.name !== "thread_sort_index").map((e) => [e.name, e.tid, e.args!.name]);
    expect(meta).toEqual([
      ["process_name", 0, "hand-made"],
      ["thread_name", 1, "engine steps"],
      ["thread_name", 2, "requests"],
    ]);
  });

  it("closes requests left open by a run cut short and drops dangling flows", () => {
    const cut = handRecording();
    cut.events = cut.events.filter((e) => e.t <= 0.02);
    const f = parse(toPerfetto(cut));
    expect(traceEventViolations(f)).toEqual([]);
    const ends = f.traceEvents.filter((e) => e.ph === "e" && String(e.name).startsWith("req-"));
    expect(ends.map((e) => [e.name, e.ts, e.args])).toEqual([
      ["req-0", 30000, { unfinished: true }],
      ["req-1", 30000, { unfinished: true }],
    ]);
    expect(f.traceEvents.some((e) => e.ph === "s")).toBe(false);
  });
});

describe("the validator itself catches broken traces", () => {
  const base = () => parse(toPerfetto(handRecording()));
  it("overlapping X on one track", () => {
    const f = base();
    f.traceEvents.find((e) => e.ph === "X" && e.ts === 10000)!.dur = 15000;
    expect(traceEventViolations(f).join()).toMatch(/overlaps/);
  });
  it("an e without its b, and time going back", () => {
    const f = base();
    const i = f.traceEvents.findIndex((e) => e.ph === "b" && e.name === "preempted");
    f.traceEvents.splice(i, 1);
    expect(traceEventViolations(f).join()).toMatch(/e closes "preempted" but "req-1" is open|e without an open b/);
    const g = base();
    g.traceEvents.push({ ...g.traceEvents[g.traceEvents.length - 1], ts: 5 });
    expect(traceEventViolations(g).join()).toMatch(/goes back/);
  });
});

describe("createRecorder", () => {
  it("splits memory events into snapshots and drops block events", () => {
    const r = createRecorder();
    for (const e of events) r.onEvent(e);
    r.onEvent({ type: "blocks_allocated", t: 0, reqId: 0, blockIds: [1, 2] });
    const rec = r.finish({ label: "hand-made", config, budget, records, summary });
    expect(rec.snapshots).toHaveLength(5);
    expect(rec.events.filter((e) => e.type === "memory")).toHaveLength(0);
    expect(rec.events.some((e) => e.type === "blocks_allocated")).toBe(false);
    expect(rec.events).toHaveLength(events.length - 5);
    expect(parse(toPerfetto(rec))).toEqual(parse(toPerfetto(handRecording())));
  });
});
