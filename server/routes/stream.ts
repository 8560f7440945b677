/**
 * GET /api/runs/:id/stream (WebSocket): `hello`, then the run's frames; the client steers with play/pause/step/
 * speed/seek/subscribe (server/protocol.ts). `?detail=requests,memory` sets the first subscription so a client
 * that does not want some levels never receives them.
 *
 * Security: a browser page on another origin must not drive the local server (the upgrade is refused with 403
 * unless Origin is absent — not a browser — or names this host, or is in `allowedOrigins`). Robustness: every
 * message goes through parseClientMessage; a message rate limit answers `error` and closes a flooding client.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type, type Static } from "@sinclair/typebox";
import type {} from "@fastify/websocket";
import { CLOSE_CODES, DETAIL_LEVELS, type DetailLevel } from "../protocol.ts";
import type { RunManager } from "../runs/manager.ts";
import type { ServerMetrics } from "../metrics/registry.ts";
import { parseClientMessage } from "../stream/client-messages.ts";
import { StreamConnection, type StreamLimits } from "../stream/connection.ts";

const StreamParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const StreamQuery = Type.Object(
  { detail: Type.Optional(Type.String({ maxLength: 100, pattern: "^[a-z,]*$" })) },
  { additionalProperties: false },
);

/** True when the Origin header is absent (not a browser) or names the host the request was sent to. */
export function originAllowed(req: FastifyRequest, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export function streamRoutes(manager: RunManager, metrics: ServerMetrics, limits: StreamLimits, allowedOrigins: readonly string[]) {
  let open = 0;
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Params: Static<typeof StreamParams>; Querystring: Static<typeof StreamQuery> }>(
      "/api/runs/:id/stream",
      {
        websocket: true,
        schema: { params: StreamParams, querystring: StreamQuery },
        preValidation: async (req, reply) => {
          if (!originAllowed(req, allowedOrigins))
            return reply.code(403).send({ error: `origin ${req.headers.origin} may not open this stream`, field: "origin" });
        },
      },
      (socket, req) => {
        const run = manager.get(req.params.id);
        const conn = new StreamConnection(socket, limits, () => {
          run?.detach(conn);
          metrics.setStreamClients(--open);
        });
        metrics.setStreamClients(++open);
        if (open > limits.maxConnections) {
          conn.send({ type: "error", message: `server busy: ${limits.maxConnections} streams open` });
          conn.close(CLOSE_CODES.busy, "server busy");
          return;
        }
        if (!run) {
          conn.send({ type: "error", message: `no run ${req.params.id}`, field: "id" });
          conn.close(CLOSE_CODES.unknownRun, "unknown run");
          return;
        }
        if (req.query.detail !== undefined) {
          const levels = req.query.detail.split(",").filter((d): d is DetailLevel => (DETAIL_LEVELS as readonly string[]).includes(d));
          conn.detail = new Set(levels);
        }
        socket.on("message", (raw: unknown) => {
          const admit = conn.admitMessage();
          if (admit === "close") {
            conn.close(CLOSE_CODES.flood, "too many messages");
            return;
          }
          if (admit === "refuse") {
            conn.send({ type: "error", message: `rate limit: at most ${limits.maxMessagesPerSecond} messages per second` });
            return;
          }
          const parsed = parseClientMessage(raw, run.id);
          if (!parsed.ok) {
            conn.send(parsed.error);
            return;
          }
          let refusal: string | null;
          try {
            refusal = run.command(parsed.message, conn);
          } catch (e) {
            refusal = `internal error handling "${parsed.message.type}": ${(e as Error).message}`;
          }
          if (refusal) conn.send({ type: "error", message: refusal, field: "type" });
        });
        run.attach(conn);
      },
    );
  };
}
