/**
 * ServerMetrics.record of a big delta (a rewind re-records every request so far) observes in slices so the server's
 * other streams do not stall; a scrape must still never see a half-recorded delta, and a reset must drop the rest.
 */
import { describe, expect, it } from "vitest";
import { ServerMetrics } from "../../server/metrics/registry.ts";
import { emptyMetrics } from "../../server/runs/worker-messages.ts";

const line = (text: string, name: string) => Number(text.split("\n").find((l) => l.startsWith(name))?.split(" ").pop());

describe("ServerMetrics, big deltas", () => {
  it("a scrape waits until every value of a sliced delta is observed", async () => {
    const m = new ServerMetrics({ processMetrics: false });
    m.addRun("r", "model");
    // 50,000 TTFTs of 0.25 s and 30,000 steps of 64 tokens: 4 slices of 20,000.
    m.record("r", { ...emptyMetrics(), requestSuccess: 50_000, ttft: new Array(50_000).fill(0.25), iterationTokens: new Array(30_000).fill(64) }, null);
    const text = await m.text();
    expect(line(text, "vllm:time_to_first_token_seconds_count")).toBe(50_000);
    expect(line(text, "vllm:time_to_first_token_seconds_sum")).toBe(12_500); // 50,000 × 0.25
    expect(line(text, "vllm:iteration_tokens_total_count")).toBe(30_000);
    expect(line(text, "vllm:request_success_total")).toBe(50_000);
  });

  it("a reset drops the slices still queued; what is recorded after it counts", async () => {
    const m = new ServerMetrics({ processMetrics: false });
    m.addRun("r", "model");
    m.record("r", { ...emptyMetrics(), ttft: new Array(100_000).fill(1) }, null);
    m.resetRun("r"); // before any slice ran (they start once the current task is done)
    m.record("r", { ...emptyMetrics(), ttft: [0.5, 0.5] }, null);
    const text = await m.text();
    expect(line(text, "vllm:time_to_first_token_seconds_count")).toBe(2);
    expect(line(text, "vllm:time_to_first_token_seconds_sum")).toBe(1);
  });
});
