import { UserError, closestNames } from "../errors.ts";

/**
 * Which model copies an RL algorithm keeps, and why. This one table drives both the article's flat budgets
 * (`article.ts`) and the product's per-GPU accounting (`memory.ts`), so the two can only differ in the numbers they
 * put on each role, never in which roles exist.
 *
 * Sources (see /work/shared/data/training-ground-truth.md §6): PPO's four models (OpenRLHF, DeepSpeed-Chat, verl);
 * DPO's frozen reference and TRL's `precompute_ref_log_probs`; GRPO (DeepSeekMath, arXiv 2402.03300) drops the
 * critic but keeps a KL term −β·D_KL(π_θ‖π_ref) against a frozen reference; TRL loads no reference when β = 0
 * (`if self.beta == 0.0: self.ref_model = None`, default since v0.19). Constitutional AI / self-training: a trained
 * generator, k frozen critics and a revision model that is trained separately or is the generator itself.
 */
export const RL_ALGORITHMS = ["ppo", "dpo", "grpo", "cai"] as const;
export type RlAlgorithm = (typeof RL_ALGORITHMS)[number];

/** train: weights + grads + optimizer + activations; inference: frozen weights + a forward pass; rollout: the vLLM engine. */
export type RoleKind = "train" | "inference" | "rollout";

/** Role names as the issue spells them (`critic-1` … `critic-k` are CAI's critics; `critic` is PPO's value model). */
export type RoleName =
  | "actor"
  | "critic"
  | "reference"
  | "reward"
  | "policy"
  | "generator"
  | "revision"
  | `critic-${number}`
  | "rollout-engine";

/** Which model a role is a copy of: the policy's (`--model`), `--critic-model` or `--reward-model`. */
export type RoleModelSource = "policy" | "critic" | "reward";

export interface RoleDef {
  name: RoleName;
  kind: RoleKind;
  modelSource: RoleModelSource;
  /** Why the role is in memory (shown in reports). */
  why: string;
}

export interface AlgorithmOptions {
  /** KL coefficient (GRPO). A reference model is held only when β > 0. */
  beta: number;
  /** DPO: reference log-probs computed once before training (TRL `precompute_ref_log_probs`). */
  precomputeRefLogProbs: boolean;
  /** CAI: number of frozen critic models. */
  numCritics: number;
  /** CAI: the revision model is a second trained copy, or the generator itself. */
  revision: "separate" | "shared";
  /**
   * GRPO: rewards come from a learned reward model (TRL `reward_funcs` given a model) rather than from rule-based
   * functions (exact-match, unit tests), which hold no GPU memory. The published method and the article use none.
   */
  grpoRewardModel?: boolean;
}

export const DEFAULT_ALGORITHM_OPTIONS: AlgorithmOptions = {
  beta: 0,
  precomputeRefLogProbs: false,
  numCritics: 2,
  revision: "separate",
};

export function parseAlgorithm(text: string, flag = "--algo"): RlAlgorithm {
  const t = text.trim().toLowerCase();
  if ((RL_ALGORITHMS as readonly string[]).includes(t)) return t as RlAlgorithm;
  const near = closestNames(t, RL_ALGORITHMS, 2);
  throw new UserError(
    `${flag}: unknown algorithm "${text}"; expected one of ${RL_ALGORITHMS.join(", ")} (did you mean ${near.join(" or ")}?)`,
    { field: flag },
  );
}

/** Algorithms that sample completions on-line each iteration (and so run a rollout engine). */
export function generatesRollouts(algo: RlAlgorithm): boolean {
  return algo !== "dpo";
}

/**
 * The model copies held by `algo` (without the rollout engine, which placement adds). Order is the order of the
 * article's sums, so the flat budget reads like the article's bullet list.
 */
export function modelRoles(algo: RlAlgorithm, opts: AlgorithmOptions): RoleDef[] {
  switch (algo) {
    case "ppo":
      return [
        { name: "actor", kind: "train", modelSource: "policy", why: "the policy being optimised" },
        { name: "reference", kind: "inference", modelSource: "policy", why: "frozen SFT copy for the KL penalty" },
        { name: "critic", kind: "train", modelSource: "critic", why: "value model for GAE advantages, trained" },
        { name: "reward", kind: "inference", modelSource: "reward", why: "frozen reward model scoring rollouts" },
      ];
    case "dpo": {
      const roles: RoleDef[] = [{ name: "policy", kind: "train", modelSource: "policy", why: "the policy being optimised" }];
      if (!opts.precomputeRefLogProbs)
        roles.push({ name: "reference", kind: "inference", modelSource: "policy", why: "frozen copy for the implicit reward log-ratio" });
      return roles;
    }
    case "grpo": {
      if (!(opts.beta >= 0)) throw new UserError(`--beta: the KL coefficient must be ≥ 0, got ${opts.beta}`, { field: "--beta" });
      const roles: RoleDef[] = [{ name: "policy", kind: "train", modelSource: "policy", why: "the policy being optimised (no critic: group-relative advantages)" }];
      if (opts.beta > 0)
        roles.push({ name: "reference", kind: "inference", modelSource: "policy", why: `frozen copy for the KL term (β = ${opts.beta})` });
      if (opts.grpoRewardModel)
        roles.push({ name: "reward", kind: "inference", modelSource: "reward", why: "frozen reward model scoring each completion" });
      return roles;
    }
    case "cai": {
      if (!Number.isInteger(opts.numCritics) || opts.numCritics < 1)
        throw new UserError(`--num-critics: expected an integer ≥ 1, got ${opts.numCritics}`, { field: "--num-critics" });
      const roles: RoleDef[] = [{ name: "generator", kind: "train", modelSource: "policy", why: "generates and is trained on revised responses" }];
      for (let i = 1; i <= opts.numCritics; i++)
        roles.push({ name: `critic-${i}`, kind: "inference", modelSource: "critic", why: `frozen critic ${i} of ${opts.numCritics} judging responses against the constitution` });
      if (opts.revision === "separate")
        roles.push({ name: "revision", kind: "train", modelSource: "policy", why: "separate trained model rewriting responses from the critiques" });
      return roles;
    }
  }
}
