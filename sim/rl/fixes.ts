import { formatGiB } from "../units.ts";
import { defaultRolloutUtilization, rlTrainingFlags } from "./defaults.ts";
import type { RlConfig, RlReport } from "./types.ts";

/**
 * What to say when the rollout engine gets no KV cache: only changes that were actually tried on this
 * configuration and got past the error, each with the verdict it then gets. A suggestion that does not work is
 * worse than none, and "raise it" is wrong when the GPU has no free memory left to raise it into.
 *
 * Candidates, in order: a `--rollout-gpu-memory-utilization` that vLLM accepts and that leaves a KV cache (the
 * largest one the free memory allows when startup failed, the smallest that works when the KV cache was short);
 * `--zero-stage 3`, `--rollout-memory-accounting instance`, `--offload-train-states`, `--offload-frozen` one at a
 * time and, when none of those fits, stacked; `--placement separate`; and the smallest of ×2, ×4, ×8 `--gpus`
 * that fits.
 */
export interface TriedFix {
  flags: string;
  report: RlReport;
}

type Run = (c: RlConfig) => RlReport | null;

export function rolloutBudgetFixes(config: RlConfig, residentBytes: number, run: Run): TriedFix[] {
  const out: TriedFix[] = [];
  const tryFix = (flags: string, c: RlConfig): boolean => {
    const report = run(c);
    if (report) out.push({ flags, report });
    return report !== null;
  };
  const withUtil = (u: number): RlConfig => ({ ...config, rollout: { ...config.rollout, gpuMemoryUtilization: u } });
  const colocate = config.placement === "colocate";
  const total = config.gpu.memoryBytes;
  const current = config.rollout.gpuMemoryUtilization;

  // Utilization, in hundredths. With "instance" accounting beside a trainer, vLLM refuses any util × total above
  // the free memory; the KV cache grows with util, so the smallest working value is found by bisection.
  const cap = colocate && config.rollout.accounting === "instance" ? Math.floor((100 * (total - residentBytes)) / total) : 100;
  const here = Math.round(current * 100);
  if (here > cap) {
    if (cap >= 1) tryFix(`--rollout-gpu-memory-utilization ${cap / 100}`, withUtil(cap / 100));
  } else if (here < cap) {
    let best = run(withUtil(cap / 100));
    if (best) {
      let lo = here;
      let hi = cap;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        const r = run(withUtil(mid / 100));
        if (r) [hi, best] = [mid, r];
        else lo = mid;
      }
      out.push({ flags: `--rollout-gpu-memory-utilization ${hi / 100}`, report: best });
    }
  }

  // Single changes, then (when none of them fits) the sharding, accounting and offload changes stacked.
  const changes: { flags: string; apply: (c: RlConfig) => RlConfig }[] = [];
  const stage = Number(rlTrainingFlags(config.training.extra, config.numGpus).zeroStage ?? 0);
  const dp = Math.floor(config.numGpus / Math.max(1, Number(config.training.extra.tp ?? 1)));
  if (colocate && stage < 3 && dp > 1 && Number(config.training.extra.pp ?? 1) <= 1)
    changes.push({ flags: "--zero-stage 3", apply: (c) => ({ ...c, training: { ...c.training, extra: { ...c.training.extra, zeroStage: 3 } } }) });
  if (colocate && config.rollout.accounting === "shared")
    changes.push({ flags: "--rollout-memory-accounting instance", apply: (c) => ({ ...c, rollout: { ...c.rollout, accounting: "instance" } }) });
  if (colocate && config.algorithm !== "dpo" && !config.offloadTrainStatesDuringRollout)
    changes.push({ flags: "--offload-train-states", apply: (c) => ({ ...c, offloadTrainStatesDuringRollout: true }) });
  if (colocate && !config.offloadFrozenRoles)
    changes.push({ flags: "--offload-frozen", apply: (c) => ({ ...c, offloadFrozenRoles: true }) });
  for (const ch of changes) tryFix(ch.flags, ch.apply(config));
  if (!out.some((f) => f.report.fits))
    for (let n = 2; n <= changes.length; n++) {
      const stack = changes.slice(0, n);
      const c = stack.reduce((acc, ch) => ch.apply(acc), config);
      const report = run(c);
      if (report?.fits) {
        out.push({ flags: stack.map((ch) => ch.flags).join(" "), report });
        break;
      }
    }
  if (colocate) {
    // A utilization left at the colocated default becomes the separate default, as `vramscope rl` does.
    const u = current === defaultRolloutUtilization("colocate") ? defaultRolloutUtilization("separate") : current;
    tryFix("--placement separate", { ...config, placement: "separate", rollout: { ...config.rollout, gpuMemoryUtilization: u } });
  }
  // More GPUs only when nothing above fits, and only as a suggestion that fits: the smallest of ×2, ×4, ×8.
  if (!out.some((f) => f.report.fits))
    for (const k of [2, 4, 8]) {
      const report = run({ ...config, numGpus: config.numGpus * k });
      if (report?.fits) {
        out.push({ flags: `--gpus ${config.numGpus * k}`, report });
        break;
      }
    }
  return out;
}

/** "; tried: A → fits (peak …); B → runs but OOM by … in train" — or that nothing tried gets past it. */
export function describeFixes(fixes: TriedFix[]): string {
  if (fixes.length === 0)
    return "; nothing tried gets past it (another utilization, offloading trainer states, ZeRO-3, separate placement, up to 8× the GPUs): use a smaller model or a shorter --response-len";
  const fits = fixes.filter((f) => f.report.fits);
  const shown = [...fits, ...fixes.filter((f) => !f.report.fits)];
  const what = (r: RlReport) =>
    r.fits
      ? `fits, peak ${formatGiB(r.peakBytesPerGpu)} in ${r.peakPhase}`
      : `runs, but OOM by ${formatGiB(r.oomByBytes)} in ${r.peakPhase}`;
  return `; tried here: ${shown.map((f) => `${f.flags} → ${what(f.report)}`).join("; ")}`;
}
