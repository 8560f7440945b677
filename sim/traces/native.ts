import type { TraceRequest } from "./types.ts";

/**
 * One request as a line of the native JSONL format (no trailing newline). `source` is left out: it names the line
 * of the file the request was converted from, which would be wrong in the new file.
 */
export function toNativeLine(r: TraceRequest): string {
  const o: Record<string, unknown> = { arrival: r.arrival, promptTokens: r.promptTokens, outputTokens: r.outputTokens };
  if (r.hashIds) o.hashIds = r.hashIds;
  if (r.hashIds && r.hashIdsCoverOutput) o.hashIdsCoverOutput = true;
  if (r.hashBlockTokens !== undefined) o.hashBlockTokens = r.hashBlockTokens;
  if (r.priority !== undefined) o.priority = r.priority;
  if (r.sessionId !== undefined) o.sessionId = r.sessionId;
  if (r.model !== undefined) o.model = r.model;
  if (r.numImages !== undefined) o.numImages = r.numImages;
  return JSON.stringify(o);
}
