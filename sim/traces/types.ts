/**
 * One request of a workload, in the project's native form (also its JSONL format: one object per line with these
 * field names). Every trace parser yields these, sorted by arrival.
 */
export interface TraceRequest {
  /** Seconds from the trace's first request. */
  arrival: number;
  promptTokens: number;
  outputTokens: number;
  /**
   * Prefix-sharing chunk ids (Mooncake convention): prompt token j is identified by
   * (hashIds[floor(j / hashBlockTokens)], j mod hashBlockTokens). Tokens past the hashed chunks are unique.
   */
  hashIds?: number[];
  /**
   * The hash ids go on past the prompt and identify the output tokens too, as a later turn of the same conversation
   * will see them in its prompt (conversation traces: ShareGPT, `trace synth --turns`). The engine then hashes the
   * answer's blocks with these identities, so the next turn hits them in the prefix cache as it would in vLLM.
   * Without it, ids past the prompt's last chunk are ignored and generated tokens are unique to the request.
   */
  hashIdsCoverOutput?: boolean;
  /** Tokens per hash id: 512 for Mooncake, 16 for Qwen-Bailian. Default 512. */
  hashBlockTokens?: number;
  /** Lower value = served first under `--scheduling-policy priority` (vLLM's convention). */
  priority?: number;
  /** Conversation/session id, where the trace has one. */
  sessionId?: string;
  /** Images attached to the request (Azure multimodal 2025 `NumImages`). Optional, added by the traces module. */
  numImages?: number;
  /** Model name column (BurstGPT). */
  model?: string;
  /** file:line the request came from, for messages. */
  source?: string;
}

export const DEFAULT_HASH_BLOCK_TOKENS = 512;
