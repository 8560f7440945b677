import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ServerMessageSchema } from "../../server/protocol.ts";
import { connect, createRun, nativeTrace, sleep, testServer, uploadTrace } from "./helpers.ts";

const serverMessage = TypeCompiler.Compile(ServerMessageSchema);

describe("stream message handler fuzz", () => {
  it("thousands of random and mutated messages on a live run: no crash, every reply well-formed", async () => {
    // The rate limit is lifted so the fuzz reaches the run itself (commands, queueing, seeks, steps).
    const s = await testServer({ limits: { maxMessagesPerSecond: 1_000_000 } });
    try {
      const trace = await uploadTrace(s.url, nativeTrace(300, 0.2, 64, 8));
      const id = await createRun(s.url, { kind: "replay", speed: 50, config: { trace, stepTimeS: 0.005 } });
      const c = connect(s.url, id);
      await c.waitFor((m) => m.type === "state" && m.state === "running");
      const valid = fc.oneof(
        fc.constant({ type: "play" }),
        fc.constant({ type: "pause" }),
        fc.record({ type: fc.constant("step"), n: fc.integer({ min: 1, max: 50 }) }),
        fc.record({ type: fc.constant("speed"), speed: fc.oneof(fc.double({ min: 0.25, max: 10000, noNaN: true }), fc.constant("max")) }),
        fc.record({ type: fc.constant("seek"), t: fc.double({ min: 0, max: 80, noNaN: true }) }),
        fc.record({ type: fc.constant("subscribe"), detail: fc.subarray(["blocks", "requests", "steps", "memory"]) }),
      ).map((m) => JSON.stringify(m));
      const mutated = fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 0x7f })).map(([t, i, ch]) => {
        const k = i % (t.length + 1);
        return t.slice(0, k) + String.fromCharCode(ch) + t.slice(k + 1);
      });
      const junk = fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 3 }), fc.constant("x".repeat(5000)));
      const messages = fc.sample(fc.oneof({ arbitrary: valid, weight: 2 }, { arbitrary: mutated, weight: 2 }, { arbitrary: junk, weight: 1 }), {
        numRuns: 3000,
        seed: 42,
      });
      const first = c.messages.length;
      for (let i = 0; i < messages.length; i++) {
        c.send(messages[i]);
        if (i % 200 === 199) await sleep(20);
      }
      await sleep(1500);
      const replies = c.messages.slice(first);
      for (const m of replies) expect(serverMessage.Check(m), JSON.stringify(m).slice(0, 300)).toBe(true);
      const errors = replies.filter((m) => m.type === "error");
      expect(errors.length).toBeGreaterThan(500);
      // Still alive and steerable: the connection is open, the run answers, the server is healthy.
      expect(c.ws.readyState).toBe(c.ws.OPEN);
      const info = await (await fetch(`${s.url}/api/runs/${id}`)).json();
      expect(["running", "paused", "finished"]).toContain(info.state);
      if (info.state !== "finished") {
        c.send({ type: info.state === "running" ? "pause" : "play" });
        const seen = c.messages.length;
        await c.waitFor((m) => m.type === "state" && m.state !== info.state && c.messages.indexOf(m as (typeof c.messages)[number]) >= seen);
      }
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
      c.ws.close();
    } finally {
      await s.close();
    }
  });
});
