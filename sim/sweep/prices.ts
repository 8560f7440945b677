import { UserError } from "../errors.ts";

/**
 * `--gpu-hour-price gpu=USD` (repeatable): on-demand price of one GPU for one hour. A point's cost is this price
 * × its GPU count (tensor-parallel size). `canonical` maps a typed GPU name to the preset name (so "h100-sxm-80gb"
 * and "H100-SXM-80GB" are one key); it throws for unknown GPUs.
 */
export function parsePrices(texts: readonly string[], canonical: (gpu: string) => string = (g) => g): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of texts) {
    const eq = t.lastIndexOf("=");
    if (eq <= 0) throw new UserError(`--gpu-hour-price: expected GPU=USD (e.g. H100-SXM-80GB=2.49), got "${t}"`, { field: "--gpu-hour-price" });
    const gpu = canonical(t.slice(0, eq).trim());
    const priceText = t.slice(eq + 1).trim().replace(/^\$/, "");
    const price = Number(priceText);
    if (priceText === "" || !Number.isFinite(price) || price < 0)
      throw new UserError(`--gpu-hour-price ${gpu}: expected a non-negative USD amount, got "${t.slice(eq + 1)}"`, {
        field: "--gpu-hour-price",
      });
    if (gpu in out) throw new UserError(`--gpu-hour-price: ${gpu} is priced twice`, { field: "--gpu-hour-price" });
    out[gpu] = price;
  }
  return out;
}

/** The price for a GPU name, matched case-insensitively; null when not priced. */
export function priceFor(prices: Record<string, number>, gpu: string): number | null {
  if (gpu in prices) return prices[gpu];
  const k = Object.keys(prices).find((p) => p.toLowerCase() === gpu.toLowerCase());
  return k === undefined ? null : prices[k];
}
