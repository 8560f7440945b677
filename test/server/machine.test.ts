import { describe, expect, it, vi } from "vitest";
import { createActor } from "xstate";
import { getShortestPaths } from "xstate/graph";
import { checkEvent, runMachine, stateOf, type RunEvent } from "../../server/runs/machine.ts";
import { RUN_STATES } from "../../server/protocol.ts";

const input = { runId: "r1", speed: 1 as const, autoplay: false, tickMs: 5 };

function actor(autoplay = false) {
  const a = createActor(runMachine, { input: { ...input, autoplay } });
  a.start();
  return a;
}

/** Every user/internal event the machine knows, for exhaustive acceptance tables. */
const EVENTS: RunEvent[] = [
  { type: "READY" },
  { type: "PLAY" },
  { type: "PAUSE" },
  { type: "STEP", n: 1 },
  { type: "SPEED", speed: 2 },
  { type: "SEEK", t: 1 },
  { type: "PROGRESS", t: 1 },
  { type: "FINISHED", t: 1 },
  { type: "FAIL", message: "boom" },
  { type: "CANCEL" },
];

describe("run machine", () => {
  it("every state in RUN_STATES is reachable (xstate/graph shortest paths)", () => {
    const paths = getShortestPaths(runMachine, { events: EVENTS, input } as never);
    const reached = new Set(paths.map((p) => stateOf(p.state as never)));
    expect([...reached].sort()).toEqual([...RUN_STATES].sort());
  });

  it("follows created → running ⇄ paused → finished", () => {
    const a = actor(true);
    expect(stateOf(a.getSnapshot())).toBe("created");
    a.send({ type: "READY" });
    expect(stateOf(a.getSnapshot())).toBe("running");
    a.send({ type: "PAUSE" });
    expect(stateOf(a.getSnapshot())).toBe("paused");
    a.send({ type: "PLAY" });
    expect(stateOf(a.getSnapshot())).toBe("running");
    a.send({ type: "FINISHED", t: 42.5 });
    expect(stateOf(a.getSnapshot())).toBe("finished");
    expect(a.getSnapshot().context.t).toBe(42.5);
    expect(a.getSnapshot().status).toBe("done");
  });

  it("READY without autoplay waits paused; PLAY while created turns autoplay on", () => {
    const a = actor(false);
    a.send({ type: "READY" });
    expect(stateOf(a.getSnapshot())).toBe("paused");
    const b = actor(false);
    b.send({ type: "PLAY" });
    expect(stateOf(b.getSnapshot())).toBe("created");
    b.send({ type: "READY" });
    expect(stateOf(b.getSnapshot())).toBe("running");
  });

  it("fails and cancels from every live state, keeping the message", () => {
    for (const setup of [[], [{ type: "READY" }], [{ type: "READY" }, { type: "PLAY" }]] as RunEvent[][]) {
      const a = actor(false);
      for (const e of setup) a.send(e);
      a.send({ type: "FAIL", message: "worker exploded" });
      expect(stateOf(a.getSnapshot())).toBe("failed");
      expect(a.getSnapshot().context.message).toBe("worker exploded");
      const c = actor(false);
      for (const e of setup) c.send(e);
      c.send({ type: "CANCEL" });
      expect(stateOf(c.getSnapshot())).toBe("cancelled");
    }
  });

  it("speed is kept in context in created, running and paused", () => {
    const a = actor(true);
    a.send({ type: "SPEED", speed: "max" });
    expect(a.getSnapshot().context.speed).toBe("max");
    a.send({ type: "READY" });
    a.send({ type: "SPEED", speed: 250 });
    expect(a.getSnapshot().context.speed).toBe(250);
    a.send({ type: "PAUSE" });
    a.send({ type: "SPEED", speed: 0.25 });
    expect(a.getSnapshot().context.speed).toBe(0.25);
  });

  it("rejects illegal events with a message naming the event and the state (MACH-3)", () => {
    const created = actor(false);
    expect(checkEvent(created.getSnapshot(), { type: "STEP", n: 1 })).toBe("cannot step a created run: wait until it has started");
    expect(checkEvent(created.getSnapshot(), { type: "SEEK", t: 3 })).toBe("cannot seek a created run: wait until it has started");
    const running = actor(true);
    running.send({ type: "READY" });
    expect(checkEvent(running.getSnapshot(), { type: "STEP", n: 1 })).toBe("cannot step a running run: pause it first");
    expect(checkEvent(running.getSnapshot(), { type: "PLAY" })).toBe("cannot play a running run: it is already running");
    running.send({ type: "PAUSE" });
    expect(checkEvent(running.getSnapshot(), { type: "PAUSE" })).toBe("cannot pause a paused run: it is already paused");
    expect(checkEvent(running.getSnapshot(), { type: "STEP", n: 3 })).toBeNull();
    running.send({ type: "FINISHED", t: 1 });
    for (const e of EVENTS) expect(checkEvent(running.getSnapshot(), e)).toMatch(/^cannot .* a finished run: it has ended$/);
  });

  it("final states accept no event at all (MACH-1)", () => {
    // xstate warns about events sent to a stopped actor: that is exactly what this test does.
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    for (const end of [{ type: "FINISHED", t: 1 }, { type: "FAIL", message: "x" }, { type: "CANCEL" }] as RunEvent[]) {
      const a = actor(false);
      a.send({ type: "READY" });
      a.send(end);
      const before = a.getSnapshot();
      for (const e of EVENTS) {
        expect(checkEvent(a.getSnapshot(), e)).not.toBeNull();
        a.send(e);
      }
      expect(stateOf(a.getSnapshot())).toBe(stateOf(before));
      expect(a.getSnapshot().context).toEqual(before.context);
    }
    warn.mockRestore();
  });

  it("ticks only while running (MACH-2): the ticker stops on pause", async () => {
    let ticks = 0;
    const m = runMachine.provide({ actions: { advance: () => void ticks++ } });
    const a = createActor(m, { input: { ...input, autoplay: true } });
    a.start();
    await new Promise((r) => setTimeout(r, 30));
    expect(ticks).toBe(0); // created: no ticker
    a.send({ type: "READY" });
    await new Promise((r) => setTimeout(r, 60));
    a.send({ type: "PAUSE" });
    const atPause = ticks;
    expect(atPause).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(ticks).toBe(atPause);
    a.stop();
  });
});
