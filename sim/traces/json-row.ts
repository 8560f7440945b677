import { closestNames } from "../errors.ts";
import { RowError, shown } from "./row-error.ts";

/** Parses one JSONL line that must hold a JSON object. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new RowError(`not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw new RowError(`expected a JSON object per line, found ${shown(v)}`);
  return v as Record<string, unknown>;
}

/** A required field, with a "did you mean" from the object's own keys when it is missing. */
export function required(obj: Record<string, unknown>, name: string): unknown {
  const v = obj[name];
  if (v !== undefined) return v;
  const keys = Object.keys(obj);
  const near = keys.length ? closestNames(name, keys, 1) : [];
  throw new RowError(
    `missing field "${name}"` + (near.length ? ` (found ${keys.map((k) => `"${k}"`).join(", ").slice(0, 100)}; did you mean "${near[0]}"?)` : ""),
    name,
  );
}
