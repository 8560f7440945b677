import { closestNames, UserError } from "../errors.ts";
import presets from "./presets.json" with { type: "json" };
import { modelFromConfig } from "./from-config.ts";
import type { ModelSpec } from "./types.ts";

export { modelFromConfig };

/**
 * The model presets: HF config.json subsets keyed by HF repo id (presets.json, copied from the shared data), loaded
 * through the same `modelFromConfig` path a user's config.json takes. Keys starting with "_" are provenance notes.
 */
const CONFIGS = presets.models as unknown as Record<string, Record<string, unknown>>;
const KEYS = Object.keys(CONFIGS);
const BY_LOWER = new Map(KEYS.map((k) => [k.toLowerCase(), k]));

/** Preset keys, exactly as in presets.json (HF repo ids). */
export function listModels(): string[] {
  return [...KEYS];
}

/** The raw config.json fields of a preset (for display and for tests that feed them to modelFromConfig). */
export function presetConfig(name: string): Record<string, unknown> {
  const key = BY_LOWER.get(name.toLowerCase());
  if (key === undefined) throw unknownModel(name);
  return stripNotes(CONFIGS[key]);
}

/**
 * A preset by name (case-insensitive; the bare repo name without the org also matches when unambiguous) or a
 * ModelSpec passed through. Unknown names throw UserError with the three closest preset names.
 */
export function resolveModel(nameOrSpec: string | ModelSpec): ModelSpec {
  if (typeof nameOrSpec !== "string") return nameOrSpec;
  const q = nameOrSpec.trim().toLowerCase();
  let key = BY_LOWER.get(q);
  if (key === undefined && !q.includes("/")) {
    const tails = KEYS.filter((k) => k.toLowerCase().split("/").pop() === q);
    if (tails.length === 1) key = tails[0];
  }
  if (key === undefined) throw unknownModel(nameOrSpec);
  return modelFromConfig(key, stripNotes(CONFIGS[key]));
}

function unknownModel(name: string): UserError {
  const close = closestNames(name, KEYS);
  return new UserError(
    `unknown model ${name}; did you mean ${close.join(", ")}? (or pass a path to a HF config.json)`,
    { field: "--model" },
  );
}

function stripNotes(c: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(c).filter(([k]) => !k.startsWith("_")));
}
