/**
 * The simulated clock a running run should have reached: simulated time advances `speed` seconds per wall second
 * from an anchor (set on play, speed change and seek). Why a separate object: the rule has one subtle part worth
 * testing on its own — a simulation slower than real time must not build a backlog that it would then replay in a
 * burst when it catches up, so the target never leads the engine by more than half a wall second's worth
 * (PACE-1), and the anchor moves forward when that cap applies.
 */
import type { Speed } from "../protocol.ts";

/** Wall time the worker may spend per request at "max" speed (leaves room for messaging within a frame). */
export const MAX_SPEED_BUDGET_MS = 25;
/** Longest one paced advance may take before replying, ms (very high speeds on slow machines). */
export const PACED_BUDGET_MS = 200;
/** PACE-1: the target leads the engine by at most this much wall time at the current speed. */
export const MAX_LEAD_S = 0.5;

export interface Advance {
  toT: number;
  budgetMs: number;
}

export class Pacer {
  private wall = 0;
  private t = 0;

  /** Restart the clock at simulated time `t`, wall time `wallMs`. */
  anchor(t: number, wallMs: number): void {
    this.t = t;
    this.wall = wallMs;
  }

  /**
   * What to ask the worker for at wall time `wallMs` when the engine is at `engineT`, or null when the engine is
   * already at (or past) where the clock is.
   */
  next(speed: Speed, engineT: number, wallMs: number): Advance | null {
    if (speed === "max") return { toT: Number.MAX_VALUE, budgetMs: MAX_SPEED_BUDGET_MS };
    let target = this.t + (speed * (wallMs - this.wall)) / 1000;
    const maxLead = engineT + speed * MAX_LEAD_S;
    if (target > maxLead) {
      target = maxLead;
      this.anchor(target, wallMs);
    }
    return target > engineT ? { toT: target, budgetMs: PACED_BUDGET_MS } : null;
  }
}
