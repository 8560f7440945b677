import { describe, expect, it } from "vitest";
import { load, sum } from "./helpers.ts";

// Every number below was computed independently of vramscope from the files in traces/ (commands in comments).

describe("embedded samples parse to their exact counts, arrivals and token sums", () => {
  it("Azure 2023 code (CRLF, 7-digit fractions, no final newline)", async () => {
    // tail -n +2 azure-2023-code.csv | tr -d '\r' | awk -F, '{split($1,a," "); split(a[2],t,":");
    //   s=t[1]*3600+t[2]*60+t[3]; if(NR==1)s0=s; n++; p+=$2; o+=$3; last=s-s0} END{printf "%d %d %d %.7f", n,p,o,last}'
    // → 8819 18059974 245896 3435.9480560 (python Decimal: 19:14:19.9280160 − 18:17:03.9799600 = 3435.9480560)
    const { requests, report } = await load("azure-2023-code.csv");
    expect(report.format).toBe("azure");
    expect(requests.length).toBe(8819);
    expect(requests[0].arrival).toBe(0);
    expect(requests.at(-1)!.arrival).toBe(3435.948056);
    expect(sum(requests, "promptTokens")).toBe(18059974);
    expect(sum(requests, "outputTokens")).toBe(245896);
    expect(report).toMatchObject({ rows: 8819, accepted: 8819, skipped: 0, sorted: true });
  });

  it("Azure 2023 conversation (the default replay trace)", async () => {
    // same awk → 19366 22361870 4088665 3501.7219370
    const { requests, report } = await load("azure-2023-conv.csv");
    expect(requests.length).toBe(19366);
    expect(requests.at(-1)!.arrival).toBe(3501.721937);
    expect(sum(requests, "promptTokens")).toBe(22361870);
    expect(sum(requests, "outputTokens")).toBe(4088665);
    expect(requests[1].arrival).toBe(4.314579); // 18:15:50.9951690 − 18:15:46.6805900
    expect(requests[0].source).toBe("traces/azure-2023-conv.csv:2");
    expect(report.skipped).toBe(0);
  });

  it("BurstGPT v1: 17 failed rows (Response tokens = 0) dropped and counted", async () => {
    // awk -F, 'NR>1 && $4>0 {n++; p+=$3; o+=$4; last=$1} NR>1 && $4==0 {d++} END{print n,p,o,last,d}'
    //   burstgpt-1-first400.csv → 383 208189 110612 37274 17 (first Timestamp 5)
    const { requests, report } = await load("burstgpt-1-first400.csv");
    expect(report.format).toBe("burstgpt");
    expect(requests.length).toBe(383);
    expect(requests[0].arrival).toBe(0);
    expect(requests.at(-1)!.arrival).toBe(37274 - 5);
    expect(sum(requests, "promptTokens")).toBe(208189);
    expect(sum(requests, "outputTokens")).toBe(110612);
    expect(report).toMatchObject({ rows: 400, accepted: 383, dropped: 17, skipped: 0 });
    expect(requests[0].model).toBe("ChatGPT");
  });

  it("BurstGPT v3: columns read by name, float timestamps, Session ID", async () => {
    // awk -F, 'NR>1 && $6>0 {n++; p+=$5; o+=$6; last=$1} $2!="" && NR>1 {s[$2]=1} END{print n,p,o,last,length(s)}'
    //   burstgpt-3-first100.csv → 100 83720 19346 19466694.0 31   (first 19440110.0)
    const { requests } = await load("burstgpt-3-first100.csv");
    expect(requests.length).toBe(100);
    expect(requests.at(-1)!.arrival).toBe(19466694 - 19440110);
    expect(sum(requests, "promptTokens")).toBe(83720);
    expect(sum(requests, "outputTokens")).toBe(19346);
    expect(new Set(requests.map((r) => r.sessionId).filter(Boolean)).size).toBe(31);
    expect(requests.filter((r) => r.sessionId === undefined).length).toBe(6); // API rows: empty Session ID
  });

  it("Mooncake conversation: ms timestamps, 512-token hash ids", async () => {
    // python: rows=[json.loads(l) for l in open(f)]; len, rows[-1]['timestamp'], sums
    //   → 2000, 669000 ms, 27441774, 704602
    const { requests } = await load("mooncake-conversation-first2000.jsonl");
    expect(requests.length).toBe(2000);
    expect(requests.at(-1)!.arrival).toBe(669);
    expect(sum(requests, "promptTokens")).toBe(27441774);
    expect(sum(requests, "outputTokens")).toBe(704602);
    expect(requests[0].hashIds).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(requests[0].hashBlockTokens).toBe(512);
  });

  it("Mooncake synthetic, gzip-compressed, streamed", async () => {
    // python gzip.open: 3993 rows, last timestamp 1022025 ms, sums 61194628 / 595432
    const { requests } = await load("mooncake-synthetic.jsonl.gz");
    expect(requests.length).toBe(3993);
    expect(requests.at(-1)!.arrival).toBe(1022.025);
    expect(sum(requests, "promptTokens")).toBe(61194628);
    expect(sum(requests, "outputTokens")).toBe(595432);
  });

  it("Vidur processed trace (arrived_at seconds)", async () => {
    // awk -F, 'NR>1{n++; p+=$2; o+=$3; last=$1} END{print n,p,o,last}' → 2000 2209565 529807 424.259457
    const { requests } = await load("vidur-splitwise-conv-first2000.csv");
    expect(requests.length).toBe(2000);
    expect(requests.at(-1)!.arrival).toBe(424.259457);
    expect(sum(requests, "promptTokens")).toBe(2209565);
    expect(sum(requests, "outputTokens")).toBe(529807);
  });

  it("Vidur length-only file gets synthetic arrivals (all at 0 by default, like vLLM's inf rate)", async () => {
    // awk -F, 'NR>1{n++; p+=$1; o+=$2} END{print n,p,o}' → 2000 5079765 625186
    const { requests } = await load("vidur-arxiv-summarization-lengths-first2000.csv");
    expect(requests.length).toBe(2000);
    expect(requests.every((r) => r.arrival === 0)).toBe(true);
    expect(sum(requests, "promptTokens")).toBe(5079765);
    expect(sum(requests, "outputTokens")).toBe(625186);
    const paced = await load("vidur-arxiv-summarization-lengths-first2000.csv", { requestRate: 4, seed: 1 });
    // vLLM rescales the cumulative gaps so the last request arrives at N/R = 2000/4 = 500 s.
    expect(paced.requests.at(-1)!.arrival).toBeCloseTo(500, 9);
  });

  it("Azure 2024-style sample: +00:00 offsets, 6-digit and missing fractions, midnight crossings", async () => {
    // By hand: first 2024-05-12 23:59:58.500000; rows 2..10 are +0.5, +1.499999, +1.5, +1.500001, +2.75, +3600.6,
    // +3601.5, last 2024-05-14 00:00:00.5 = +86402. Sums: 1200+850+4096+77+2048+310+15+512+9000+640 = 18748;
    // 1+35+2+120+64+1+900+256+8+17 = 1404.
    const { requests, report } = await load("azure-2024-style.csv");
    expect(report.format).toBe("azure");
    expect(requests.map((r) => r.arrival)).toEqual([0, 0.5, 1.499999, 1.5, 1.500001, 2.75, 2.75, 3600.6, 3601.5, 86402]);
    expect(sum(requests, "promptTokens")).toBe(18748);
    expect(sum(requests, "outputTokens")).toBe(1404);
  });

  it("Azure multimodal 2025-style sample carries NumImages", async () => {
    // By hand: 10:00:09.999999 − 10:00:00.041000 = 9.958999; images 1,0,4,2,1,0; sums 12405 / 777.
    const { requests, report } = await load("azure-multimodal-2025-style.csv");
    expect(report.format).toBe("azure-multimodal");
    expect(requests.map((r) => r.numImages)).toEqual([1, 0, 4, 2, 1, 0]);
    expect(requests.at(-1)!.arrival).toBe(9.958999);
    expect(sum(requests, "promptTokens")).toBe(12405);
    expect(sum(requests, "outputTokens")).toBe(777);
  });

  it("Bailian-style sample: sessions from parent links, 16-token hash ids", async () => {
    // By hand (traces/bailian-style.jsonl): 8 rows, timestamps 0.512 … 9.5, inputs sum 850, outputs sum 213;
    // chats 101←103←107, 202←206, 305←309, 408: 4 sessions.
    const { requests } = await load("bailian-style.jsonl");
    expect(requests.length).toBe(8);
    expect(requests.at(-1)!.arrival).toBe(9.5 - 0.512);
    expect(sum(requests, "promptTokens")).toBe(850);
    expect(sum(requests, "outputTokens")).toBe(213);
    expect(requests.map((r) => r.sessionId)).toEqual(["101", "202", "101", "305", "202", "101", "408", "305"]);
    expect(requests.every((r) => r.hashBlockTokens === 16 && r.hashIds!.length === Math.ceil(r.promptTokens / 16))).toBe(true);
  });

  it("native sample: every optional field round-trips", async () => {
    const { requests } = await load("native-sample.jsonl");
    expect(requests.length).toBe(8);
    expect(requests.at(-1)!.arrival).toBe(10);
    // 512+1024+1600+96+4000+700+33+8192 = 16157; 128+64+200+32+1+300+17+1024 = 1766
    expect(sum(requests, "promptTokens")).toBe(16157);
    expect(sum(requests, "outputTokens")).toBe(1766);
    expect(requests[4]).toMatchObject({ priority: 1, model: "llama" });
    expect(requests[6].numImages).toBe(2);
  });

  it("vLLM request list (output_len and expected_output_len shapes)", async () => {
    const { requests, report } = await load("vllm-bench-requests.json");
    expect(report.format).toBe("vllm-bench");
    expect(requests.map((r) => [r.promptTokens, r.outputTokens])).toEqual([[256, 128], [1024, 16], [77, 300], [4000, 1]]);
  });
});

describe("every embedded sample is clean", () => {
  it("parses with --strict (the server replays them strictly)", async () => {
    const { readdirSync } = await import("node:fs");
    const { EMBEDDED_TRACES_DIR } = await import("../../cli/io/trace-file.ts");
    const files = readdirSync(EMBEDDED_TRACES_DIR).filter((f) => /\.(csv|jsonl|json)(\.gz)?$/.test(f));
    expect(files.length).toBe(14); // ls traces: 14 trace files + ATTRIBUTION.md
    for (const f of files) {
      const { report } = await load(f, { strict: true });
      expect(report.skipped, f).toBe(0);
    }
  });
});
