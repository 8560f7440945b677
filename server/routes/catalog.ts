/** GET /api/models, /api/gpus: the presets a config form offers, with the facts it shows next to them. */
import type { FastifyInstance } from "fastify";
import { Type } from "@sinclair/typebox";
import { listGpus, resolveGpu } from "../../sim/hardware/registry.ts";
import { listModels, resolveModel } from "../../sim/model/registry.ts";
import { DEFAULT_GPU, DEFAULT_MODEL } from "../../sim/serving/config.ts";

const ModelEntry = Type.Object({
  name: Type.String(),
  isDefault: Type.Boolean(),
  modelType: Type.String(),
  numLayers: Type.Integer(),
  hiddenSize: Type.Integer(),
  numAttentionHeads: Type.Integer(),
  numKvHeads: Type.Integer(),
  headDim: Type.Integer(),
  maxPositionEmbeddings: Type.Integer(),
  torchDtype: Type.String(),
  moe: Type.Boolean(),
  mla: Type.Boolean(),
});
const GpuEntry = Type.Object({
  name: Type.String(),
  isDefault: Type.Boolean(),
  memoryBytes: Type.Number(),
  hbmBandwidth: Type.Number(),
  bf16Flops: Type.Number(),
  fp8Flops: Type.Union([Type.Number(), Type.Null()]),
  interconnectBandwidth: Type.Number(),
});

export async function catalogRoutes(app: FastifyInstance): Promise<void> {
  const models = listModels().map((name) => {
    const m = resolveModel(name);
    return {
      name,
      isDefault: name === DEFAULT_MODEL,
      modelType: m.modelType,
      numLayers: m.numLayers,
      hiddenSize: m.hiddenSize,
      numAttentionHeads: m.numAttentionHeads,
      numKvHeads: m.numKvHeads,
      headDim: m.headDim,
      maxPositionEmbeddings: m.maxPositionEmbeddings,
      torchDtype: m.torchDtype,
      moe: m.moe !== undefined,
      mla: m.mla !== undefined,
    };
  });
  const gpus = listGpus().map((name) => ({ ...resolveGpu(name), isDefault: name === DEFAULT_GPU }));
  app.get("/api/models", { schema: { response: { 200: Type.Array(ModelEntry) } } }, async () => models);
  app.get("/api/gpus", { schema: { response: { 200: Type.Array(GpuEntry) } } }, async () => gpus);
}
