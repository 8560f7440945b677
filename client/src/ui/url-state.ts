/**
 * The state of a view lives in the URL query (`?view=serve&util=0.8&model=…`), so a copied link reproduces it.
 * Writes use `history.replaceState` (no history entry per slider tick); defaults are omitted to keep links short.
 */
export type UrlValue = string | number | boolean | null | undefined;

export function readParams(): URLSearchParams {
  return new URLSearchParams(location.search);
}

export function getParam(name: string): string | null {
  return readParams().get(name);
}

export function getNumber(name: string, fallback: number): number {
  const v = readParams().get(name);
  if (v === null || v.trim() === "") return fallback;
  const n = Number(v);
  return Number.isFinite(n) ? n : fallback;
}

export function getBool(name: string, fallback: boolean): boolean {
  const v = readParams().get(name);
  if (v === null) return fallback;
  return v === "1" || v === "true" || v === "on";
}

/** Sets (or, for null/undefined/"" or a value equal to `defaults[name]`, removes) query parameters. */
export function patchParams(values: Record<string, UrlValue>, defaults: Record<string, UrlValue> = {}): void {
  const p = readParams();
  for (const [k, v] of Object.entries(values)) {
    const s = v === true ? "1" : v === false ? "0" : v === null || v === undefined ? "" : String(v);
    const d = defaults[k];
    const ds = d === true ? "1" : d === false ? "0" : d === null || d === undefined ? "" : String(d);
    if (s === "" || s === ds) p.delete(k);
    else p.set(k, s);
  }
  const q = p.toString();
  const url = `${location.pathname}${q ? `?${q}` : ""}${location.hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, "", url);
}
