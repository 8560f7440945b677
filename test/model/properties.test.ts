import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countParams } from "../../sim/model/params.ts";
import { modelFromConfig } from "../../sim/model/registry.ts";
import { kvLayout } from "../../sim/model/kv.ts";
import { weightBytes, QUANTIZATIONS } from "../../sim/model/weights.ts";

/** Random but legal Llama-style configs (optionally MoE / MLA / tied / biased). */
const configArb = fc
  .record({
    heads: fc.constantFrom(4, 8, 16, 32),
    kvDiv: fc.constantFrom(1, 2, 4),
    headDim: fc.constantFrom(32, 64, 128),
    layers: fc.integer({ min: 1, max: 48 }),
    inter: fc.integer({ min: 1, max: 64 }).map((x) => x * 128),
    vocab: fc.integer({ min: 100, max: 200_000 }),
    tie: fc.boolean(),
    bias: fc.boolean(),
    moe: fc.option(fc.record({ experts: fc.integer({ min: 2, max: 64 }), topk: fc.integer({ min: 1, max: 2 }), dense: fc.integer({ min: 0, max: 3 }) })),
    mla: fc.boolean(),
  })
  .map((r) => {
    const c: Record<string, unknown> = {
      hidden_size: r.heads * r.headDim,
      num_hidden_layers: r.layers,
      num_attention_heads: r.heads,
      num_key_value_heads: r.heads / r.kvDiv,
      intermediate_size: r.inter,
      vocab_size: r.vocab,
      max_position_embeddings: 4096,
      tie_word_embeddings: r.tie,
      attention_bias: r.bias,
    };
    if (r.moe) Object.assign(c, { num_local_experts: r.moe.experts, num_experts_per_tok: r.moe.topk, first_k_dense_replace: r.moe.dense });
    if (r.mla) Object.assign(c, { kv_lora_rank: 64, q_lora_rank: null, qk_nope_head_dim: 32, qk_rope_head_dim: 16, v_head_dim: 32 });
    return c;
  });

describe("properties", () => {
  it("parameter count is strictly monotone in layers and in hidden size", () => {
    fc.assert(
      fc.property(configArb, (c) => {
        const p = countParams(modelFromConfig("m", c)).total;
        const more = countParams(modelFromConfig("m", { ...c, num_hidden_layers: (c.num_hidden_layers as number) + 1 })).total;
        expect(more).toBeGreaterThan(p);
        // A wider residual stream at the same heads/head_dim (explicit head_dim keeps attention shapes legal).
        const headDim = (c.hidden_size as number) / (c.num_attention_heads as number);
        const wider = countParams(modelFromConfig("m", { ...c, head_dim: headDim, hidden_size: (c.hidden_size as number) + 64 })).total;
        expect(wider).toBeGreaterThan(p);
      }),
    );
  });
  it("active ≤ total, and the parts sum to the total", () => {
    fc.assert(
      fc.property(configArb, (c) => {
        const p = countParams(modelFromConfig("m", c));
        expect(p.active).toBeLessThanOrEqual(p.total);
        expect(p.embedding + p.lmHead + p.attention + p.mlp + p.norms).toBe(p.total);
      }),
    );
  });
  it("per-rank weights × TP ≥ total (replicated parts), and per rank never grows with TP", () => {
    fc.assert(
      fc.property(configArb, fc.constantFrom(...QUANTIZATIONS), fc.constantFrom(1, 2, 4, 8), (c, quantization, tp) => {
        const spec = modelFromConfig("m", c);
        fc.pre(spec.numAttentionHeads % tp === 0);
        const w = weightBytes(spec, { dtype: "bfloat16", quantization, tensorParallelSize: tp });
        expect(w.perRankBytes * tp).toBeGreaterThanOrEqual(w.totalBytes);
        const w1 = weightBytes(spec, { dtype: "bfloat16", quantization, tensorParallelSize: 1 });
        expect(w.perRankBytes).toBeLessThanOrEqual(w1.perRankBytes);
        if (quantization === "none") expect(w.totalBytes).toBe(2 * countParams(spec).total);
      }),
    );
  });
  it("KV per rank × TP ≥ KV at TP 1 (replication never loses heads); fp8 is exactly half of bf16", () => {
    fc.assert(
      fc.property(configArb, fc.constantFrom(1, 2, 4, 8, 16), (c, tp) => {
        const spec = modelFromConfig("m", c);
        fc.pre(spec.numAttentionHeads % tp === 0 && (spec.numKvHeads % tp === 0 || tp % spec.numKvHeads === 0));
        const at = (t: number, d: "auto" | "fp8") => kvLayout(spec, { kvCacheDtype: d, modelDtype: "bfloat16", tensorParallelSize: t }).bytesPerToken;
        expect(at(tp, "auto") * tp).toBeGreaterThanOrEqual(at(1, "auto"));
        expect(at(tp, "fp8") * 2).toBe(at(tp, "auto"));
      }),
    );
  });
});
