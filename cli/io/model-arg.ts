import { existsSync, readFileSync } from "node:fs";
import { UserError } from "../../sim/errors.ts";
import { modelFromConfig, resolveModel } from "../../sim/model/registry.ts";
import type { ModelSpec } from "../../sim/model/types.ts";

/**
 * `--model` accepts a preset name or a path to an HF config.json. An argument that ends in ".json" or names an
 * existing file is read as a config (the spec's name is the path); anything else is looked up as a preset. A file
 * that cannot be read or parsed throws UserError naming the path (and the JSON error's position).
 */
export function loadModelArg(arg: string): ModelSpec {
  if (!arg.endsWith(".json") && !existsSync(arg)) return resolveModel(arg);
  let text: string;
  try {
    text = readFileSync(arg, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (e as Error).message;
    throw new UserError(`--model ${arg}: cannot read the config file (${why})`, { field: "--model", location: arg });
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (e) {
    throw new UserError(`--model ${arg}: not valid JSON (${(e as Error).message})`, { field: "--model", location: arg });
  }
  if (config === null || typeof config !== "object" || Array.isArray(config))
    throw new UserError(`--model ${arg}: a config.json must hold a JSON object`, { field: "--model", location: arg });
  return modelFromConfig(arg, config as Record<string, unknown>);
}
