/**
 * `groupBlocks` on `blocks_allocated` / `blocks_touched` (sim/serving/types.ts): with several KV-cache groups the
 * events list the blocks of every group concatenated, and `groupBlocks` says how many each group holds, so the client
 * can place every block at its own group-table position before it is cached (client/src/data/block-state.ts).
 *
 * Worked by hand for gpt-oss-120b (group 0 sliding, window 128; group 1 full attention; block 16): the sliding group
 * needs ⌈(128 − 1) / 16⌉ = 8 contiguous cached blocks for a hit (vLLM `sliding_window_contiguous_blocks`), and drops,
 * before a step with c tokens computed, the blocks before ⌊(c − 128 + 1) / 16⌋ (vLLM `remove_skipped_blocks`).
 */
import { describe, expect, it } from "vitest";
import { resolveServingConfig, type ServingConfigInput } from "../../sim/serving/config.ts";
import { ServingEngine } from "../../sim/serving/engine.ts";
import { KVCacheCoordinator } from "../../sim/serving/kv-cache-coordinator.ts";
import type { EngineEvent } from "../../sim/serving/types.ts";
import type { TraceRequest } from "../../sim/traces/types.ts";
import { synthesize } from "../../sim/traces/synth.ts";
import { GiB } from "../../sim/units.ts";
import { packBlockEvents, RECORD_HEADER, OP_ALLOCATED, OP_TOUCHED } from "../../client/src/data/frame-pack.ts";
import { ServeStore } from "../../client/src/data/serve-store.ts";
import { frameOf, helloFor } from "../e2e/store-feed.ts";

interface Step {
  events: EngineEvent[];
  /** Each running request's block table per group after the step (null blocks as 0). */
  tables: Map<number, number[][]>;
}

function runSteps(input: ServingConfigInput, trace: TraceRequest[]) {
  const config = resolveServingConfig({ gpu: "H100-SXM-80GB", kvCacheMemoryBytes: 8 * GiB, ...input });
  let events: EngineEvent[] = [];
  const engine = new ServingEngine(config, { onEvent: (e) => events.push(e), detail: { blocks: true }, checkInvariants: true });
  engine.addRequests(trace);
  engine.endTrace();
  const steps: Step[] = [];
  const store = new ServeStore();
  store.apply(helloFor("group-blocks", engine, config));
  while (engine.step()) {
    const tables = new Map<number, number[][]>();
    const kv = engine.kvCacheManager;
    if (kv instanceof KVCacheCoordinator)
      for (const r of engine.scheduler.running)
        tables.set(r.reqId, Array.from({ length: kv.numGroups }, (_, g) => [...kv.blockTable(r, g)]));
    store.apply(frameOf(steps.length, events, events.length ? events[0].t : engine.now, engine.now));
    steps.push({ events, tables });
    events = [];
  }
  return { engine, steps, store };
}

type EventOf<T extends EngineEvent["type"]> = Extract<EngineEvent, { type: T }>;

function blockEvents<T extends "blocks_allocated" | "blocks_touched" | "blocks_freed">(steps: Step[], type: T): EventOf<T>[] {
  return steps.flatMap((s) => s.events.filter((e): e is EventOf<T> => e.type === type));
}

