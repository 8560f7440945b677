import { describe, expect, it } from "vitest";
import { cachedPrefixBlocks, parseTraceText, sharedPrefixTokens } from "../../sim/traces/index.ts";
import { load } from "./helpers.ts";
import { readFileSync } from "node:fs";
import { sample } from "./helpers.ts";

describe("Mooncake prefix sharing maps onto any simulator block size", () => {
  it("rows 64 and 166 of the conversation sample share their first 38 of 39 hash ids", async () => {
    // python: rows=[json.loads(l) for l in open('mooncake-conversation-first2000.jsonl')]; common leading ids of
    // rows[64]['hash_ids'] and rows[166]['hash_ids'] = 38; input_length 19694 and 19878.
    const { requests } = await load("mooncake-conversation-first2000.jsonl");
    const a = requests[64], b = requests[166];
    expect(a.source).toBe("traces/mooncake-conversation-first2000.jsonl:65");
    expect(a.hashIds!.slice(0, 38)).toEqual(b.hashIds!.slice(0, 38));
    expect(a.hashIds![38]).not.toBe(b.hashIds![38]);
    // 38 ids × 512 tokens = 19456 shared tokens, whatever the simulator's block size:
    expect(sharedPrefixTokens(a, b)).toBe(19456);
    expect(cachedPrefixBlocks(a, b, 16)).toBe(1216); // 19456 / 16
    expect(cachedPrefixBlocks(a, b, 32)).toBe(608); // 19456 / 32
    expect(cachedPrefixBlocks(a, b, 48)).toBe(405); // ⌊19456 / 48⌋ = ⌊405.33⌋: the partial block is not cached
  });

  it("rows 0 and 1 share only the system-prompt id 0: 512 tokens = 32 blocks of 16", async () => {
    const { requests } = await load("mooncake-conversation-first2000.jsonl");
    expect(requests[0].hashIds![0]).toBe(0);
    expect(requests[1].hashIds![0]).toBe(0);
    expect(cachedPrefixBlocks(requests[0], requests[1], 16)).toBe(32);
  });

  it("a request fully covered by another's ids hits all but the block holding its last token", () => {
    // a: 1000 tokens, ids [7, 8] (second chunk partial: 488 tokens). b repeats a and continues.
    const a = { arrival: 0, promptTokens: 1000, outputTokens: 1, hashIds: [7, 8], hashBlockTokens: 512 };
    const b = { arrival: 1, promptTokens: 1000, outputTokens: 1, hashIds: [7, 8], hashBlockTokens: 512 };
    expect(sharedPrefixTokens(a, b)).toBe(1000);
    // min(1000, 1000 − 1) = 999 tokens → ⌊999/16⌋ = 62 full blocks (vLLM recomputes the last token).
    expect(cachedPrefixBlocks(a, b, 16)).toBe(62);
  });

  it("different chunk sizes never share", () => {
    const a = { arrival: 0, promptTokens: 64, outputTokens: 1, hashIds: [1], hashBlockTokens: 512 };
    const b = { arrival: 0, promptTokens: 64, outputTokens: 1, hashIds: [1], hashBlockTokens: 16 };
    expect(sharedPrefixTokens(a, b)).toBe(0);
  });
});

describe("ShareGPT multi-turn conversations become requests sharing the earlier turns' prefix", () => {
  it("the hand-written sample gives 5 requests with the hand-computed lengths and ids", () => {
    // Token estimate ⌈chars/4⌉ (python: len(value)): hw-1 turns 53,113,46,100,7,16 chars → 14,29,12,25,2,4 tokens;
    // hw-2 system 51, human 46, gpt 32 → 13,12,8; hw-3 gives counts 12, 20.
    const text = readFileSync(sample("sharegpt-handwritten.json"), "utf8");
    const { requests, report } = parseTraceText(text, { fileName: "sg.json" });
    expect(report.format).toBe("sharegpt");
    expect(requests.map((r) => [r.promptTokens, r.outputTokens])).toEqual([
      [14, 29], // turn 1
      [14 + 29 + 12, 25], // 55: conversation so far + new question
      [55 + 25 + 2, 4], // 82
      [13 + 12, 8], // system + question
      [12, 20], // given counts
    ]);
    // 16-token chunks of each conversation's token stream, over prompt and answer (the next turn repeats the answer):
    // hw-1 ⌈43/16⌉ = 3, ⌈80/16⌉ = 5, ⌈86/16⌉ = 6 chunks (ids 0–5); hw-2 ⌈33/16⌉ = 3 (ids 6–8); hw-3 ⌈32/16⌉ = 2.
    expect(requests.map((r) => r.hashIds)).toEqual([[0, 1, 2], [0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5], [6, 7, 8], [9, 10]]);
    expect(requests.every((r) => r.hashIdsCoverOutput === true)).toBe(true);
    expect(sharedPrefixTokens(requests[1], requests[2])).toBe(55);
    expect(requests.map((r) => r.sessionId)).toEqual(["hw-1", "hw-1", "hw-1", "hw-2", "hw-3"]);
    expect(report.skipped).toBe(0);
  });

  it("a conversation without an answer is a skipped row at the line its object starts", () => {
    const text = '[\n  {"id": "a", "conversations": [{"from": "human", "value": "hello there"}, {"from": "gpt", "value": "hi"}]},\n' +
      '  {"id": "b",\n   "conversations": [{"from": "human", "value": "no answer"}]},\n' +
      '  {"id": "c", "conversations": [{"from": "robot", "value": "?"}]}\n]\n';
    const { requests, report } = parseTraceText(text, { fileName: "q.json" });
    expect(requests.map((r) => [r.promptTokens, r.outputTokens])).toEqual([[3, 1]]); // ⌈11/4⌉, ⌈2/4⌉
    expect(report.issues).toEqual([
      { location: "q.json:3", field: "conversations", message: "conversations: no user turn followed by an assistant turn: nothing to replay" },
      { location: "q.json:5", field: "conversations[0].from", message: 'conversations[0].from: expected "from" to be human, gpt or system, found "robot"' },
    ]);
  });

  it("arrivals come from vLLM's process: with --request-rate 5 the last of 5 requests arrives at 5/5 = 1 s", () => {
    const text = readFileSync(sample("sharegpt-handwritten.json"), "utf8");
    const { requests } = parseTraceText(text, { requestRate: 5, seed: 3 });
    expect(requests.at(-1)!.arrival).toBeCloseTo(1, 12);
    for (let i = 1; i < requests.length; i++) expect(requests[i].arrival).toBeGreaterThanOrEqual(requests[i - 1].arrival);
  });
});
