import { describe, expect, it } from "vitest";
import type { StreamConnection } from "../../server/stream/connection.ts";
import { CLOSE_CODES } from "../../server/protocol.ts";
import WebSocket from "ws";
import { connect, createRun, nativeTrace, sleep, testServer, uploadTrace } from "./helpers.ts";

// Correctness under load with generous bounds; throughput figures belong in `npm run bench`.
describe("load and backpressure", () => {
  it("100 concurrent WebSocket clients all receive frames; server RSS stays bounded", async () => {
    const s = await testServer({});
    try {
      const trace = await uploadTrace(s.url, nativeTrace(3000, 0.05, 256, 32));
      const id = await createRun(s.url, { kind: "replay", speed: 10, config: { trace } });
      const rss0 = process.memoryUsage().rss;
      // Dashboard-like viewers (memory series + request events). The clients share this process (and its 2 cores)
      // with the server, so they count frames by prefix and keep only the last message instead of parsing all.
      const frames = new Array<number>(100).fill(0);
      const last = new Array<string>(100).fill("");
      const sockets = frames.map((_, i) => {
        const ws = new WebSocket(`${s.url.replace(/^http/, "ws")}/api/runs/${id}/stream?detail=memory,requests`);
        ws.on("message", (d) => {
          const text = String(d);
          if (text.startsWith('{"type":"frame"')) {
            frames[i]++;
            last[i] = text;
          }
        });
        return ws;
      });
      for (let i = 0; i < 200 && s.manager.get(id)!.state !== "running"; i++) await sleep(50);
      await sleep(500);
      const start = frames.slice();
      await sleep(3000);
      const counts = frames.map((n, i) => n - start[i]);
      // 3 s at ≤ 30 frames/s: every client got a steady stream, none more than the cap allows (≤ 90 + slack).
      expect(Math.min(...counts)).toBeGreaterThanOrEqual(10);
      expect(Math.max(...counts)).toBeLessThanOrEqual(100);
      for (const text of last) {
        const f = JSON.parse(text);
        expect(f.type).toBe("frame");
        expect(f.snapshots.length).toBeGreaterThan(0);
      }
      // Server + 100 clients in this process: 300 MiB of growth would mean unbounded buffering somewhere.
      expect(process.memoryUsage().rss - rss0).toBeLessThan(300 * 1024 * 1024);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toContain("vramscope_stream_clients 100");
      for (const ws of sockets) ws.close();
    } finally {
      await s.close();
    }
  });

  it("connections beyond the server's limit are refused with 1013, the others unaffected", async () => {
    const s = await testServer({ limits: { maxConnections: 3 } });
    try {
      const id = await createRun(s.url, { kind: "replay", start: "paused", config: { maxRequests: 5 } });
      const ok = [connect(s.url, id), connect(s.url, id), connect(s.url, id)];
      await Promise.all(ok.map((c) => c.waitFor((m) => m.type === "hello")));
      const extra = connect(s.url, id);
      expect((await extra.closed).code).toBe(CLOSE_CODES.busy);
      expect(extra.messages[0]).toMatchObject({ type: "error", message: "server busy: 3 streams open" });
      ok[0].ws.close();
      await ok[0].closed;
      await sleep(100);
      const again = connect(s.url, id);
      await again.waitFor((m) => m.type === "hello");
      for (const c of [...ok, again]) c.ws.close();
    } finally {
      await s.close();
    }
  });

  it("a client that stops reading gets coarser frames, then is disconnected; others are unaffected", async () => {
    const s = await testServer({
      limits: { softBufferBytes: 64 * 1024, hardBufferBytes: 256 * 1024, slowCloseMs: 1500, maxIntervalMs: 500 },
    });
    try {
      // Heavy stream: every block event of a busy replay, as fast as the worker goes.
      const trace = await uploadTrace(s.url, nativeTrace(60000, 0.01, 1024, 64));
      const id = await createRun(s.url, { kind: "replay", speed: "max", config: { trace, maxModelLen: 4096 } });
      const normal = connect(s.url, id, "?detail=memory");
      const slow = connect(s.url, id, "?detail=blocks,requests,steps,memory");
      await slow.waitFor((m) => m.type === "hello");
      await normal.waitFor((m) => m.type === "frame");
      // Stop reading: the kernel buffers fill, then ws's own buffer (bufferedAmount) grows on the server.
      (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      const run = s.manager.get(id)!;
      const serverSide = [...run.conns].find((c) => c.detail.has("blocks")) as StreamConnection;
      let sawCoarse = false;
      for (let i = 0; i < 600 && !serverSide.closed; i++) {
        if (serverSide.intervalMs > serverSide.limits.frameIntervalMs) sawCoarse = true;
        await sleep(50);
      }
      expect(sawCoarse).toBe(true);
      expect(serverSide.closed).toBe(true);
      (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      const closed = await slow.closed;
      expect([CLOSE_CODES.tooSlow, 1006]).toContain(closed.code);
      if (closed.code === CLOSE_CODES.tooSlow) expect(closed.reason).toMatch(/^client too slow/);
      // The well-behaved viewer still gets frames (about 30 a second; 10 s bounds a loaded machine, the frame rate
      // itself is the bench's business).
      const before = normal.of("frame").length;
      await normal.waitFor((m) => m.type === "frame" && m.seq >= before + 10, 10_000);
      expect(normal.ws.readyState).toBe(normal.ws.OPEN);
      normal.ws.close();
    } finally {
      await s.close();
    }
  });
});
