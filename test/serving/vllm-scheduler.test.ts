/**
 * Peer suite: vLLM's `tests/v1/core/test_scheduler.py` (read at vllm-project/vllm 003df29, 2026 main) ported to the
 * simulator's Scheduler. Defaults follow upstream's `create_scheduler` / `create_requests` (helpers.ts). vLLM's tests
 * feed a ModelRunnerOutput with one sampled token per request whose prompt is complete; the simulator's
 * `updateFromOutput` does exactly that, so `Driver.update` stands in for it. Requests with distinct prompts get no
 * hash ids (every token unique); `same_prompt=True` becomes shared hash ids.
 *
 * Ported (upstream test → test here):
 *   test_add_requests                                  → "test_add_requests"
 *   test_schedule[APC off / on]                        → "test_schedule" (prompt-logprobs variant without logprobs)
 *   test_schedule_concurrent_partial_requests[on/off]  → "test_schedule_concurrent_partial_requests"
 *   test_schedule_concurrent_batches[on/off]           → "test_schedule_concurrent_batches"
 *   test_schedule_order[chunked on/off]                → "test_schedule_order" (+ the skip order, as in
 *                                                         test_prepend_skipped_requests_order)
 *   test_preempt_during_execution                      → same name (up to the preemption; see skipped)
 *   test_preemption_re_records_prefix_cache_query      → "preemption and resume ..." (queries recorded again)
 *   test_prefix_cache_stats_counted_once_for_retried_then_scheduled_request → same name (a real allocation
 *                                                         failure instead of a spy)
 *   test_prefix_cache_stats_not_recorded_when_caching_disabled → same name (a divergence this port found, now fixed)
 *   test_scheduler_stats_waiting_queues (capacity part) → "test_scheduler_stats_waiting_queues"
 *   test_kv_connector_unable_to_allocate               → "unable to allocate" (no connector: 0 external tokens)
 *   test_kv_connector_handles_preemption               → "preemption and resume ..." (no connector: the resumed
 *                                                         request re-hits 2 local blocks instead of 1 + 1 remote)
 *   test_memory_leak                                   → "test_memory_leak"
 *   test_priority_scheduling_basic_ordering, _arrival_time_tiebreaker, _mixed_priority_and_arrival,
 *   _preemption, _no_preemption_when_space_available, _preemption_victim_selection,
 *   _equal_priority_preemption, _waiting_queue_order, _fcfs_fallback, _with_limited_slots, _heap_property,
 *   _preemption_and_resumption_when_out_of_kv          → same names under "priority scheduling"
 *   (the victim rule of test_priority_scheduling_preemption, with tied keys) → "victim among equal (priority,
 *                                                         arrival)" (ties by request id; see there)
 *   (hand-worked, after the upstream preemption tests) → "FCFS preemption: victim, queue order, head-of-line"
 *
 * Skipped (the model lacks the feature):
 *   test_finish_request, test_get_num_unfinished_requests, test_abort_* — no abort API (requests end at their
 *     trace output length); test_priority_scheduling_heap_property aborts, ported with 1-token requests instead
 *   test_stop_via_update_from_output, test_check_stop_min_tokens — EOS / stop tokens / min_tokens (outputs have
 *     fixed lengths, as vLLM benchmarks run with ignore_eos)
 *   test_schedule_spec_decoding_stats, test_spec_decoding_stats_empty_output, test_no_spec_tokens_scheduled_for_
 *     prefill_chunks, test_spec_decode_padding_*, test_scheduler_*eagle*, test_connector_finish_includes_partial_
 *     eagle_block, test_eagle3_mm_encoder_cache_with_shift — speculative decoding / EAGLE
 *   test_schedule_multimodal_requests, test_schedule_partial_requests, test_no_mm_input_chunking,
 *     test_make_scheduled_encoder_input_stats_*, test_scheduled_encoder_input_stats_*, test_ec_connector_*,
 *     test_priority_scheduling_ec_connector_*, test_free_encoder_inputs_*, test_encoder_cache_*,
 *     test_variable_length_cross_attn_*, test_cross_attn_*, test_chunked_prefill_disabled_for_encoder_decoder —
 *     multimodal, encoder cache, encoder-decoder
 *   test_kv_connector_basic, test_external_prefix_cache_metrics, test_prefix_cache_query_not_inflated_by_connector_
 *     defer, test_throttle_*, test_async_load_reservation_prevents_wedge_e2e, test_delayed_kv_connector_free_*,
 *     test_scheduler_kv_connector_stats, test_remote_kv_promotion_*, test_prepend_skipped_requests_order (remote-KV
 *     skip), test_fcfs_mixed_skipped_waiting_types_keep_order, test_reset_connector_cache_* — KV connectors
 *   test_schedule_prefills_gating, test_throttle_* — DP prefill throttling
 *   test_async_scheduling_pp_allows_rescheduling_with_output_placeholders, test_cached_request_data_* — async
 *     scheduling / model-runner data; test_preempt_during_execution's last step (a token sampled for a request
 *     preempted after it was scheduled) needs two batches in flight (PP), which the synchronous engine never has
 *   test_schedule_skip_tokenizer_init*, test_grammar_compile_error_*, test_abort_request_when_structured_output_* —
 *     tokenizer / structured output
 *   test_scheduler_reset_prefix_cache — no reset_prefix_cache API
 *   test_scheduler_stats_route_to_existing_output_client — multi-client output routing
 *   test_hybrid_per_group_hit_divergence_* — hybrid Mamba + connector
 */
