/**
 * Run kinds by name. Each kind is one module in this folder (replay, train, rl, sweep as they land); tests add
 * their own (a kind whose worker throws or runs out of memory) through `startServer({ extraKinds })`.
 */
import { closestNames, UserError } from "../../../sim/errors.ts";
import type { RunKind } from "./types.ts";

export class KindRegistry {
  private readonly kinds = new Map<string, RunKind>();

  constructor(kinds: RunKind[] = []) {
    for (const k of kinds) this.add(k);
  }

  add(kind: RunKind): void {
    if (this.kinds.has(kind.name)) throw new Error(`run kind "${kind.name}" registered twice`);
    this.kinds.set(kind.name, kind);
  }

  get(name: string): RunKind {
    const k = this.kinds.get(name);
    if (!k) {
      const names = [...this.kinds.keys()];
      throw new UserError(`kind: unknown run kind "${name}"; expected one of ${names.join(", ")} (did you mean ${closestNames(name, names, 1)[0]}?)`, {
        field: "kind",
      });
    }
    return k;
  }

  list(): RunKind[] {
    return [...this.kinds.values()];
  }
}
