import { UserError } from "../errors.ts";
import type { Rng } from "./rng.ts";

/**
 * Arrival times as `vllm bench serve` draws them (vllm/benchmarks/serve.py, get_request): each request's delay is
 * Gamma(shape = b, scale = 1/(R·b)) — b = 1 is a Poisson process, b < 1 burstier, b > 1 more regular — the delays
 * are summed, and the cumulative times are rescaled so the last request arrives exactly at N/R. The first request
 * therefore arrives after one gap, not at 0, as in vLLM. R = Infinity puts every request at t = 0 (vLLM's default);
 * b = Infinity gives constant gaps 1/R (newer vLLM's infinite-burstiness limit).
 */
export function gammaArrivals(n: number, rate: number, burstiness: number, rng: Rng): number[] {
  if (!(rate > 0)) throw new UserError(`--request-rate: expected a positive number or inf, got ${rate}`, { field: "--request-rate" });
  if (!(burstiness > 0))
    throw new UserError(`--burstiness: expected a positive number or inf, got ${burstiness}`, { field: "--burstiness" });
  const t = new Array<number>(n).fill(0);
  if (rate === Infinity || n === 0) return t;
  const theta = 1 / (rate * burstiness);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    // b = inf: vLLM's limit case, constant gaps of 1/R (no draw).
    acc += burstiness === Infinity ? 1 / rate : rng.gamma(burstiness) * theta;
    t[i] = acc;
  }
  if (acc !== 0) {
    const factor = n / rate / acc;
    for (let i = 0; i < n; i++) t[i] *= factor;
  }
  return t;
}
