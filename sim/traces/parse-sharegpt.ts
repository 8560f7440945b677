import { UserError } from "../errors.ts";
import { collectedRows, documentParser } from "./document-parser.ts";
import type { ParserContext, RawRow, RowParser } from "./parser.ts";
import { RowError, shown } from "./row-error.ts";

/** Chunk size of the synthetic prefix ids given to multi-turn ShareGPT requests (vLLM's default block size). */
export const SHAREGPT_HASH_BLOCK_TOKENS = 16;

/** Characters per token of the tokenizer-free estimate (the usual rule of thumb for English BPE vocabularies). */
export const CHARS_PER_TOKEN = 4;

/** Tokens of one turn: its own `tokens` count when given, else ⌈code points / 4⌉. */
export function estimateTokens(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return Math.ceil(n / CHARS_PER_TOKEN);
}

const USER = new Set(["human", "user"]);
const ASSISTANT = new Set(["gpt", "chatgpt", "assistant", "bard", "bing", "model"]);

/**
 * ShareGPT JSON: `[{"id", "conversations": [{"from": "human"|"gpt"|"system", "value": text, "tokens"?: n}, …]}]`.
 * Every assistant turn that follows a user turn becomes a request whose prompt is the whole conversation so far
 * (system + earlier turns + this user turn) and whose output is the assistant turn. Tokens are positions in the
 * conversation's token stream, cut into 16-token chunks with ids unique to the conversation, so turn k+1's hashIds
 * start with exactly turn k's prompt-and-answer chunks: a prefix cache sees the reuse a real chat would give.
 * No timestamps: the reader assigns synthetic arrivals in file order (turns of a conversation stay in order).
 */
export function createShareGptParser(ctx: ParserContext): RowParser {
  return documentParser(ctx, (doc) => {
    const { value, text } = doc.parse(ctx.fileName);
    if (!Array.isArray(value))
      throw new UserError(`${ctx.fileName}:1: expected a JSON array of conversations, found ${shown(value)}`, {
        location: `${ctx.fileName}:1`,
      });
    const lines = doc.elementLines(text);
    let nextId = 0;
    return value.flatMap((conv, i) =>
      collectedRows(lines[i] ?? 1, () => {
        const { rows, chunks } = conversationRows(conv, i, nextId);
        nextId += chunks;
        return rows;
      }),
    );
  });
}

function conversationRows(conv: unknown, index: number, firstId: number): { rows: RawRow[]; chunks: number } {
  if (conv === null || typeof conv !== "object" || Array.isArray(conv))
    throw new RowError(`expected a conversation object, found ${shown(conv)}`, `[${index}]`);
  const c = conv as Record<string, unknown>;
  const turns = c.conversations;
  if (!Array.isArray(turns)) throw new RowError(`expected an array of turns, found ${shown(turns)}`, "conversations");
  const sessionId = typeof c.id === "string" || typeof c.id === "number" ? String(c.id) : `conversation-${index}`;
  const rows: RawRow[] = [];
  let tokensSoFar = 0;
  let prevRole = "";
  turns.forEach((t, j) => {
    const field = `conversations[${j}]`;
    if (t === null || typeof t !== "object") throw new RowError(`expected {"from", "value"}, found ${shown(t)}`, field);
    const turn = t as Record<string, unknown>;
    const from = typeof turn.from === "string" ? turn.from.toLowerCase() : typeof turn.role === "string" ? turn.role.toLowerCase() : undefined;
    const role = from === undefined ? undefined : USER.has(from) ? "user" : ASSISTANT.has(from) ? "assistant" : from === "system" ? "system" : undefined;
    if (!role) throw new RowError(`expected "from" to be human, gpt or system, found ${shown(turn.from ?? turn.role)}`, `${field}.from`);
    const value = turn.value ?? turn.content;
    if (typeof value !== "string") throw new RowError(`expected a text "value", found ${shown(value)}`, `${field}.value`);
    let n: number;
    if (turn.tokens !== undefined) {
      if (typeof turn.tokens !== "number" || !Number.isSafeInteger(turn.tokens) || turn.tokens < 0)
        throw new RowError(`expected a non-negative integer, found ${shown(turn.tokens)}`, `${field}.tokens`);
      n = turn.tokens;
    } else n = estimateTokens(value);
    if (role === "assistant" && prevRole === "user") {
      if (n < 1) throw new RowError("an empty assistant turn has no output to generate", `${field}.value`);
      const prompt = tokensSoFar;
      if (prompt < 1) throw new RowError("the prompt before this assistant turn is empty", `${field}`);
      // The ids run on over the answer: the next turn's prompt repeats it (hashIdsCoverOutput).
      const numIds = Math.ceil((prompt + n) / SHAREGPT_HASH_BLOCK_TOKENS);
      const hashIds = new Array<number>(numIds);
      for (let k = 0; k < numIds; k++) hashIds[k] = firstId + k;
      rows.push({
        promptTokens: prompt,
        outputTokens: n,
        hashIds,
        hashIdsCoverOutput: true,
        hashBlockTokens: SHAREGPT_HASH_BLOCK_TOKENS,
        sessionId,
      });
    }
    tokensSoFar += n;
    prevRole = role;
  });
  if (rows.length === 0) throw new RowError("no user turn followed by an assistant turn: nothing to replay", "conversations");
  return { rows, chunks: Math.ceil(tokensSoFar / SHAREGPT_HASH_BLOCK_TOKENS) };
}
