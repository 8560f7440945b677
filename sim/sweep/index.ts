// The sweep API: spec parsing, running (sequentially; the worker pool is cli/sweep-pool.ts), merging, recommending.
export { PARAM_DEFS, MEMORY_PARAMS, paramDef, parseParamValue, type ParamDef, type ParamValue } from "./params.ts";
export { parseVary, parseVaryList, pointParams, cartesianProduct, productSize, type VaryParam } from "./spec.ts";
export { parseShard, shardIndices, type Shard } from "./shard.ts";
export { parsePrices, priceFor } from "./prices.ts";
export { pointMetrics, sloViolations, meetsRequestSlo, costPerMillionTokens } from "./metrics.ts";
export { kneedle, preemptionKnees, preemptionFreeFrom, memoryAxis, kneeFor } from "./knee.ts";
export { recommend, COST_TIE } from "./recommend.ts";
export { assembleResult, mergeSweepResults } from "./merge.ts";
export { runPoint, runSweepSequential, sweepPoints, pointInput, scaleArrivals, type SequentialOptions } from "./run.ts";
export { fitCostModel, parseCalibrationText, type CalibrationFit, type CalibrationPoint } from "./calibrate.ts";
export { sweepCsv, sweepText } from "./format.ts";
export type * from "./types.ts";
