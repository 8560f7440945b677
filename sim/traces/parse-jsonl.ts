import { ArrivalClock, parseInstant } from "./clock.ts";
import { parseJsonObject, required } from "./json-row.ts";
import type { RawRow, RowParser } from "./parser.ts";
import { RowError, hashIdList, shown, timeValue, tokenCount } from "./row-error.ts";
import { DEFAULT_HASH_BLOCK_TOKENS } from "./types.ts";

function lineParser(row: (text: string) => RawRow): RowParser {
  return { hasHeader: false, synthetic: false, collects: false, row };
}

/**
 * The project's own JSONL: `{"arrival", "promptTokens", "outputTokens", "hashIds"?, "hashIdsCoverOutput"?,
 * "hashBlockTokens"?, "priority"?, "sessionId"?, "model"?, "numImages"?}`. Arrivals are used as written (not re-based), so a converted or synthetic
 * file replays identically.
 */
export function createNativeParser(): RowParser {
  return lineParser((text) => {
    const o = parseJsonObject(text);
    const row: RawRow = {
      arrival: timeValue(required(o, "arrival"), "arrival"),
      promptTokens: tokenCount(required(o, "promptTokens"), "promptTokens"),
      outputTokens: tokenCount(required(o, "outputTokens"), "outputTokens"),
    };
    if (o.hashIds !== undefined) row.hashIds = hashIdList(o.hashIds, "hashIds");
    if (o.hashIdsCoverOutput !== undefined) {
      if (typeof o.hashIdsCoverOutput !== "boolean")
        throw new RowError(`expected true or false, found ${shown(o.hashIdsCoverOutput)}`, "hashIdsCoverOutput");
      row.hashIdsCoverOutput = o.hashIdsCoverOutput;
    }
    if (o.hashBlockTokens !== undefined) row.hashBlockTokens = tokenCount(o.hashBlockTokens, "hashBlockTokens");
    if (o.priority !== undefined) {
      if (typeof o.priority !== "number" || !Number.isSafeInteger(o.priority))
        throw new RowError(`expected an integer, found ${shown(o.priority)}`, "priority");
      row.priority = o.priority;
    }
    if (o.sessionId !== undefined) row.sessionId = idText(o.sessionId, "sessionId");
    if (o.model !== undefined) row.model = idText(o.model, "model");
    if (o.numImages !== undefined) row.numImages = tokenCount(o.numImages, "numImages", 0);
    return row;
  });
}

function idText(v: unknown, field: string): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  throw new RowError(`expected a string, found ${shown(v)}`, field);
}

/**
 * Mooncake FAST'25 traces: `timestamp` in integer milliseconds, `input_length`, `output_length`, `hash_ids` of
 * 512-token prefix blocks (kept as is with hashBlockTokens 512, so any simulator block size sees the same sharing).
 */
export function createMooncakeParser(): RowParser {
  const clock = new ArrivalClock();
  return lineParser((text) => {
    const o = parseJsonObject(text);
    const t = parseInstant(required(o, "timestamp"), "timestamp", 1000);
    const row: RawRow = {
      promptTokens: tokenCount(required(o, "input_length"), "input_length"),
      outputTokens: tokenCount(required(o, "output_length"), "output_length"),
    };
    if (o.hash_ids !== undefined) {
      row.hashIds = hashIdList(o.hash_ids, "hash_ids");
      row.hashBlockTokens = DEFAULT_HASH_BLOCK_TOKENS;
    }
    row.arrival = clock.sinceFirst(t);
    return row;
  });
}

/** Tokens per hash id in the Qwen-Bailian traces. */
export const BAILIAN_HASH_BLOCK_TOKENS = 16;

/**
 * Qwen-Bailian usage traces: `chat_id`, `parent_chat_id` (−1 opens a conversation), `timestamp` (float seconds),
 * `input_length`, `output_length`, `hash_ids` (16-token blocks). sessionId is the conversation's first chat_id,
 * found by following parent links; a parent never seen (e.g. a slice of a larger file) starts its own session.
 * The chat → session map grows with the number of chats (one small entry each).
 */
export function createBailianParser(): RowParser {
  const clock = new ArrivalClock();
  const sessionOf = new Map<string, string>();
  return lineParser((text) => {
    const o = parseJsonObject(text);
    const chat = idText(required(o, "chat_id"), "chat_id");
    const parent = idText(required(o, "parent_chat_id"), "parent_chat_id");
    const t = parseInstant(required(o, "timestamp"), "timestamp");
    const row: RawRow = {
      promptTokens: tokenCount(required(o, "input_length"), "input_length"),
      outputTokens: tokenCount(required(o, "output_length"), "output_length"),
    };
    if (o.hash_ids !== undefined) {
      row.hashIds = hashIdList(o.hash_ids, "hash_ids");
      row.hashBlockTokens = BAILIAN_HASH_BLOCK_TOKENS;
    }
    const root = parent === "-1" ? chat : (sessionOf.get(parent) ?? parent);
    sessionOf.set(chat, root);
    row.sessionId = root;
    row.arrival = clock.sinceFirst(t);
    return row;
  });
}
