/**
 * Downsampling for drawing only (hover always reads the full series): keeps, per pixel column, the sample with the
 * largest value of `weight` so a one-sample spike (an eviction burst, the logits spike) stays visible, plus the
 * first and last sample so the line reaches both ends.
 */
export function downsampleMax<T>(data: readonly T[], x: (d: T) => number, weight: (d: T) => number, columns: number): T[] {
  if (data.length <= columns * 2 || columns < 2) return data as T[];
  const x0 = x(data[0]);
  const x1 = x(data[data.length - 1]);
  const span = x1 - x0 || 1;
  const out: T[] = [data[0]];
  let col = -1;
  let best: T | null = null;
  let bestW = -Infinity;
  for (let i = 1; i < data.length - 1; i++) {
    const d = data[i];
    const c = Math.floor(((x(d) - x0) / span) * columns);
    if (c !== col) {
      if (best !== null) out.push(best);
      col = c;
      best = d;
      bestW = weight(d);
    } else {
      const w = weight(d);
      if (w > bestW) {
        best = d;
        bestW = w;
      }
    }
  }
  if (best !== null) out.push(best);
  out.push(data[data.length - 1]);
  return out;
}
