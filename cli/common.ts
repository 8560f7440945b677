import { Option } from "commander";
import { SingleBar, Presets } from "cli-progress";
import { isUserError, UserError } from "../sim/errors.ts";

/**
 * Wraps a command's action: a UserError (bad flag, bad trace line, unknown model) prints its message alone and
 * exits 2; anything else is a bug and keeps its stack.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (isUserError(e)) {
        process.stderr.write(`error: ${e.message}\n`);
        process.exit(2);
      }
      throw e;
    }
  };
}

export function parseIntFlag(flag: string) {
  return (v: string): number => {
    if (!/^-?\d+$/.test(v.trim())) throw new UserError(`${flag}: expected an integer, got "${v}"`, { field: flag });
    return Number(v);
  };
}

export function parseFloatFlag(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n)) throw new UserError(`${flag}: expected a number, got "${v}"`, { field: flag });
    return n;
  };
}

export function choiceOption(flags: string, description: string, choices: readonly string[], def?: string): Option {
  const o = new Option(flags, description).choices(choices as string[]);
  return def === undefined ? o : o.default(def);
}

/** A progress bar on stderr, silent when stderr is not a TTY or `quiet` (so `--json` output stays clean). */
export function progressBar(
  label: string,
  total: number,
  quiet = false,
): { update(n: number): void; setTotal(n: number): void; stop(): void } {
  if (quiet || !process.stderr.isTTY) return { update() {}, setTotal() {}, stop() {} };
  const bar = new SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta}s`, stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (n) => bar.update(n), setTotal: (n) => bar.setTotal(n), stop: () => bar.stop() };
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}
