/**
 * The trace formats vramscope reads. Names are what `--format` accepts; docs/readme/traces.md describes each.
 * "native" is the project's own JSONL (what `trace convert` and `trace synth` write).
 */
export const TRACE_FORMATS = [
  "native",
  "azure",
  "azure-multimodal",
  "burstgpt",
  "mooncake",
  "bailian",
  "sharegpt",
  "vidur",
  "vllm-bench",
] as const;

export type TraceFormat = (typeof TRACE_FORMATS)[number];

export function isTraceFormat(s: string): s is TraceFormat {
  return (TRACE_FORMATS as readonly string[]).includes(s);
}
