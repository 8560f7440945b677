import { UserError } from "../sim/errors.ts";

/** A TCP port from a flag or env var (0 = any free port); undefined when not given. */
export function portFromString(v: string | undefined, field: string): number | undefined {
  if (v === undefined || v.trim() === "") return undefined;
  if (!/^\d+$/.test(v.trim()) || Number(v) > 65535)
    throw new UserError(`${field}: expected a port number 0..65535, got "${v}"`, { field });
  return Number(v);
}
