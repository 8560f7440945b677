/**
 * Turns one raw WebSocket message into a validated client command or an `error` reply naming the field. This is the
 * only door from the network into a run, so it must accept anything (binary, huge, malformed JSON, wrong types,
 * prototype-polluting keys) and never throw: the fuzz test feeds it thousands of mutated messages.
 */
import type { TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { closestNames } from "../../sim/errors.ts";
import {
  CLIENT_MESSAGE_SCHEMAS,
  CLIENT_MESSAGE_TYPES,
  MAX_SPEED,
  MIN_SPEED,
  MAX_STEP_N,
  DETAIL_LEVELS,
  type ClientMessage,
  type ErrorMessage,
} from "../protocol.ts";

/** Client messages are tiny commands; anything bigger is refused before parsing. */
export const MAX_CLIENT_MESSAGE_BYTES = 4096;

const CHECKERS: Record<string, TypeCheck<TSchema>> = Object.fromEntries(
  CLIENT_MESSAGE_TYPES.map((t) => [t, TypeCompiler.Compile(CLIENT_MESSAGE_SCHEMAS[t] as TSchema)]),
);

/** Human wording per field, where TypeBox's generic message ("Expected union value") would not help. */
const FIELD_HELP: Record<string, string> = {
  speed: `expected a number from ${MIN_SPEED} to ${MAX_SPEED} or "max"`,
  n: `expected an integer from 1 to ${MAX_STEP_N}`,
  t: "expected a number of simulated seconds ≥ 0",
  detail: `expected an array of ${DETAIL_LEVELS.map((d) => `"${d}"`).join(", ")}`,
  runId: "expected the id of this stream's run",
};

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; error: ErrorMessage };

function fail(message: string, field?: string): ParseResult {
  return { ok: false, error: field === undefined ? { type: "error", message } : { type: "error", message, field } };
}

export function parseClientMessage(raw: unknown, runId: string): ParseResult {
  let text: string;
  if (typeof raw === "string") text = raw;
  else if (Buffer.isBuffer(raw)) text = raw.toString("utf8");
  else if (raw instanceof ArrayBuffer) text = Buffer.from(raw).toString("utf8");
  else if (Array.isArray(raw)) text = Buffer.concat(raw.filter((b) => Buffer.isBuffer(b))).toString("utf8");
  else return fail("expected a text message holding a JSON object");
  if (Buffer.byteLength(text) > MAX_CLIENT_MESSAGE_BYTES)
    return fail(`message too large (limit ${MAX_CLIENT_MESSAGE_BYTES} bytes)`);

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return fail(`malformed JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return fail('expected a JSON object with a "type" field', "type");
  const obj = value as Record<string, unknown>;
  if (!Object.prototype.hasOwnProperty.call(obj, "type") || typeof obj.type !== "string")
    return fail(`type: expected one of ${CLIENT_MESSAGE_TYPES.join(", ")}`, "type");
  const type = obj.type;
  if (!Object.prototype.hasOwnProperty.call(CHECKERS, type)) {
    const close = closestNames(type.slice(0, 64), CLIENT_MESSAGE_TYPES, 1);
    return fail(
      `type: unknown message type "${type.slice(0, 64)}"; expected one of ${CLIENT_MESSAGE_TYPES.join(", ")} (did you mean ${close[0]}?)`,
      "type",
    );
  }
  const checker = CHECKERS[type];
  if (!checker.Check(obj)) {
    const first = checker.Errors(obj).First();
    const path = (first?.path ?? "").replace(/^\//, "");
    const top = path.split("/")[0];
    const field = path || "type";
    if (first && first.message.startsWith("Unexpected property"))
      return fail(`${field}: unknown field in a "${type}" message`, field);
    if (first && first.message.startsWith("Expected required property"))
      return fail(`${field}: required in a "${type}" message (${FIELD_HELP[top] ?? first.message})`, field);
    return fail(`${field}: ${FIELD_HELP[top] ?? first?.message ?? "invalid value"}`, field);
  }
  if (obj.runId !== undefined && obj.runId !== runId)
    return fail(`runId: this stream belongs to run ${runId}, not ${String(obj.runId).slice(0, 64)}`, "runId");
  return { ok: true, message: obj as ClientMessage };
}
