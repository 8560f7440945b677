import type { RoleName } from "./algorithms.ts";
import { buildGroupTimeline, type FrozenRoleProfile, type GroupPlan, type RolloutProfile, type TrainedRoleProfile } from "./timeline.ts";
import { RL_PHASES, type RlConfig, type RlGroupReport, type RlPhaseName, type RlTimelineEvent } from "./types.ts";

/**
 * GPU groups by placement, and the iteration's timeline over them. Colocated, one group ("all") holds every role and
 * the rollout engine. Separate, every role gets its own group of `numGpus` GPUs and the rollout engine its own
 * `rolloutGpus`, never asleep (nothing else needs its memory). The rollout buffer lives with the trained roles.
 */
export interface PlacedGroup {
  plan: GroupPlan;
  numGpus: number;
  /** Role names whose bytes this group's events carry (including "rollout-buffer"). */
  roles: string[];
}

export interface RoleParts {
  roles: RoleName[];
  trained: TrainedRoleProfile[];
  frozen: FrozenRoleProfile[];
  rollout: RolloutProfile | null;
  buffer: { afterGenerate: number; afterScore: number };
  online: boolean;
}

/** At most this many engine steps per iteration are kept in the timeline. */
export const MAX_STEP_EVENTS = 200;

export function placeGroups(config: RlConfig, parts: RoleParts, rolloutGpus: number): PlacedGroup[] {
  const base = {
    sleepLevel: config.rollout.sleepLevel,
    offloadTrainStatesDuringRollout: config.offloadTrainStatesDuringRollout,
    offloadFrozenRoles: config.offloadFrozenRoles,
    maxStepEvents: MAX_STEP_EVENTS,
    online: parts.online,
  };
  if (config.placement === "colocate")
    return [
      {
        plan: { ...base, name: "all", trained: parts.trained, frozen: parts.frozen, rollout: parts.rollout, buffer: parts.buffer },
        numGpus: config.numGpus,
        roles: [...parts.roles, ...(parts.rollout ? ["rollout-engine"] : []), "rollout-buffer"],
      },
    ];
  const groups: PlacedGroup[] = [];
  for (const t of parts.trained)
    groups.push({
      plan: { ...base, name: t.role, trained: [t], frozen: [], rollout: null, buffer: parts.buffer },
      numGpus: config.numGpus,
      roles: [t.role, "rollout-buffer"],
    });
  for (const f of parts.frozen)
    groups.push({ plan: { ...base, name: f.role, trained: [], frozen: [f], rollout: null, buffer: null }, numGpus: config.numGpus, roles: [f.role] });
  if (parts.rollout)
    groups.push({
      plan: { ...base, sleepLevel: 0, name: "rollout-engine", trained: [], frozen: [], rollout: parts.rollout, buffer: null },
      numGpus: rolloutGpus,
      roles: ["rollout-engine"],
    });
  return groups;
}

export interface GroupRun extends PlacedGroup {
  events: RlTimelineEvent[];
}

export interface IterationRun {
  groups: GroupRun[];
  /** Every group's events, phase by phase (generate of every group, then score, …), re-indexed. */
  timeline: RlTimelineEvent[];
  groupReports: RlGroupReport[];
  phases: { name: RlPhaseName; peakBytesPerGpu: number }[];
  peak: RlTimelineEvent;
}

export function runIteration(placed: PlacedGroup[], gpuBytes: number): IterationRun {
  const groups = placed.map((p) => ({ ...p, events: buildGroupTimeline(p.plan) }));
  const order = (ph: RlPhaseName) => RL_PHASES.indexOf(ph);
  const timeline = groups
    .flatMap((g) => g.events)
    .map((e, i) => ({ e, i }))
    .sort((a, b) => order(a.e.phase) - order(b.e.phase) || a.i - b.i)
    .map(({ e }, index) => ({ ...e, index }));
  const groupReports: RlGroupReport[] = groups.map((g) => {
    const peak = argmax(g.events);
    return {
      name: g.plan.name,
      roles: g.roles,
      numGpus: g.numGpus,
      peakBytesPerGpu: peak.total,
      peakPhase: peak.phase,
      peakEvent: peak.label,
      fits: peak.total <= gpuBytes,
    };
  });
  const phases = RL_PHASES.filter((ph) => timeline.some((e) => e.phase === ph)).map((name) => ({
    name,
    peakBytesPerGpu: Math.max(...timeline.filter((e) => e.phase === name).map((e) => e.total)),
  }));
  return { groups, timeline, groupReports, phases, peak: argmax(timeline) };
}

/** A role's largest and smallest bytes on one GPU of its group over the iteration. */
export function roleRange(run: IterationRun, name: string): { group: string; max: number; min: number } {
  const g = run.groups.find((x) => x.roles.includes(name))!;
  const values = g.events.map((e) => e.byRole[name] ?? 0);
  return { group: g.plan.name, max: Math.max(0, ...values), min: Math.min(...values) };
}

function argmax(events: RlTimelineEvent[]): RlTimelineEvent {
  let best = events[0];
  for (const e of events) if (e.total > best.total) best = e;
  return best;
}
