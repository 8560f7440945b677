import { parentPort } from "node:worker_threads";
import { isUserError } from "../sim/errors.ts";
import { runPoint } from "../sim/sweep/run.ts";
import type { SweepSpec } from "../sim/sweep/types.ts";
import type { TraceRequest } from "../sim/traces/types.ts";

/**
 * A sweep worker: receives the spec and the trace once, then runs the points it is sent, one at a time, and posts
 * each result back. Messages: in `{type:"init", spec, requests}` | `{type:"run", index}`; out
 * `{type:"ready"}` | `{type:"result", point}` | `{type:"error", index, message, user}`.
 */
let spec: SweepSpec | null = null;
let requests: TraceRequest[] = [];

parentPort!.on("message", (msg: { type: "init"; spec: SweepSpec; requests: TraceRequest[] } | { type: "run"; index: number }) => {
  if (msg.type === "init") {
    spec = msg.spec;
    requests = msg.requests;
    parentPort!.postMessage({ type: "ready" });
    return;
  }
  try {
    parentPort!.postMessage({ type: "result", point: runPoint(spec!, msg.index, requests) });
  } catch (e) {
    parentPort!.postMessage({
      type: "error",
      index: msg.index,
      user: isUserError(e),
      message: isUserError(e) ? (e as Error).message : String((e as Error)?.stack ?? e),
    });
  }
});
