/**
 * Colours of data marks. Okabe & Ito's eight-colour set (2008) is distinguishable under the common colour-vision
 * deficiencies, so every category the user must tell apart (memory components, block states, Gantt phases, roles)
 * draws from it; where more categories exist than colours, a second channel (lightness, pattern, position) carries
 * the difference. Per-request hues in the block map are an aid only: the state a cell is in never depends on hue
 * alone (free is the background, cached-free is a fixed pale blue with a dot, in use is saturated).
 */
export const okabeIto = {
  black: "#000000",
  orange: "#E69F00",
  skyBlue: "#56B4E9",
  bluishGreen: "#009E73",
  yellow: "#F0E442",
  blue: "#0072B2",
  vermillion: "#D55E00",
  reddishPurple: "#CC79A7",
  grey: "#999999",
} as const;

/** Memory components of a serving GPU, bottom of the stack first (the order of the stacked area). */
export const servingComponentColors = {
  weightsBytes: okabeIto.blue,
  activationBytes: okabeIto.reddishPurple,
  nonTorchBytes: okabeIto.grey,
  kvUsedBytes: okabeIto.orange,
  kvCachedFreeBytes: okabeIto.skyBlue,
  kvFreeBytes: "transparent",
} as const;

/** Training components, bottom first. */
export const trainingComponentColors: Record<string, string> = {
  params: okabeIto.blue,
  masterWeights: "#4d9ad0",
  grads: okabeIto.bluishGreen,
  optimizer: okabeIto.yellow,
  activations: okabeIto.reddishPurple,
  logits: okabeIto.vermillion,
  overhead: okabeIto.grey,
};

/** RL roles. */
export const roleColors: Record<string, string> = {
  actor: okabeIto.blue,
  policy: okabeIto.blue,
  generator: okabeIto.blue,
  critic: okabeIto.bluishGreen,
  reference: okabeIto.grey,
  reward: okabeIto.reddishPurple,
  rollout: okabeIto.orange,
  revision: okabeIto.skyBlue,
  buffer: okabeIto.yellow,
  overhead: "#6b6b6b",
};

/** Gantt phases of a request (waiting is an outline, so it reads as "not on the GPU"). */
export const ganttColors = {
  waiting: "#7f8796",
  prefill: okabeIto.skyBlue,
  decode: okabeIto.blue,
  preempted: okabeIto.vermillion,
  recomputing: okabeIto.yellow,
  ttft: okabeIto.bluishGreen,
  finish: "#e6e8ee",
} as const;

export const markerColors = { eviction: okabeIto.vermillion, preemption: okabeIto.yellow } as const;

/** Saturated hues for "in use by request r" (sky blue excluded: it means cached-free). */
const REQUEST_HUES = [okabeIto.orange, okabeIto.bluishGreen, okabeIto.yellow, okabeIto.blue, okabeIto.vermillion, okabeIto.reddishPurple];

export function requestHue(reqId: number): string {
  return REQUEST_HUES[((reqId % REQUEST_HUES.length) + REQUEST_HUES.length) % REQUEST_HUES.length];
}

export const REQUEST_HUE_COUNT = REQUEST_HUES.length;

/** "#RRGGBB" → [r, g, b]. */
export function rgb(hex: string): [number, number, number] {
  const n = parseInt(hex.replace("#", "").slice(0, 6), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Reads a CSS custom property of the document (theme-dependent chrome colours for canvas drawing). */
export function cssVar(name: string, fallback = "#888888"): string {
  // getComputedStyle after a DOM write forces a style recalculation; the tokens only change with the theme, so a
  // found value is kept per theme (an empty one, e.g. before the stylesheet loaded, is asked again next time).
  const key = `${document.documentElement.dataset.theme ?? ""}|${name}`;
  const hit = cssVarCache.get(key);
  if (hit !== undefined) return hit;
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  if (v) cssVarCache.set(key, v);
  return v || fallback;
}
const cssVarCache = new Map<string, string>();