import { describe, expect, it } from "vitest";
import type { Request } from "../../sim/serving/request.ts";
import {
  cachedReqIds,
  Driver,
  freeQueue,
  makePriorityScheduler,
  makeRequest,
  makeRequests,
  makeScheduler,
  newReqIds,
  scheduledTokens,
} from "./helpers.ts";

const ids = (rs: readonly Request[]) => rs.map((r) => r.reqId);

describe("test_add_requests", () => {
  it("queues every request in order", () => {
    const s = makeScheduler();
    const reqs = makeRequests(10, { promptTokens: 10 });
    reqs.forEach((r, i) => {
      s.addRequest(r);
      expect(s.waiting.length).toBe(i + 1);
    });
    expect(ids(s.waiting.toArray())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe("test_schedule", () => {
  for (const enablePrefixCaching of [false, true]) {
    it(`prefix caching ${enablePrefixCaching ? "on" : "off"}: all 10 prompts of 10 tokens go in one step`, () => {
      const s = makeScheduler({ enablePrefixCaching });
      const reqs = makeRequests(10, { promptTokens: 10 });
      for (const r of reqs) s.addRequest(r);
      const out = s.schedule(0);
      expect(newReqIds(out)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(cachedReqIds(out)).toEqual([]);
      for (const n of Object.values(scheduledTokens(out))) expect(n).toBe(10);
      expect(s.waiting.length).toBe(0);
      expect(s.running).toEqual(reqs);
    });
  }
});

describe("test_schedule_concurrent_partial_requests (long_prefill_token_threshold 400, budget 1024)", () => {
  for (const enablePrefixCaching of [true, false]) {
    it(`prefix caching ${enablePrefixCaching ? "on" : "off"}: three 800-token prompts chunked 400/400/224`, () => {
      const s = makeScheduler({ maxNumBatchedTokens: 1024, longPrefillTokenThreshold: 400, enablePrefixCaching });
      const d = new Driver(s);
      for (const r of makeRequests(3, { promptTokens: 800 })) s.addRequest(r);
      // step 1: 400 + 400 + (1024 − 800) = 224
      const { out: o1 } = d.step();
      expect(newReqIds(o1)).toEqual([0, 1, 2]);
      expect(scheduledTokens(o1)).toEqual({ 0: 400, 1: 400, 2: 224 });
      // step 2: the same split from the running queue; requests 0 and 1 finish their prompts and sample.
      const { out: o2, res: r2 } = d.step();
      expect(s.running).toHaveLength(3);
      expect(newReqIds(o2)).toEqual([]);
      expect(cachedReqIds(o2)).toEqual([0, 1, 2]);
      expect(scheduledTokens(o2)).toEqual({ 0: 400, 1: 400, 2: 224 });
      expect(ids(r2.firstTokens)).toEqual([0, 1]);
      // step 3: two decodes and the rest of request 2: 800 − 224 − 224 = 352 (< 400, < 1022)
      const o3 = d.schedule();
      expect(scheduledTokens(o3)).toEqual({ 0: 1, 1: 1, 2: 352 });
    });
  }
});

describe("test_schedule_concurrent_batches (max_num_seqs 2, budget 1024)", () => {
  for (const enablePrefixCaching of [false, true]) {
    it(`prefix caching ${enablePrefixCaching ? "on" : "off"}: a second batch is scheduled before the first returns`, () => {
      const s = makeScheduler({ maxNumBatchedTokens: 1024, maxNumSeqs: 2, enablePrefixCaching });
      const [r0, r1] = makeRequests(2, { promptTokens: 512 });
      s.addRequest(r0);
      const out0 = s.schedule(0);
      expect(newReqIds(out0)).toEqual([0]);
      expect(scheduledTokens(out0)).toEqual({ 0: 512 });
      // r0 is running with nothing left to compute until its output arrives, so only r1 is scheduled.
      s.addRequest(r1);
      const out1 = s.schedule(0);
      expect(newReqIds(out1)).toEqual([1]);
      expect(scheduledTokens(out1)).toEqual({ 1: 512 });
      s.updateFromOutput(out0, 1);
      const out2 = s.schedule(1);
      expect(scheduledTokens(out2)[0]).toBe(1);
      s.updateFromOutput(out1, 2);
      expect(r1.numOutputTokens).toBe(1);
    });
  }
});

describe("test_schedule_order (budget 1024, max_num_seqs 3; prompts 800, 800, 10, 10)", () => {
  const setup = (enableChunkedPrefill: boolean) => {
    const s = makeScheduler({ maxNumBatchedTokens: 1024, maxNumSeqs: 3, enableChunkedPrefill });
    for (const [i, n] of [800, 800, 10, 10].entries()) s.addRequest(makeRequest(i, { promptTokens: n }));
    return { s, out: s.schedule(0) };
  };
  it("chunked prefill: the second long prompt takes the remaining 224 tokens as a chunk", () => {
    const { out } = setup(true);
    expect(newReqIds(out)).toEqual([0, 1]);
    expect(scheduledTokens(out)).toEqual({ 0: 800, 1: 224 });
  });
  it("no chunked prefill, vLLM 2025 (before PR #28911): the long prompt is skipped, the short ones go ahead", () => {
    // 800 > 224 left → skipped and put back at the front; 10 and 10 fit; max_num_seqs 3 reached.
    const { s, out } = setup(false);
    expect(newReqIds(out)).toEqual([0, 2, 3]);
    expect(scheduledTokens(out)).toEqual({ 0: 800, 2: 10, 3: 10 });
    expect(ids(s.waiting.toArray())).toEqual([1]);
  });
  it("no chunked prefill: skipped requests keep their queue order (cf. test_prepend_skipped_requests_order)", () => {
    const s = makeScheduler({ maxNumBatchedTokens: 1024, enableChunkedPrefill: false });
    for (const [i, n] of [800, 300, 300, 10, 5].entries()) s.addRequest(makeRequest(i, { promptTokens: n }));
    const out = s.schedule(0);
    // 800 → 224 left; 300 and 300 skipped; 10 → 214; 5 → 209.
    expect(newReqIds(out)).toEqual([0, 3, 4]);
    expect(ids(s.waiting.toArray())).toEqual([1, 2]);
  });
  // Upstream main asserts 1: since vLLM PR #28911 (merged 2025-11-18) a prompt that does not fit without chunked
  // prefill ends the admission loop (head-of-line blocking) instead of being skipped. The simulator models the 2025
  // skip; this records the version difference.
  it.fails("no chunked prefill, vLLM main (after PR #28911): admission stops at the long prompt", () => {
    const { out } = setup(false);
    expect(newReqIds(out)).toEqual([0]);
  });
});

describe("test_preempt_during_execution (11 blocks = 10 usable, budget 100, prefix caching off)", () => {
  it("a second batch takes the last blocks; the first request's next token preempts it", () => {
    const s = makeScheduler({ maxNumBatchedTokens: 100, numBlocks: 11, enablePrefixCaching: false });
    const [r0, r1] = makeRequests(2, { promptTokens: 80 });
    s.addRequest(r0);
    const out0 = s.schedule(0);
    expect(Object.keys(scheduledTokens(out0))).toHaveLength(1);
    expect(r0.blockIds).toHaveLength(5); // 80 / 16
    s.addRequest(r1);
    const out1 = s.schedule(0);
    expect(Object.keys(scheduledTokens(out1))).toHaveLength(1);
    expect(r1.blockIds).toHaveLength(5);
    s.updateFromOutput(out0, 1);
    // r0's 81st token needs a 6th block; none is free → the last running request (r1) is preempted.
    const out2 = s.schedule(1);
    expect(s.running).toEqual([r0]);
    expect(r1.status).toBe("preempted");
    expect(ids(out2.preempted)).toEqual([1]);
    expect(r0.blockIds).toHaveLength(6);
  });
});

describe("FCFS preemption: victim, queue order, head-of-line (hand-worked; block size 4, 4 usable blocks)", () => {
  // max_num_seqs 2, prompts of 4 tokens, 8 output tokens each; r2 waits behind the two running requests.
  // step 1: r0 [1], r1 [2]. step 2: 5th token → r0 [1,3], r1 [2,4]; 0 free. steps 3–5: tokens 6–8 fit.
  // step 6: r0's 9th token needs a 3rd block → victim = last running (r1, 8 computed, both blocks hashed), freed
  //   tail-first [4,2] and put at the FRONT of the waiting queue: [r1, r2]. r0 takes block 4 (evicting its hash).
  // step 7: r1 (9 tokens) re-hits block 2 only (4 tokens): 2 new + 1 evictable hit = 3 > 1 free → blocked, and r2
  //   (which would fit in the 1 free block) waits behind it.
  // step 8: r0 samples its 8th token and frees [4,3,1] → queue [2,4,3,1].
  // step 9: r1 resumes: touches 2, takes 4 and 3, recomputes 9 − 4 = 5 tokens (8 lost − 4 re-hit = 4 recomputed);
  //   r2 takes block 1.
  it("preempts r1, queues it ahead of r2, blocks r2 behind it, and resumes it with a 4-token hit", () => {
    const s = makeScheduler({ blockSize: 4, numBlocks: 5, maxNumSeqs: 2, maxModelLen: 64 });
    const d = new Driver(s);
    const [r0, r1, r2] = makeRequests(3, { promptTokens: 4, outputTokens: 8 }, 4);
    for (const r of [r0, r1, r2]) s.addRequest(r);
    const { out: o1 } = d.step();
    expect(newReqIds(o1)).toEqual([0, 1]);
    expect([r0.blockIds, r1.blockIds]).toEqual([[1], [2]]);
    d.step();
    expect([r0.blockIds, r1.blockIds]).toEqual([[1, 3], [2, 4]]);
    for (let k = 3; k <= 5; k++) expect(d.step().out.preempted).toEqual([]);

    const { out: o6 } = d.step();
    expect(ids(o6.preempted)).toEqual([1]);
    expect(r1.lostTokens).toBe(8);
    expect(ids(s.waiting.toArray())).toEqual([1, 2]);
    expect(r0.blockIds).toEqual([1, 3, 4]);
    expect(o6.admitted).toEqual([]);

    const { out: o7 } = d.step();
    expect(o7.admitted).toEqual([]);
    expect(scheduledTokens(o7)).toEqual({ 0: 1 });
    expect(ids(s.waiting.toArray())).toEqual([1, 2]);

    const { res: r8 } = d.step();
    expect(ids(r8.finished)).toEqual([0]);
    expect(freeQueue(s.kvCacheManager)).toEqual([2, 4, 3, 1]);

    const { out: o9 } = d.step();
    expect(o9.admitted.map((a) => [a.req.reqId, a.cachedTokens, a.resumed])).toEqual([
      [1, 4, true],
      [2, 0, false],
    ]);
    expect(scheduledTokens(o9)).toEqual({ 1: 5, 2: 4 });
    expect([r1.blockIds, r2.blockIds]).toEqual([[2, 4, 3], [1]]);
    expect(s.numPreemptions).toBe(1);
    expect(s.numRecomputedTokens).toBe(4);
  });
});

describe("preemption and resume (test_kv_connector_handles_preemption without a connector; test_preemption_re_records_prefix_cache_query)", () => {
  // Block size 2, 7 blocks (6 usable), two 5-token prompts, 4 output tokens each, prefix caching on.
  // step 1: r0 [1,2,3], r1 [4,5,6]; 0 free.  step 2: 6th token fits.  step 3: r0's 7th token needs a 4th block →
  //   r1 preempted (6 computed: 3 full blocks hashed), freed [6,5,4]; r0 takes 6, evicting r1's 3rd block.
  // step 4: r1 (7 tokens) re-hits [4,5] = 4 tokens; needs 2 new + 2 evictable = 4 > 2 free → waits. r0 finishes and
  //   frees [6,3,2,1] → 6 free.
  // step 5: r1 resumes with 7 − 4 = 3 tokens (upstream, with 2 more tokens from the connector, schedules 1).
  // step 6: r1's last token; everything freed.
  it("preempts the last request, re-hits its surviving blocks, and frees everything at the end", () => {
    const s = makeScheduler({ blockSize: 2, numBlocks: 7, maxModelLen: 64 });
    const d = new Driver(s);
    const kv = s.kvCacheManager;
    const [r0, r1] = makeRequests(2, { promptTokens: 5, outputTokens: 4 }, 2);
    s.addRequest(r0);
    s.addRequest(r1);

    const { out: o1 } = d.step();
    expect(scheduledTokens(o1)).toEqual({ 0: 5, 1: 5 });
    expect(s.running).toHaveLength(2);
    const { out: o2 } = d.step();
    expect(scheduledTokens(o2)).toEqual({ 0: 1, 1: 1 });

    const { out: o3 } = d.step();
    expect(scheduledTokens(o3)).toEqual({ 0: 1 });
    expect(ids(o3.preempted)).toEqual([1]);
    expect([s.running.length, s.waiting.length]).toEqual([1, 1]);

    const { out: o4, res: r4 } = d.step();
    expect(scheduledTokens(o4)).toEqual({ 0: 1 });
    expect(o4.admitted).toEqual([]);
    expect(ids(r4.finished)).toEqual([0]);
    expect(s.running).toHaveLength(0);
    expect(kv.blockPool.getNumFreeBlocks()).toBe(6);

    const { out: o5 } = d.step();
    expect(scheduledTokens(o5)).toEqual({ 1: 3 });
    expect(newReqIds(o5)).toEqual([]); // a resumed request is not a new one (vLLM: scheduled_cached_reqs)
    expect(cachedReqIds(o5)).toEqual([1]);
    expect(o5.admitted[0].hitBlocks).toEqual([4, 5]);
    expect([s.running.length, s.waiting.length]).toEqual([1, 0]);

    const { out: o6, res: r6 } = d.step();
    expect(scheduledTokens(o6)).toEqual({ 1: 1 });
    expect(ids(r6.finished)).toEqual([1]);
    expect(kv.blockPool.getNumFreeBlocks()).toBe(6);
    // Every admission is a lookup, the resume included: queries 5 + 5 + 7 = 17 tokens, hits 4.
    expect(kv.stats).toEqual({ queries: 17, hits: 4 });
    expect(s.numRecomputedTokens).toBe(2); // 6 computed before the preemption − 4 re-hit
    kv.blockPool.checkInvariants();
  });
});

describe("unable to allocate (test_kv_connector_unable_to_allocate without a connector)", () => {
  // Block size 4, 10 blocks (9 usable), two prompts of (10/2 + 1) × 4 = 24 tokens = 6 blocks each, 2 outputs.
  it("runs one request at a time and frees every block after each", () => {
    const s = makeScheduler({ blockSize: 4, numBlocks: 10, maxModelLen: 64 });
    const d = new Driver(s);
    for (const r of makeRequests(2, { promptTokens: 24, outputTokens: 2 }, 4)) s.addRequest(r);
    const { out: o1 } = d.step();
    expect(scheduledTokens(o1)).toEqual({ 0: 24 });
    expect([s.running.length, s.waiting.length]).toEqual([1, 1]);
    const { out: o2 } = d.step(); // decode; request 1 still does not fit (2 free)
    expect(scheduledTokens(o2)).toEqual({ 0: 1 });
    expect(s.kvCacheManager.blockPool.getNumFreeBlocks()).toBe(9);
    expect([s.running.length, s.waiting.length]).toEqual([0, 1]);
    const { out: o3 } = d.step();
    expect(scheduledTokens(o3)).toEqual({ 1: 24 });
    expect([s.running.length, s.waiting.length]).toEqual([1, 0]);
    d.step();
    expect(s.kvCacheManager.blockPool.getNumFreeBlocks()).toBe(9);
    expect([s.running.length, s.waiting.length]).toEqual([0, 0]);
  });
});

describe("prefix-cache stats", () => {
  it("test_prefix_cache_stats_counted_once_for_retried_then_scheduled_request", () => {
    // Block size 16, 6 blocks (5 usable), no chunked prefill. The seed ([0]*32, 2 outputs) leaves blocks 1,2 cached
    // and the queue [4,5,3,2,1]. A unique 48-token "blocker" then takes 4,5,3; the retried request ([0]*48) hits
    // [1,2] and needs 1 new + 2 evictable = 3 > 2 free → rejected, nothing recorded. The blocker finishes at the
    // end of that step, and the retried request is admitted next step and counted once: 48 queried, 32 hit.
    // (Upstream main records the lookup at admission, as here; vLLM 2025 recorded it in every get_computed_blocks
    // call, so the rejected attempt was counted too.)
    const s = makeScheduler({ numBlocks: 6, enableChunkedPrefill: false, enablePrefixCaching: true });
    const d = new Driver(s);
    const kv = s.kvCacheManager;
    s.addRequest(makeRequest(0, { promptTokens: 32, hashIds: [0, 0], outputTokens: 2 }));
    d.step();
    const { res } = d.step();
    expect(ids(res.finished)).toEqual([0]);
    expect(freeQueue(kv)).toEqual([4, 5, 3, 2, 1]);
    const before = { ...kv.stats };

    const retried = makeRequest(2, { promptTokens: 48, hashIds: [0, 0, 0], outputTokens: 1 });
    s.addRequest(makeRequest(1, { promptTokens: 48, outputTokens: 1 }));
    s.addRequest(retried);
    const { out: o3 } = d.step();
    expect(newReqIds(o3)).toEqual([1]);
    expect(kv.stats).toEqual({ queries: before.queries + 48, hits: before.hits });
    const { out: o4 } = d.step();
    expect(scheduledTokens(o4)).toEqual({ 2: 16 });
    expect(kv.stats).toEqual({ queries: before.queries + 96, hits: before.hits + 32 });
    expect(retried.numCachedTokens).toBe(32);
  });

  // vLLM's get_computed_blocks returns before touching the stats when caching is disabled (2025 and main alike), so
  // vllm:prefix_cache_queries stays 0.
  it("test_prefix_cache_stats_not_recorded_when_caching_disabled", () => {
    const s = makeScheduler({ enablePrefixCaching: false });
    for (const r of makeRequests(2, { promptTokens: 10 })) s.addRequest(r);
    s.schedule(0);
    expect(s.kvCacheManager.stats).toEqual({ queries: 0, hits: 0 });
  });
});

describe("test_scheduler_stats_waiting_queues (capacity part)", () => {
  it("a 100-token budget admits two 50-token prompts and leaves the third waiting", () => {
    const s = makeScheduler({ maxNumBatchedTokens: 100 });
    for (const r of makeRequests(3, { promptTokens: 50 })) s.addRequest(r);
    const out = s.schedule(0);
    expect(newReqIds(out)).toEqual([0, 1]);
    expect(out.numScheduledTokens).toBe(100);
    expect([s.running.length, s.waiting.length]).toEqual([2, 1]);
  });
});

describe("test_memory_leak", () => {
  it("five requests run to completion and leave no block referenced", () => {
    const s = makeScheduler({ enablePrefixCaching: true });
    const d = new Driver(s);
    for (const r of makeRequests(5, { promptTokens: 10, outputTokens: 10 })) {
      s.addRequest(r);
      d.step();
    }
    for (;;) {
      const out = d.schedule();
      if (s.running.length === 0) break;
      d.update(out);
    }
    const pool = s.kvCacheManager.blockPool;
    expect([s.waiting.length, s.running.length]).toEqual([0, 0]);
    expect(pool.getNumFreeBlocks()).toBe(pool.numGpuBlocks - 1);
    expect(pool.refCnt.every((c) => c === 0)).toBe(true);
    pool.checkInvariants();
  });
});

describe("priority scheduling (create_scheduler_with_priority: prefix caching off)", () => {
  const addAll = (s: ReturnType<typeof makeScheduler>, priorities: number[], arrivals: number[], promptTokens = 10) => {
    const reqs = priorities.map((priority, i) => makeRequest(i, { promptTokens, priority, arrival: arrivals[i] }));
    for (const r of reqs) s.addRequest(r);
    return reqs;
  };

  it("test_priority_scheduling_basic_ordering: lower value first", () => {
    const s = makePriorityScheduler();
    addAll(s, [2, 0, 1], [1, 2, 3]);
    expect(newReqIds(s.schedule(0))).toEqual([1, 2, 0]);
  });

  it("test_priority_scheduling_arrival_time_tiebreaker", () => {
    const s = makePriorityScheduler();
    addAll(s, [1, 1, 1], [3, 1, 2]);
    expect(newReqIds(s.schedule(0))).toEqual([1, 2, 0]);
  });

  it("test_priority_scheduling_mixed_priority_and_arrival", () => {
    const s = makePriorityScheduler();
    addAll(s, [2, 1, 1, 0], [1, 3, 2, 4]);
    expect(newReqIds(s.schedule(0))).toEqual([3, 2, 1, 0]);
  });

  it("test_priority_scheduling_fcfs_fallback: equal priorities go by arrival", () => {
    const s = makePriorityScheduler();
    addAll(s, [1, 1, 1, 1], [4, 1, 3, 2]);
    expect(newReqIds(s.schedule(0))).toEqual([1, 3, 2, 0]);
  });

  it("test_priority_scheduling_preemption: the low-priority running request is the victim", () => {
    // Block size 16, 6 blocks (5 usable), max_num_seqs 3, budget 200.
    // lo1 (priority 5, 32 tokens) runs [1,2] and samples → 33 tokens. hi1 (priority 0, 32 tokens) arrives.
    // step 2: lo1 takes its 3rd block, hi1 is admitted with 2 → 0 free. Both sample (lo1 34, hi1 33 tokens).
    // step 3: lo1's 34th token fits; hi1's 33rd needs a block → victim = max (priority, arrival) = lo1, already
    //   scheduled this step: its tokens are given back and it is preempted.
    const s = makePriorityScheduler({ maxNumSeqs: 3, maxNumBatchedTokens: 200, numBlocks: 6 });
    const d = new Driver(s);
    const lo1 = makeRequest(0, { promptTokens: 32, priority: 5, arrival: 1 });
    s.addRequest(lo1);
    expect(newReqIds(d.step().out)).toEqual([0]);
    const hi1 = makeRequest(1, { promptTokens: 32, priority: 0, arrival: 2 });
    s.addRequest(hi1);
    const { out: o2 } = d.step();
    expect(newReqIds(o2)).toEqual([1]);
    expect(s.running).toHaveLength(2);
    expect(s.kvCacheManager.blockPool.getNumFreeBlocks()).toBe(0);
    const o3 = d.schedule();
    expect(lo1.status).toBe("preempted");
    expect(s.running).toEqual([hi1]);
    expect(scheduledTokens(o3)).toEqual({ 1: 1 });
  });

  it("test_priority_scheduling_no_preemption_when_space_available", () => {
    const s = makePriorityScheduler({ maxNumSeqs: 3, maxNumBatchedTokens: 200 });
    const d = new Driver(s);
    addAll(s, [5, 5], [1, 2], 30);
    d.step();
    s.addRequest(makeRequest(2, { promptTokens: 30, priority: 0, arrival: 3 }));
    const out = d.schedule();
    expect(newReqIds(out)).toEqual([2]);
    expect(out.preempted).toEqual([]);
    expect([s.running.length, s.waiting.length]).toEqual([3, 0]);
  });

  it("test_priority_scheduling_preemption_victim_selection: max_num_seqs 1 admits the top, waiting stays sorted", () => {
    const s = makePriorityScheduler({ maxNumSeqs: 1 });
    addAll(s, [3, 2, 0], [1, 2, 3]);
    expect(newReqIds(s.schedule(0))).toEqual([2]);
    const w = s.waiting.toArray();
    expect(w.map((r) => r.priority)).toEqual([2, 3]);
    expect(ids(w)).toEqual([1, 0]);
  });

  it("test_priority_scheduling_equal_priority_preemption: arrival breaks ties in the waiting queue", () => {
    const s = makePriorityScheduler({ maxNumSeqs: 1 });
    addAll(s, [2, 2, 2], [3, 1, 2]);
    expect(newReqIds(s.schedule(0))).toEqual([1]);
    const w = s.waiting.toArray();
    expect(w.map((r) => r.arrival)).toEqual([2, 3]);
    expect(ids(w)).toEqual([2, 0]);
  });

  it("test_priority_scheduling_waiting_queue_order", () => {
    const s = makePriorityScheduler({ maxNumSeqs: 1 });
    addAll(s, [3, 1, 2, 0], [1, 2, 3, 4]);
    expect(newReqIds(s.schedule(0))).toEqual([3]);
    const w = s.waiting.toArray();
    expect(ids(w)).toEqual([1, 2, 0]);
    expect(w.map((r) => r.priority)).toEqual([1, 2, 3]);
  });

  it("test_priority_scheduling_with_limited_slots: max_num_seqs 2", () => {
    const s = makePriorityScheduler({ maxNumSeqs: 2, maxNumBatchedTokens: 1000 });
    addAll(s, [3, 1, 2, 0], [1, 2, 3, 4]);
    expect(newReqIds(s.schedule(0)).sort()).toEqual([1, 3]);
    const w = s.waiting.toArray();
    expect(w.map((r) => r.priority)).toEqual([2, 3]);
    expect(ids(w)).toEqual([2, 0]);
  });

  it("test_priority_scheduling_heap_property: one at a time, in priority order", () => {
    // Upstream aborts each request after its first step; here each generates 1 token and finishes.
    const s = makePriorityScheduler({ maxNumSeqs: 1 });
    const d = new Driver(s);
    const priorities = [5, 1, 8, 3, 2, 7, 4, 6];
    priorities.forEach((priority, i) =>
      s.addRequest(makeRequest(i, { promptTokens: 10, priority, arrival: i, outputTokens: 1 })),
    );
    const order: number[] = [];
    while (s.waiting.length > 0) {
      const { out } = d.step();
      for (const id of newReqIds(out)) order.push(priorities[id]);
    }
    expect(order).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  // Ties: vLLM picks the victim with `max(self.running, key=lambda r: (r.priority, r.arrival_time))`. Its arrival
  // times are distinct wall-clock stamps in arrival order, so a tie never happens there; a trace's tied arrivals
  // stand for requests that came in trace order, so the simulator breaks the tie by request id (the later request is
  // the victim), as the waiting queue does. Taking Python's first maximal element in running order instead is not a
  // fixed order and let two tied requests preempt each other forever (test/serving/no-hang.test.ts).
  // Block size 16, 5 blocks (4 usable): r0 and r1 (priority 0, arrival 0, 32 tokens) hold [1,2] and [3,4]; at step 2
  // r0's 33rd token needs a block → the victim is r1, freed in reverse ([4,3] join the free queue) → r0 takes block 4.
  it("victim among equal (priority, arrival): the later request (higher id)", () => {
    const s = makePriorityScheduler({ maxNumSeqs: 2, maxNumBatchedTokens: 200, numBlocks: 5 });
    const d = new Driver(s);
    const [r0] = addAll(s, [0, 0], [0, 0], 32);
    expect(newReqIds(d.step().out)).toEqual([0, 1]);
    const out = d.schedule();
    expect(ids(out.preempted)).toEqual([1]);
    expect(scheduledTokens(out)).toEqual({ 0: 1 });
    expect(ids(s.running)).toEqual([0]);
    expect(r0.blockIds).toEqual([1, 2, 4]);
  });

  it("test_priority_scheduling_preemption_and_resumption_when_out_of_kv", () => {
    // Block size 16, 5 blocks (4 usable), max_num_seqs 2, budget 200.
    // step 1: low (priority 1, 30 tokens) → [1,2]; samples (31). step 2: low decodes in its 2 blocks; high
    //   (priority 0, 32 tokens, 2 outputs) → [3,4]: 0 free. step 3: low (32 tokens) fits, high's 33rd token needs a
    //   block → low (priority 1) is preempted and unscheduled; high decodes and finishes (2 tokens).
    // step 4: low resumes and recomputes all 30 prompt + 2 generated tokens.
    const s = makePriorityScheduler({ maxNumSeqs: 2, maxNumBatchedTokens: 200, numBlocks: 5 });
    const d = new Driver(s);
    const low = makeRequest(0, { promptTokens: 30, priority: 1, arrival: 0 });
    s.addRequest(low);
    const { out: o1 } = d.step();
    expect(newReqIds(o1)).toEqual([0]);
    expect([s.running.length, s.waiting.length]).toEqual([1, 0]);

    const high = makeRequest(1, { promptTokens: 32, priority: 0, arrival: 1, outputTokens: 2 });
    s.addRequest(high);
    const { out: o2 } = d.step();
    expect(s.kvCacheManager.blockPool.getNumFreeBlocks()).toBe(0);
    expect(newReqIds(o2)).toEqual([1]);
    expect(cachedReqIds(o2)).toEqual([0]);
    expect([s.running.length, s.waiting.length]).toEqual([2, 0]);

    const { out: o3, res: r3 } = d.step();
    expect(newReqIds(o3)).toEqual([]);
    expect(cachedReqIds(o3)).toEqual([1]);
    expect(ids(o3.preempted)).toEqual([0]);
    expect(low.status).toBe("preempted");
    expect(low.numOutputTokens).toBe(2); // nothing sampled for the unscheduled step
    expect(ids(r3.finished)).toEqual([1]);

    const { out: o4 } = d.step();
    expect(cachedReqIds(o4)).toEqual([0]);
    expect(o4.admitted.map((a) => a.resumed)).toEqual([true]);
    expect(scheduledTokens(o4)).toEqual({ 0: 32 });
    expect([s.running.length, s.waiting.length]).toEqual([1, 0]);
  });
});
