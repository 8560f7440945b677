/** Shared helpers for the server tests: an app without listening, a listening server, a ws client that records. */
import WebSocket from "ws";
import { buildApp, startServer, type ServerOptions } from "../../server/app.ts";
import type { ServerMessage } from "../../server/protocol.ts";

export async function testApp(opts: ServerOptions = {}) {
  return buildApp({ quiet: true, warmDefaultTrace: false, ...opts });
}

export async function testServer(opts: ServerOptions = {}) {
  return startServer({ quiet: true, warmDefaultTrace: false, ...opts });
}

/** A tiny native-JSONL trace: `n` requests every `gap` s with the given lengths. */
export function nativeTrace(n: number, gap: number, promptTokens: number, outputTokens: number): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ arrival: i * gap, promptTokens, outputTokens })).join("\n") + "\n";
}

export async function uploadTrace(url: string, text: string, name = "t.jsonl"): Promise<string> {
  const r = await fetch(`${url}/api/traces?name=${name}`, { method: "POST", headers: { "content-type": "text/plain" }, body: text });
  if (r.status !== 201) throw new Error(`upload failed ${r.status}: ${await r.text()}`);
  return ((await r.json()) as { id: string }).id;
}

export async function createRun(url: string, body: Record<string, unknown>): Promise<string> {
  const r = await fetch(`${url}/api/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (r.status !== 201) throw new Error(`create failed ${r.status}: ${await r.text()}`);
  return ((await r.json()) as { id: string }).id;
}

export interface Recorder {
  ws: WebSocket;
  messages: (ServerMessage & { at: number })[];
  closed: Promise<{ code: number; reason: string }>;
  waitFor(pred: (m: ServerMessage) => boolean, timeoutMs?: number): Promise<ServerMessage>;
  send(m: unknown): void;
  of<T extends ServerMessage["type"]>(type: T): Extract<ServerMessage, { type: T }>[];
}

export function connect(url: string, runId: string, query = "", headers: Record<string, string> = {}): Recorder {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/api/runs/${runId}/stream${query}`, { headers });
  const messages: Recorder["messages"] = [];
  const waiters: { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  ws.on("message", (d) => {
    const m = { ...(JSON.parse(String(d)) as ServerMessage), at: Date.now() };
    messages.push(m);
    for (const w of [...waiters]) if (w.pred(m)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  ws.on("error", () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );
  return {
    ws,
    messages,
    closed,
    waitFor(pred, timeoutMs = 20_000) {
      const hit = messages.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => reject(new Error(`timed out; last messages: ${JSON.stringify(messages.slice(-3)).slice(0, 600)}`)), timeoutMs).unref();
      });
    },
    send(m) {
      ws.send(typeof m === "string" ? m : JSON.stringify(m));
    },
    of(type) {
      return messages.filter((m) => m.type === type) as never;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
