/**
 * Runs a budget sweep off the page's main thread: the same `runSweepSequential` the server's sweep kind and
 * `vramscope sweep` use, over a synthetic trace from `sim/traces/synth.ts`. Posts progress, then the SweepResult
 * (or the UserError message, which names the flag).
 */
import { runSweepSequential } from "../../../sim/sweep/run.ts";
import { synthesize, type SynthSpec } from "../../../sim/traces/synth.ts";
import type { SweepSpec } from "../../../sim/sweep/types.ts";

export interface SweepJob {
  spec: SweepSpec;
  synth: SynthSpec;
}

self.onmessage = (ev: MessageEvent<SweepJob>) => {
  try {
    const requests = synthesize(ev.data.synth);
    const result = runSweepSequential(ev.data.spec, requests, {
      onProgress: (done, total) => self.postMessage({ type: "progress", done, total }),
    });
    self.postMessage({ type: "result", result });
  } catch (e) {
    const err = e as Error & { field?: string };
    self.postMessage({ type: "error", message: err.message, field: err.field });
  }
};
