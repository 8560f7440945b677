/**
 * Engine checkpoints (sim/serving/checkpoint.ts, ServingEngine.clone): a copy taken at any step is independent of
 * the original, and both finish the trace exactly as an uninterrupted run does — same event stream block for block,
 * same summary. The live server's backward seeks resume from such copies, so "identical" is the requirement, not
 * "close".
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveModel } from "../../sim/model/registry.ts";
import type { ModelSpec } from "../../sim/model/types.ts";
import { cloneGraph } from "../../sim/serving/checkpoint.ts";
import { resolveServingConfig } from "../../sim/serving/config.ts";
import { Samples } from "../../sim/serving/metrics.ts";
import { ServingEngine } from "../../sim/serving/engine.ts";
import type { EngineEvent } from "../../sim/serving/types.ts";
import type { TraceRequest } from "../../sim/traces/types.ts";
import { GiB } from "../../sim/units.ts";
import { traceArb as makeTraceArb } from "./trace-arb.ts";

describe("cloneGraph", () => {
  class Node {
    next: Node | null = null;
    constructor(readonly id: number, readonly data: Int32Array) {}
    get twice(): number {
      return this.id * 2;
    }
  }

  it("keeps prototypes, cycles and shared identity; copies typed arrays, maps and sets", () => {
    const a = new Node(1, new Int32Array([1, 2, 3]));
    const b = new Node(2, a.data); // one array, two holders
    a.next = b;
    b.next = a;
    const root = { nodes: [a, b], byId: new Map([[1, a]]), ids: new Set([b]) };
    const c = cloneGraph(root);
    const [ca, cb] = c.nodes;
    expect(ca).toBeInstanceOf(Node);
    expect(ca.twice).toBe(2);
    expect(ca).not.toBe(a);
    expect(ca.next).toBe(cb);
    expect(cb.next).toBe(ca);
    expect(c.byId.get(1)).toBe(ca);
    expect([...c.ids][0]).toBe(cb);
    expect(cb.data).toBe(ca.data); // still one array between the two copies…
    expect(ca.data).not.toBe(a.data); // …but not the original's
    ca.data[0] = 99;
    expect(a.data[0]).toBe(1);
  });

  it("shares functions, frozen objects and the objects it is told to share", () => {
    const f = () => 1;
    const frozen = Object.freeze({ x: 1 });
    const config = { y: 2 };
    const c = cloneGraph({ f, frozen, config, own: { z: 3 } }, new Set([config]));
    expect(c.f).toBe(f);
    expect(c.frozen).toBe(frozen);
    expect(c.config).toBe(config);
  });

  it("estimates the copy's size: 8 B per slot and the typed arrays' bytes", () => {
    const size = { bytes: 0 };
    cloneGraph({ a: new Float64Array(1000), b: [1, 2, 3], c: { d: 1 } }, new Set(), size);
    // root {a,b,c} 24 + 3·8 = 48; Float64Array 64 + 8,000; array 32 + 3·8 = 56; {d} 24 + 8 = 32 → 8,200
    expect(size.bytes).toBe(8200);
  });

  it("refuses built-ins whose state is not in own fields", () => {
    expect(() => cloneGraph({ d: new Date(0) })).toThrow(/cannot copy a Date/);
  });
});

const traceArb = makeTraceArb({ maxGap: 0.3, maxPromptTokens: 400, maxOutputTokens: 100, alphabet: 3, maxPrefixChunks: 20 });

const configArb = fc.record({
  blockSize: fc.constantFrom(8, 16),
  numGpuBlocksOverride: fc.integer({ min: 150, max: 400 }), // ≥ 2 groups × 512/8 blocks + the null block (gpt-oss)
  maxNumSeqs: fc.integer({ min: 1, max: 16 }),
  maxNumBatchedTokens: fc.integer({ min: 512, max: 1024 }),
  enablePrefixCaching: fc.boolean(),
  schedulingPolicy: fc.constantFrom("fcfs" as const, "priority" as const),
});

/** An engine whose events go to whichever array `sink.to` names at the time (original and copy share the callback). */
function engineFor(model: ModelSpec, c: object, trace: TraceRequest[], sink: { to: EngineEvent[] }) {
  const engine = new ServingEngine(
    resolveServingConfig({ model, gpu: "H100-SXM-80GB", maxModelLen: 512, stepTimeS: 0.01, kvCacheMemoryBytes: 8 * GiB, ...c }),
    { onEvent: (e) => sink.to.push(e), detail: { blocks: true }, checkInvariants: true },
  );
  engine.addRequests(trace);
  engine.endTrace();
  return engine;
}

