import { join } from "node:path";
import { loadTrace, EMBEDDED_TRACES_DIR } from "../../cli/io/trace-file.ts";
import { parseTraceText, type TraceOptions } from "../../sim/traces/index.ts";
import { isUserError } from "../../sim/errors.ts";

export const sample = (name: string) => join(EMBEDDED_TRACES_DIR, name);

export async function load(name: string, opts: TraceOptions = {}) {
  return loadTrace(sample(name), opts);
}

export const sum = (xs: { promptTokens: number; outputTokens: number }[], k: "promptTokens" | "outputTokens") =>
  xs.reduce((a, r) => a + r[k], 0);

/** Runs parseTraceText and returns the UserError message it throws (fails the test if it does not throw one). */
export function userErrorOf(text: string, opts: TraceOptions): string {
  try {
    parseTraceText(text, opts);
  } catch (e) {
    if (isUserError(e)) return e.message;
    throw e;
  }
  throw new Error("expected a UserError, but the trace parsed");
}
