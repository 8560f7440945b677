/**
 * The lifecycle of one run as an xstate v5 machine, written as data so the transitions can be listed, tested and
 * path-generated (`xstate/graph`).
 *
 *   created ──READY──▶ running ⇄ paused ──▶ finished | failed | cancelled
 *
 * `created` covers "queued for a worker slot" and "worker initialising"; READY (the worker has built the engine)
 * goes to `running` when the run should autoplay, else to `paused`. PLAY/PAUSE while `created` only set whether it
 * will autoplay. The ticking loop is a `fromCallback` actor invoked in `running` (xstate's stopwatch pattern): it
 * sends TICK at the frame rate, and the `advance` action (provided by the Run) asks the worker for the next slice
 * of simulated time. `advance`, `step`, `seek` and `speedChanged` are injected with `machine.provide()` so the
 * machine itself stays pure data and is tested without workers.
 *
 * Invariants: MACH-1 the final states accept no event; MACH-2 TICK is only ever received in `running` (the ticker
 * is stopped on leaving it); MACH-3 an event a state does not accept is rejected by {@link checkEvent} with a
 * message naming the event and the state, never silently dropped.
 */
import { assign, fromCallback, setup, type ActorRefFrom, type SnapshotFrom } from "xstate";
import type { RunState, Speed } from "../protocol.ts";

export interface RunContext {
  runId: string;
  speed: Speed;
  /** Simulated seconds reached. */
  t: number;
  autoplay: boolean;
  /** Failure reason (failed) or cancellation note. */
  message?: string;
  /** Ticker period, ms (1000 / max frame rate). */
  tickMs: number;
}

export type RunEvent =
  | { type: "READY" }
  | { type: "PLAY" }
  | { type: "PAUSE" }
  | { type: "STEP"; n: number }
  | { type: "SPEED"; speed: Speed }
  | { type: "SEEK"; t: number }
  | { type: "TICK" }
  | { type: "PROGRESS"; t: number }
  | { type: "FINISHED"; t: number }
  | { type: "FAIL"; message: string }
  | { type: "CANCEL"; message?: string };

export interface RunInput {
  runId: string;
  speed: Speed;
  autoplay: boolean;
  tickMs?: number;
}

/** The frame clock: TICK every `tickMs` while running. */
export const ticker = fromCallback<RunEvent, { tickMs: number }>(({ sendBack, input }) => {
  const id = setInterval(() => sendBack({ type: "TICK" }), input.tickMs);
  return () => clearInterval(id);
});

export const runMachine = setup({
  types: {
    context: {} as RunContext,
    events: {} as RunEvent,
    input: {} as RunInput,
  },
  actors: { ticker },
  actions: {
    // Side effects the Run provides (see run.ts); no-ops here so the machine is testable as data.
    advance: () => {},
    step: (_, _params: { n: number }) => {},
    seek: (_, _params: { t: number }) => {},
    speedChanged: () => {},
    setSpeed: assign({ speed: (_, params: { speed: Speed }) => params.speed }),
    setT: assign({ t: (_, params: { t: number }) => params.t }),
  },
  guards: {
    autoplay: ({ context }) => context.autoplay,
  },
}).createMachine({
  id: "run",
  initial: "created",
  context: ({ input }) => ({
    runId: input.runId,
    speed: input.speed,
    t: 0,
    autoplay: input.autoplay,
    tickMs: input.tickMs ?? 1000 / 30,
  }),
  on: {
    // Accepted in every non-final state (final states accept nothing: MACH-1).
    FAIL: { target: ".failed", actions: assign({ message: ({ event }) => event.message }) },
    CANCEL: { target: ".cancelled", actions: assign({ message: ({ event }) => event.message ?? "cancelled" }) },
  },
  states: {
    created: {
      on: {
        READY: [{ guard: "autoplay", target: "running" }, { target: "paused" }],
        PLAY: { actions: assign({ autoplay: true }) },
        PAUSE: { actions: assign({ autoplay: false }) },
        SPEED: { actions: [{ type: "setSpeed", params: ({ event }) => ({ speed: event.speed }) }, "speedChanged"] },
      },
    },
    running: {
      invoke: { src: "ticker", input: ({ context }) => ({ tickMs: context.tickMs }) },
      on: {
        TICK: { actions: "advance" },
        PAUSE: { target: "paused" },
        SPEED: { actions: [{ type: "setSpeed", params: ({ event }) => ({ speed: event.speed }) }, "speedChanged"] },
        SEEK: { actions: { type: "seek", params: ({ event }) => ({ t: event.t }) } },
        PROGRESS: { actions: { type: "setT", params: ({ event }) => ({ t: event.t }) } },
        FINISHED: { target: "finished", actions: { type: "setT", params: ({ event }) => ({ t: event.t }) } },
      },
    },
    paused: {
      on: {
        PLAY: { target: "running" },
        STEP: { actions: { type: "step", params: ({ event }) => ({ n: event.n }) } },
        SPEED: { actions: [{ type: "setSpeed", params: ({ event }) => ({ speed: event.speed }) }, "speedChanged"] },
        SEEK: { actions: { type: "seek", params: ({ event }) => ({ t: event.t }) } },
        PROGRESS: { actions: { type: "setT", params: ({ event }) => ({ t: event.t }) } },
        FINISHED: { target: "finished", actions: { type: "setT", params: ({ event }) => ({ t: event.t }) } },
      },
    },
    finished: { type: "final" },
    failed: { type: "final" },
    cancelled: { type: "final" },
  },
});

export type RunActor = ActorRefFrom<typeof runMachine>;
export type RunSnapshot = SnapshotFrom<typeof runMachine>;

export function stateOf(snapshot: RunSnapshot): RunState {
  return snapshot.value as RunState;
}

/** What a user-facing event is called in messages. */
const VERBS: Partial<Record<RunEvent["type"], string>> = {
  PLAY: "play",
  PAUSE: "pause",
  STEP: "step",
  SPEED: "change the speed of",
  SEEK: "seek",
  CANCEL: "cancel",
};

const HINTS: Partial<Record<RunState, Partial<Record<RunEvent["type"], string>>>> = {
  running: { STEP: "pause it first", PLAY: "it is already running" },
  paused: { PAUSE: "it is already paused" },
  created: { STEP: "wait until it has started", SEEK: "wait until it has started" },
};

/**
 * MACH-3: null when `snapshot` accepts `event`, else the message to send back ("cannot step a running run: pause it
 * first"). Internal events (TICK, PROGRESS, READY) are not user-facing and get a generic message.
 */
export function checkEvent(snapshot: RunSnapshot, event: RunEvent): string | null {
  const state = stateOf(snapshot);
  // A final snapshot still answers can() for root-level handlers; MACH-1 says it accepts nothing.
  if (snapshot.status === "active" && snapshot.can(event)) return null;
  const verb = VERBS[event.type] ?? `send ${event.type} to`;
  const hint = HINTS[state]?.[event.type];
  const final = state === "finished" || state === "failed" || state === "cancelled";
  return `cannot ${verb} a ${state} run${hint ? `: ${hint}` : final ? ": it has ended" : ""}`;
}
