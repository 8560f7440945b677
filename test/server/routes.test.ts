import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { testApp, nativeTrace } from "./helpers.ts";
import { NO_BUILD_PAGE } from "../../server/routes/static.ts";

let app: FastifyInstance;

beforeAll(async () => {
  ({ app } = await testApp({ uploadLimitBytes: 4096, clientDir: join(tmpdir(), "vramscope-no-such-build") }));
});
afterAll(async () => {
  await app.close();
});

const json = (body: unknown) => ({ payload: JSON.stringify(body), headers: { "content-type": "application/json" } });

describe("REST routes (inject)", () => {
  it("GET /healthz", async () => {
    const r = await app.inject("/healthz");
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ status: "ok", runs: 0, active: 0 });
  });

  it("GET /api/models lists presets with their shapes", async () => {
    const r = await app.inject("/api/models");
    expect(r.statusCode).toBe(200);
    const llama = r.json().find((m: { name: string }) => m.name === "meta-llama/Llama-3.1-8B-Instruct");
    // HF config.json of Llama-3.1-8B-Instruct: 32 layers, 32 heads, 8 KV heads, hidden 4096 → head_dim 128.
    expect(llama).toMatchObject({ isDefault: true, numLayers: 32, numAttentionHeads: 32, numKvHeads: 8, headDim: 128, hiddenSize: 4096 });
  });

  it("GET /api/gpus lists presets in bytes", async () => {
    const r = await app.inject("/api/gpus");
    const h100 = r.json().find((g: { name: string }) => g.name === "H100-SXM-80GB");
    // 79.19 GiB × 2^30 = 85,029,615,043 B (rounded); 3,350 GB/s; 989 TFLOPS bf16.
    expect(h100).toMatchObject({ isDefault: true, memoryBytes: 85_029_615_043, hbmBandwidth: 3.35e12, bf16Flops: 989e12 });
  });

  it("GET /api/traces lists the embedded traces", async () => {
    const r = await app.inject("/api/traces");
    const ids = r.json().map((t: { id: string }) => t.id);
    expect(ids).toContain("azure-2023-conv");
    expect(r.json().find((t: { id: string }) => t.id === "azure-2023-conv")).toMatchObject({ source: "embedded", fileName: "azure-2023-conv.csv" });
  });

  it("POST /api/traces stores a valid upload under a generated id", async () => {
    const r = await app.inject({ method: "POST", url: "/api/traces?name=mine.jsonl", payload: nativeTrace(3, 0.5, 100, 10), headers: { "content-type": "application/x-ndjson" } });
    expect(r.statusCode).toBe(201);
    const info = r.json();
    expect(info).toMatchObject({ source: "upload", fileName: "mine.jsonl", requests: 3, lastArrival: 1 });
    expect(info.id).toMatch(/^up-[0-9a-f]{12}$/);
    const list = await app.inject("/api/traces");
    expect(list.json().map((t: { id: string }) => t.id)).toContain(info.id);
  });

  it("POST /api/traces: a bad line is a 400 carrying file:line", async () => {
    const text = '{"arrival":0,"promptTokens":10,"outputTokens":5}\n{"arrival":1,"promptTokens":"ten","outputTokens":5}\n';
    const r = await app.inject({ method: "POST", url: "/api/traces?name=bad.jsonl", payload: text, headers: { "content-type": "text/plain" } });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toContain("bad.jsonl:2");
    expect(r.json().location).toBe("bad.jsonl:2");
  });

  it("POST /api/traces: empty, oversized, bad format, path-like names", async () => {
    const empty = await app.inject({ method: "POST", url: "/api/traces", payload: "  \n", headers: { "content-type": "text/plain" } });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().field).toBe("body");
    const big = await app.inject({ method: "POST", url: "/api/traces", payload: "x".repeat(5000), headers: { "content-type": "text/csv" } });
    expect(big.statusCode).toBe(413);
    const fmt = await app.inject({ method: "POST", url: "/api/traces?format=excel", payload: "a", headers: { "content-type": "text/csv" } });
    expect(fmt.statusCode).toBe(400);
    expect(fmt.json().field).toBe("format");
    // A path in ?name= is only a display name: it is reduced to its basename and never touches the disk.
    const r = await app.inject({ method: "POST", url: "/api/traces?name=../../etc/passwd.jsonl", payload: nativeTrace(1, 0, 5, 5), headers: { "content-type": "text/plain" } });
    expect(r.statusCode).toBe(201);
    expect(r.json().fileName).toBe("passwd.jsonl");
  });

  it('POST /api/runs {"kind":"replay"} alone → 201 with the defaults', async () => {
    const r = await app.inject({ method: "POST", url: "/api/runs", ...json({ kind: "replay", start: "paused" }) });
    expect(r.statusCode).toBe(201);
    const { id } = r.json();
    expect(id).toMatch(/^run-/);
    expect(r.headers.location).toBe(`/api/runs/${id}`);
    const got = await app.inject(`/api/runs/${id}`);
    expect(got.statusCode).toBe(200);
    const info = got.json();
    expect(info.facts).toMatchObject({ modelName: "meta-llama/Llama-3.1-8B-Instruct", gpuName: "H100-SXM-80GB", tensorParallelSize: 1 });
    // The embedded azure-2023-conv.csv: header + 19,366 rows (no final newline). Last arrival: 19:14:08.4025270 −
    // 18:15:46.6805900 (first row) = 58 min 21.721937 s = 3,501.721937 s.
    expect(info.facts.trace).toMatchObject({ name: "azure-2023-conv", requests: 19_366 });
    expect(info.facts.trace.lastArrival).toBeCloseTo(3501.721937, 6);
    // Llama-3.1-8B KV per token: 2 (K,V) × 32 layers × 8 KV heads × 128 × 2 B (bf16) = 131,072 B.
    expect(info.budget.kvBytesPerToken).toBe(131_072);
    expect(info.config.blockSize).toBe(16);
    const list = await app.inject("/api/runs");
    expect(list.json().map((x: { id: string }) => x.id)).toContain(id);
    const del = await app.inject({ method: "DELETE", url: `/api/runs/${id}` });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ id, state: "cancelled" });
    expect((await app.inject(`/api/runs/${id}`)).statusCode).toBe(404);
  });

  it("POST /api/runs rejects bad bodies naming the field", async () => {
    const cases: [unknown, number, string][] = [
      [{ kind: "replai" }, 400, "kind"],
      [{}, 400, "kind"],
      [{ kind: "replay", colour: "red" }, 400, "colour"],
      [{ kind: "replay", speed: 0.1 }, 400, "speed"],
      [{ kind: "replay", start: "later" }, 400, "start"],
      [{ kind: "replay", config: { gpuMemoryUtilization: "high" } }, 400, "config.gpuMemoryUtilization"],
      [{ kind: "replay", config: { gpuMemoryUtilization: 1.5 } }, 400, "config.gpuMemoryUtilization"],
      [{ kind: "replay", config: { blockSise: 16 } }, 400, "config.blockSise"],
      [{ kind: "replay", config: { model: "llama-9000" } }, 400, "config.model"],
      [{ kind: "replay", config: { trace: "no-such-trace" } }, 400, "config.trace"],
      [{ kind: "replay", config: { tensorParallelSize: 3 } }, 400, "config.tensorParallelSize"],
    ];
    for (const [body, status, field] of cases) {
      const r = await app.inject({ method: "POST", url: "/api/runs", ...json(body) });
      expect(r.statusCode, JSON.stringify(body)).toBe(status);
      expect(r.json().field, JSON.stringify(r.json())).toBe(field);
      expect(r.json().error).toContain(field.split(".").pop()!.replace(/^config$/, ""));
    }
    const kind = await app.inject({ method: "POST", url: "/api/runs", ...json({ kind: "replai" }) });
    expect(kind.json().error).toContain("did you mean replay");
    const model = await app.inject({ method: "POST", url: "/api/runs", ...json({ kind: "replay", config: { model: "Llama-3.1-8B-Instruc" } }) });
    expect(model.json().error).toContain("meta-llama/Llama-3.1-8B-Instruct");
    const malformed = await app.inject({ method: "POST", url: "/api/runs", payload: "{kind:", headers: { "content-type": "application/json" } });
    expect(malformed.statusCode).toBe(400);
    const huge = await app.inject({ method: "POST", url: "/api/runs", ...json({ kind: "replay", config: { model: "x".repeat(70_000) } }) });
    expect(huge.statusCode).toBe(413);
  });

  it("GET/DELETE /api/runs/:id and export of unknown runs → 404", async () => {
    expect((await app.inject("/api/runs/run-nope")).statusCode).toBe(404);
    expect((await app.inject({ method: "DELETE", url: "/api/runs/run-nope" })).statusCode).toBe(404);
    expect((await app.inject("/api/runs/run-nope/export?format=json")).statusCode).toBe(404);
    const bad = await app.inject("/api/runs/run-nope/export?format=xml");
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe("format");
  });

  it("GET /api/capacity answers the budget; bad values name the field", async () => {
    const r = await app.inject("/api/capacity?gpu=H100-SXM-80GB&maxModelLen=8192&gpuMemoryUtilization=0.9");
    expect(r.statusCode).toBe(200);
    const b = r.json();
    expect(b.kvBytesPerToken).toBe(131_072); // 2 × 32 × 8 × 128 × 2 B, as above
    expect(b.maxModelLen).toBe(8192);
    expect(b.blockSize).toBe(16);
    // vLLM: KV tokens = num_gpu_blocks × block_size; max concurrency = tokens / max_model_len.
    expect(b.kvCacheTokens).toBe(b.numGpuBlocks * 16);
    // vLLM requests util × total: 0.9 × 85,029,615,043 B = 76,526,653,538.7 B.
    expect(Math.abs(b.requestedBytes - 76_526_653_538.7)).toBeLessThanOrEqual(1);
    const kvTokensFromBytes = Math.floor(b.kvCacheBytes / 131_072);
    expect(Math.abs(kvTokensFromBytes - b.kvCacheTokens)).toBeLessThan(16 * 2);
    for (const [q, field] of [
      ["gpuMemoryUtilization=abc", "gpuMemoryUtilization"],
      ["gpuMemoryUtilization=2", "gpuMemoryUtilization"],
      ["blockSize=0", "blockSize"],
      ["bogus=1", "bogus"],
      ["model=llama-9000", "model"],
      ["enablePrefixCaching=perhaps", "enablePrefixCaching"],
    ]) {
      const bad = await app.inject(`/api/capacity?${q}`);
      expect(bad.statusCode, q).toBe(400);
      expect(bad.json().field, q).toBe(field);
    }
  });

  it("GET /metrics is Prometheus text with vLLM names per run", async () => {
    const c = await app.inject({ method: "POST", url: "/api/runs", ...json({ kind: "replay", start: "paused", config: { maxRequests: 5 } }) });
    const id = c.json().id;
    const r = await app.inject("/metrics");
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toContain("text/plain");
    const line = `vllm:num_requests_running{model_name="meta-llama/Llama-3.1-8B-Instruct",engine="0",run_id="${id}"} 0`;
    expect(r.body).toContain(line);
    expect(r.body).toContain("# TYPE vllm:time_to_first_token_seconds histogram");
    expect(r.body).toContain("# TYPE vllm:num_preemptions_total counter");
    await app.inject({ method: "DELETE", url: `/api/runs/${id}` });
    expect((await app.inject("/metrics")).body).not.toContain(id);
  });

  it("GET / without a client build says how to make one; unknown API paths 404", async () => {
    const r = await app.inject("/");
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe(NO_BUILD_PAGE);
    expect((await app.inject("/api/nothing")).statusCode).toBe(404);
  });
});

describe("static client", () => {
  it("serves only files inside the build folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vramscope-client-"));
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>built</title>");
    writeFileSync(join(dir, "app.js"), "console.log(1)");
    const { app: a } = await testApp({ clientDir: dir });
    try {
      expect((await a.inject("/")).body).toContain("built");
      expect((await a.inject("/app.js")).body).toBe("console.log(1)");
      for (const p of ["/../package.json", "/%2e%2e/package.json", "/..%2fpackage.json", "/.git/config"]) {
        const r = await a.inject(p);
        expect(r.statusCode, p).not.toBe(200);
        expect(r.body).not.toContain('"name": "vramscope"');
      }
    } finally {
      await a.close();
    }
  });
});
