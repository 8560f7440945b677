import { describe, expect, it } from "vitest";
import { rolloutBufferBytes } from "../../sim/rl/buffer.ts";

describe("rollout buffer", () => {
  it("PPO: 1,024 sequences of 1,024 + 1,024 tokens", () => {
    // By hand: ids/mask/positions 3 × 8 B × 2,048 × 1,024 = 50,331,648; responses 8 × 1,024 × 1,024 = 8,388,608;
    // fp32 per response token: old log-probs, ref log-probs, rewards, advantages, values, returns = 6 × 4 × 1,048,576
    // = 25,165,824. Total 83,886,080 B = 80 MiB.
    const b = rolloutBufferBytes({ numSequences: 1024, promptLen: 1024, responseLen: 1024, refLogProbs: true, values: true, online: true });
    expect(b.terms.input_ids).toBe(16_777_216);
    expect(b.terms.values).toBe(4_194_304);
    expect(b.total).toBe(83_886_080);
  });
  it("GRPO β = 0 keeps no ref log-probs, values or returns", () => {
    // 64 prompts × 8 = 512 sequences, 256 + 512 tokens: 3 × 8 × 768 × 512 = 9,437,184; responses 8 × 512 × 512 =
    // 2,097,152; 3 fp32 (old log-probs, rewards, advantages) × 4 × 512 × 512 = 3,145,728. Total 14,680,064.
    const b = rolloutBufferBytes({ numSequences: 512, promptLen: 256, responseLen: 512, refLogProbs: false, values: false, online: true });
    expect(Object.keys(b.terms).sort()).toEqual(["advantages", "attention_mask", "input_ids", "old_log_probs", "position_ids", "responses", "token_level_rewards"]);
    expect(b.total).toBe(14_680_064);
  });
});

describe("DPO batch", () => {
  it("keeps sequences and the reference's log-probs only", () => {
    // 8 pairs → 16 sequences of 256 + 256: 3 × 8 × 512 × 16 = 196,608; responses 8 × 256 × 16 = 32,768;
    // ref log-probs 4 × 256 × 16 = 16,384. Total 245,760.
    const b = rolloutBufferBytes({ numSequences: 16, promptLen: 256, responseLen: 256, refLogProbs: true, values: false, online: false });
    expect(Object.keys(b.terms).sort()).toEqual(["attention_mask", "input_ids", "position_ids", "ref_log_prob", "responses"]);
    expect(b.total).toBe(245_760);
  });
});