describe("groupBlocks: gpt-oss-120b, a prefix hit after the window moved on", () => {
  // A: 320-token prompt (20 hashed chunks of 16 = 20 full blocks), 2 output tokens, at t = 0.
  // B: the same 20 chunks + 30 unique tokens (350), 2 output tokens, at t = 10, after A finished.
  const chunks = Array.from({ length: 20 }, (_, i) => 500 + i);
  const trace: TraceRequest[] = [
    { arrival: 0, promptTokens: 320, outputTokens: 2, hashIds: chunks, hashBlockTokens: 16 },
    { arrival: 10, promptTokens: 350, outputTokens: 2, hashIds: chunks, hashBlockTokens: 16 },
  ];
  const { steps, store } = runSteps({ model: "openai/gpt-oss-120b", maxModelLen: 1024, stepTimeS: 1, seed: 1 }, trace);
  const allocated = blockEvents(steps, "blocks_allocated");
  const touched = blockEvents(steps, "blocks_touched");
  const [a, b] = [0, 1];
  const tableA1 = steps[0].tables.get(a)!; // after A's prefill step

  it("A's prefill: ⌈320/16⌉ = 20 blocks in each group, sliding group first", () => {
    expect(allocated[0]).toMatchObject({ reqId: a, groupBlocks: [20, 20] });
    expect(allocated[0].blockIds).toEqual([...tableA1[0], ...tableA1[1]]);
  });

  it("A's decode at c = 320: blocks before ⌊193/16⌋ = 12 leave the window; ⌈321/16⌉ = 21 → one new block per group", () => {
    const dropped = blockEvents([steps[1]], "blocks_freed").find((e) => e.reqId === a)!;
    expect(dropped.blockIds).toEqual(tableA1[0].slice(0, 12).reverse()); // right to left, as vLLM frees them
    expect(allocated[1]).toMatchObject({ reqId: a, groupBlocks: [1, 1] });
  });

  it("B's hit: the full group reuses A's 20 blocks; the sliding group the last 8 of them (positions 12..19)", () => {
    // B may hit ⌊349/16⌋ = 21 blocks; A cached 20 (its 21st held a generated token). The sliding search runs right
    // to left and stops at 8 contiguous cached blocks: 19..12; positions 0..11 are null blocks.
    expect(touched).toHaveLength(1);
    expect(touched[0]).toMatchObject({ reqId: b, groupBlocks: [8, 20] });
    expect(touched[0].blockIds).toEqual([...tableA1[0].slice(12, 20), ...tableA1[1]]);
    // then ⌈350/16⌉ = 22 blocks: 2 new per group
    const newB = allocated.find((e) => e.reqId === b)!;
    expect(newB.groupBlocks).toEqual([2, 2]);
    const tableB = steps.find((s) => s.tables.has(b))!.tables.get(b)!;
    expect(tableB[0]).toEqual([...Array(12).fill(0), ...tableA1[0].slice(12, 20), ...newB.blockIds.slice(0, 2)]);
    expect(tableB[1]).toEqual([...tableA1[1], ...newB.blockIds.slice(2)]);
  });

  it("packs one record per group, the sliding hit padded with 12 × −1 to the hit length 20", () => {
    const { ops } = packBlockEvents([touched[0], allocated.find((e) => e.reqId === b)!]).packed;
    const ids = touched[0].blockIds;
    const slidingNew = allocated.find((e) => e.reqId === b)!.blockIds;
    expect([...ops]).toEqual([
      OP_TOUCHED, b, 0, 20, ...Array(12).fill(-1), ...ids.slice(0, 8),
      OP_TOUCHED, b, 1, 20, ...ids.slice(8),
      OP_ALLOCATED, b, 0, 2, ...slidingNew.slice(0, 2),
      OP_ALLOCATED, b, 1, 2, ...slidingNew.slice(2),
    ]);
    expect(ops.length).toBe(4 * RECORD_HEADER + 20 + 20 + 2 + 2);
  });

  it("the client's block map puts B's blocks at their group positions (hits 12..19 / 0..19, new 20, 21)", () => {
    // B finished too, so its blocks are cached-free now; chain positions stay what the last events said
    const hit = touched[0].blockIds;
    const fresh = allocated.find((e) => e.reqId === b)!.blockIds;
    expect(hit.map((x) => store.blocks.chainPos[x])).toEqual([
      ...Array.from({ length: 8 }, (_, i) => 12 + i), ...Array.from({ length: 20 }, (_, i) => i),
    ]);
    // block 21 holds tokens 336..351, and B computes tokens 0..350 (its second output token, 351, is sampled and
    // it finishes): that block is never full, never cached, so only groupBlocks placed it
    expect(fresh.map((x) => store.blocks.chainPos[x])).toEqual([20, 21, 20, 21]);
  });
});

describe("packing an event whose groupBlocks do not add up to its ids", () => {
  it("falls back to one record (group 0) instead of writing past the buffer", () => {
    const bad: EngineEvent = { type: "blocks_allocated", t: 1, reqId: 4, blockIds: [7, 8, 9, 10, 11], groupBlocks: [3, 3] };
    expect([...packBlockEvents([bad]).packed.ops]).toEqual([OP_ALLOCATED, 4, 0, 5, 7, 8, 9, 10, 11]);
  });
});

describe("groupBlocks is absent with one KV-cache group (the stream stays byte-identical)", () => {
  const trace = synthesize({
    numRequests: 20, requestRate: 20, seed: 3, systemPromptTokens: 64, numSystemPrompts: 1,
    promptLen: { kind: "uniform", min: 20, max: 200 }, outputLen: { kind: "uniform", min: 4, max: 40 },
  });
  for (const model of ["meta-llama/Llama-3.1-8B-Instruct", "mistralai/Mistral-7B-v0.1"])
    it(model, () => {
      const { steps } = runSteps({ model, maxModelLen: 1024, stepTimeS: 0.05, seed: 1 }, trace);
      const grouped = [...blockEvents(steps, "blocks_allocated"), ...blockEvents(steps, "blocks_touched")];
      expect(grouped.length).toBeGreaterThan(20);
      expect(blockEvents(steps, "blocks_touched").length).toBeGreaterThan(0);
      for (const e of grouped) expect(Object.keys(e)).toEqual(["type", "t", "reqId", "blockIds"]);
    });
});
