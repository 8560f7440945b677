/**
 * memoryArea — the serving memory timeline: a stackedArea over MemorySnapshot with the six components of one GPU
 * bottom-up (weights, activation reserve, non-torch overhead, KV in use, KV cached-but-free, free KV), the
 * `gpu_memory_utilization` budget line and the device-total line. Hover reads the exact snapshot under the mouse
 * (`snapshotAt`), never the downsampled drawing.
 *
 * Example:
 *   memoryArea().budget(kvBudget).snapshotAt((t) => store.snapshotAt(t)).data(store.snapshots)(el);
 */
import type { KvBudget, MemorySnapshot } from "../../../sim/serving/types.ts";
import { stackedArea, type StackedArea } from "./stacked-area.ts";
import { tooltipTable } from "./tooltip.ts";
import { servingComponentColors, okabeIto } from "../ui/palette.ts";
import { gib, exactBytes, pct, int } from "../ui/format.ts";

export const MEMORY_KEYS = ["weightsBytes", "activationBytes", "nonTorchBytes", "kvUsedBytes", "kvCachedFreeBytes", "kvFreeBytes"] as const;
export const MEMORY_LABELS: Record<string, string> = {
  weightsBytes: "weights",
  activationBytes: "activation reserve",
  nonTorchBytes: "non-torch overhead",
  kvUsedBytes: "KV in use",
  kvCachedFreeBytes: "KV cached-free (evictable)",
  kvFreeBytes: "KV free",
};

export interface MemoryArea extends StackedArea<MemorySnapshot> {
  budget(): KvBudget | null;
  budget(b: KvBudget | null): MemoryArea;
  snapshotAt(): (t: number) => MemorySnapshot | null;
  snapshotAt(f: (t: number) => MemorySnapshot | null): MemoryArea;
  /** Extra tooltip rows for the snapshot's time (e.g. the preemptions and evictions around it: why it moved). */
  why(): ((s: MemorySnapshot) => [string, string][]) | null;
  why(f: ((s: MemorySnapshot) => [string, string][]) | null): MemoryArea;
}

export function memoryArea(): MemoryArea {
  let budget: KvBudget | null = null;
  let snapshotAt: (t: number) => MemorySnapshot | null = () => null;
  let why: ((s: MemorySnapshot) => [string, string][]) | null = null;
  const chart = stackedArea<MemorySnapshot>()
    .keys(MEMORY_KEYS)
    .x((d) => d.t)
    .value((d, k) => (d as unknown as Record<string, number>)[k])
    .colors({ ...servingComponentColors, kvFreeBytes: "var(--cell-free)" })
    .labels(MEMORY_LABELS)
    .title("Memory timeline of one GPU: stacked bytes per component over simulated time")
    .step(true) as MemoryArea;
  chart.hover((t) => {
    const s = snapshotAt(t);
    if (!s) return null;
    const rows: [string, string, string?][] = MEMORY_KEYS.slice()
      .reverse()
      .map((k) => [MEMORY_LABELS[k], `${gib(s[k], 3)}  ${exactBytes(s[k])}`, k === "kvFreeBytes" ? "var(--cell-free)" : servingComponentColors[k]]);
    const used = s.weightsBytes + s.activationBytes + s.nonTorchBytes + s.kvUsedBytes + s.kvCachedFreeBytes + s.kvFreeBytes;
    rows.push(["total of components", `${gib(used, 3)}  ${exactBytes(used)}`]);
    if (budget) rows.push(["budget / device", `${gib(budget.requestedBytes)} / ${gib(budget.totalBytes)}`]);
    rows.push(["KV usage (vLLM)", pct(s.kvUsage, 2)]);
    rows.push(["blocks used / cached / free", `${int(s.numUsedBlocks)} / ${int(s.numCachedFreeBlocks)} / ${int(s.numFreeBlocks)}`]);
    rows.push(["running / waiting", `${int(s.numRunning)} / ${int(s.numWaiting)}`]);
    if (why) rows.push(...why(s));
    return tooltipTable(`t = ${s.t.toFixed(3)} s`, rows);
  });
  chart.budget = function (...args: unknown[]) {
    if (args.length === 0) return budget;
    budget = (args[0] as KvBudget | null) ?? null;
    chart.refLines(
      budget
        ? [
            { y: budget.totalBytes, label: `device ${gib(budget.totalBytes, 1)}`, color: okabeIto.vermillion },
            { y: budget.requestedBytes, label: `budget ${gib(budget.requestedBytes, 1)}`, color: "var(--budget-line)", dash: "5,3" },
          ]
        : [],
    );
    chart.yMax(budget ? budget.totalBytes : null);
    return chart;
  } as MemoryArea["budget"];
  chart.why = function (...args: unknown[]) {
    if (args.length === 0) return why;
    why = (args[0] as typeof why) ?? null;
    return chart;
  } as MemoryArea["why"];
  chart.snapshotAt = function (...args: unknown[]) {
    if (args.length === 0) return snapshotAt;
    snapshotAt = args[0] as (t: number) => MemorySnapshot | null;
    return chart;
  } as MemoryArea["snapshotAt"];
  return chart;
}
