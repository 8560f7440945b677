import { describe, expect, it } from "vitest";
import { MAX_SPEED_BUDGET_MS, PACED_BUDGET_MS, Pacer } from "../../server/runs/pacing.ts";

describe("Pacer", () => {
  it("advances speed × elapsed wall seconds from the anchor", () => {
    const p = new Pacer();
    p.anchor(5, 1000); // t = 5 s at wall 1,000 ms
    // 10× for 0.3 s of wall time → 5 + 10 × 0.3 = 8 s (within the 5 s lead cap: 5 + 10 × 0.5 = 10).
    expect(p.next(10, 5, 1300)).toEqual({ toT: 8, budgetMs: PACED_BUDGET_MS });
    // The engine got there (step ends may overshoot a little): 0.2 s later → 5 + 10 × 0.5 = 10.
    expect(p.next(10, 8.02, 1500)).toEqual({ toT: 10, budgetMs: PACED_BUDGET_MS });
  });

  it("answers nothing while the engine is ahead of the clock (a long step ran past it)", () => {
    const p = new Pacer();
    p.anchor(0, 0);
    expect(p.next(1, 0.5, 100)).toBeNull(); // clock at 0.1 s, engine at 0.5 s
    expect(p.next(1, 0.5, 600)).toEqual({ toT: 0.6, budgetMs: PACED_BUDGET_MS });
  });

  it("PACE-1: a slow engine is never more than half a wall second behind, and no backlog builds", () => {
    const p = new Pacer();
    p.anchor(0, 0);
    // 3 s of wall time pass while the engine only reached 1 s at 100×: the raw target 300 s is capped at
    // 1 + 100 × 0.5 = 51 s, and the clock is re-anchored there.
    expect(p.next(100, 1, 3000)).toEqual({ toT: 51, budgetMs: PACED_BUDGET_MS });
    // 0.1 s later the engine caught up to 51: the target is 51 + 100 × 0.1 = 61, not 310.
    expect(p.next(100, 51, 3100)).toEqual({ toT: 61, budgetMs: PACED_BUDGET_MS });
  });

  it('"max" asks for a fixed slice of wall time with no target', () => {
    const p = new Pacer();
    p.anchor(0, 0);
    expect(p.next("max", 123, 5)).toEqual({ toT: Number.MAX_VALUE, budgetMs: MAX_SPEED_BUDGET_MS });
  });
});
