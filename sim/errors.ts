/**
 * A mistake in the user's input (a flag, a config field, a trace line). The CLI and server print `message` alone,
 * never a stack trace; `field` names the flag/field and `location` the file:line when there is one.
 */
export class UserError extends Error {
  readonly field?: string;
  readonly location?: string;
  constructor(message: string, opts: { field?: string; location?: string } = {}) {
    super(message);
    this.name = "UserError";
    this.field = opts.field;
    this.location = opts.location;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof Error && e.name === "UserError";
}

/** Levenshtein distance, for "did you mean" suggestions on unknown names. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The names closest to `name` (case-insensitive; substring matches first), for an "unknown X" message. */
export function closestNames(name: string, candidates: readonly string[], max = 3): string[] {
  const q = name.toLowerCase();
  const scored = candidates.map((c) => {
    const l = c.toLowerCase();
    const sub = l.includes(q) || q.includes(l.split("/").pop() ?? l) ? 0 : 1;
    const tail = l.split("/").pop() ?? l;
    return { c, score: sub * 1000 + Math.min(editDistance(q, l), editDistance(q, tail)) };
  });
  scored.sort((x, y) => x.score - y.score || x.c.localeCompare(y.c));
  return scored.slice(0, max).map((s) => s.c);
}
