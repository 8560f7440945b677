/** The run kinds the server offers. Each is one module in this folder; add train/rl/sweep here as they land. */
import { replayKind } from "./replay.ts";
import { rlKind } from "./rl.ts";
import { sweepKind } from "./sweep.ts";
import { trainKind } from "./train.ts";
import type { RunKind } from "./types.ts";

export function builtinKinds(): RunKind[] {
  return [replayKind, trainKind, rlKind, sweepKind];
}
