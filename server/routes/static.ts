/**
 * The built client (`npm run build` → dist/client) with @fastify/static, which serves only files under that folder
 * (no request path reaches the filesystem outside it). Without a build, `/` answers one line saying how to make
 * one, so `vramscope serve` still works for API users.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import fastifyStatic from "@fastify/static";

export const NO_BUILD_PAGE =
  '<!doctype html><meta charset="utf-8"><title>vramscope</title><p>The client is not built: run <code>npm run build</code>, then reload.</p>\n';

export function staticRoutes(clientDir: string | URL) {
  const root = typeof clientDir === "string" ? clientDir : fileURLToPath(clientDir);
  return async (app: FastifyInstance): Promise<void> => {
    if (existsSync(`${root}/index.html`)) {
      await app.register(fastifyStatic, { root, index: ["index.html"], wildcard: true, dotfiles: "deny" });
    } else {
      app.get("/", async (_req, reply) => reply.type("text/html; charset=utf-8").send(NO_BUILD_PAGE));
    }
  };
}