describe("ServingEngine.clone", () => {
  const models: [string, ModelSpec][] = [
    ["full attention (Llama-3.1-8B)", resolveModel("meta-llama/Llama-3.1-8B-Instruct")],
    ["hybrid sliding + full groups (gpt-oss-120b)", resolveModel("openai/gpt-oss-120b")],
  ];
  for (const [name, model] of models) {
    it(`${name}: a copy at a random step and its original both finish exactly as an uninterrupted run`, () => {
      fc.assert(
        fc.property(configArb, traceArb, fc.nat({ max: 400 }), (c, trace, cut) => {
          const sink = { to: [] as EngineEvent[] };
          const whole = engineFor(model, c, trace, sink);
          const wholeSummary = whole.runToEnd();
          const wholeEvents = sink.to;

          const before: EngineEvent[] = [];
          sink.to = before;
          const original = engineFor(model, c, trace, sink);
          for (let i = 0; i < cut && original.step(); i++);
          const copy = original.clone();
          // The original runs to the end first: nothing it does may reach the copy.
          const afterOriginal: EngineEvent[] = [];
          sink.to = afterOriginal;
          const originalSummary = original.runToEnd();
          const afterCopy: EngineEvent[] = [];
          sink.to = afterCopy;
          const copySummary = copy.runToEnd();

          expect(originalSummary).toEqual(wholeSummary);
          expect(copySummary).toEqual(wholeSummary);
          expect([...before, ...afterOriginal]).toEqual(wholeEvents);
          expect([...before, ...afterCopy]).toEqual(wholeEvents);
          expect(copy.requestRecords()).toEqual(whole.requestRecords());
        }),
        { numRuns: 30 },
      );
    });
  }

  it("shares the trace once it has ended, and copies it while requests can still be pushed", () => {
    const sink = { to: [] as EngineEvent[] };
    const model = resolveModel("meta-llama/Llama-3.1-8B-Instruct");
    const trace: TraceRequest[] = [
      { arrival: 0, promptTokens: 100, outputTokens: 3 },
      { arrival: 1, promptTokens: 100, outputTokens: 3 },
    ];
    const open = new ServingEngine(resolveServingConfig({ model, gpu: "H100-SXM-80GB", stepTimeS: 0.01 }), { onEvent: (e) => sink.to.push(e) });
    open.addRequests(trace.slice(0, 1));
    const copy = open.clone();
    open.addRequests(trace.slice(1));
    open.endTrace();
    copy.endTrace();
    // The copy never saw the second request: 1 completed against the original's 2.
    expect(copy.runToEnd().completed).toBe(1);
    expect(open.runToEnd().completed).toBe(2);
  });

  it("shares the latency samples' full chunks with the copy, and both go on exactly", () => {
    // 10,000 one-token requests 1 ms apart, each alone (step 0.5 ms): TTFT = e2e = 0.5 ms for every one.
    const model = resolveModel("meta-llama/Llama-3.1-8B-Instruct");
    const config = resolveServingConfig({ model, gpu: "H100-SXM-80GB", stepTimeS: 0.0005 });
    const trace: TraceRequest[] = Array.from({ length: 10_000 }, (_, i) => ({ arrival: i * 0.001, promptTokens: 16, outputTokens: 1 }));
    const engine = new ServingEngine(config, { keepRecords: false });
    engine.addRequests(trace);
    engine.endTrace();
    engine.runUntil(9); // ~9,000 finished: two full chunks of 4,096 TTFT samples
    const copy = engine.clone();
    const chunks = (e: ServingEngine) => (e as unknown as { metrics: { ttft: Samples } }).metrics.ttft.sealedChunks();
    expect(chunks(engine)).toHaveLength(2);
    expect(chunks(copy)[0]).toBe(chunks(engine)[0]); // shared, not copied
    const a = engine.runToEnd();
    const b = copy.runToEnd();
    expect(a).toEqual(b);
    expect(a.completed).toBe(10_000);
    expect(a.ttft.p99).toBeCloseTo(0.0005, 12);
    expect(chunks(copy)[0]).toBe(chunks(engine)[0]); // appending went to each one's own tail
  });
});

describe("Samples", () => {
  it("keeps every sample in order across chunk boundaries", () => {
    const s = new Samples();
    const n = 3 * 4096 + 17;
    for (let i = 0; i < n; i++) s.push(i * 0.5);
    const v = s.values();
    expect(v.length).toBe(n);
    expect(s.sealedChunks()).toHaveLength(3);
    expect(Array.from(v.subarray(4094, 4099))).toEqual([2047, 2047.5, 2048, 2048.5, 2049]);
    expect(v[n - 1]).toBe((n - 1) * 0.5);
  });
});
