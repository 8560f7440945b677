/**
 * The browser side of `/api/runs/:id/stream`: the WebSocket lives in a worker (workers/stream-worker.ts) that parses
 * and slims each message off the main thread; this class hands the results to the listener and sends the control
 * messages of the protocol. Reconnects on a 4008 "too slow" close (the server dropped us for backpressure; a fresh
 * connection resumes from the current time).
 */
import type { ClientMessage, DetailLevel } from "../../../server/protocol.ts";
import type { StreamMessage } from "./frame-pack.ts";
import type { StreamCommand, StreamReport } from "../workers/stream-worker.ts";

export interface RunStreamOptions {
  onMessage(m: StreamMessage): void;
  onStatus?(status: "connecting" | "open" | "closed", detail?: string): void;
  detail?: DetailLevel[];
}

export class RunStream {
  private worker: Worker | null = null;
  private closedByUs = false;
  private reconnects = 0;
  constructor(readonly runId: string, private readonly opts: RunStreamOptions) {}

  open(): void {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${proto}//${location.host}/api/runs/${encodeURIComponent(this.runId)}/stream`;
    if (!this.worker) {
      const w = new Worker(new URL("../workers/stream-worker.ts", import.meta.url), { type: "module" });
      w.onmessage = (ev: MessageEvent<StreamReport>) => this.report(ev.data);
      w.onerror = (ev) => this.opts.onStatus?.("closed", `stream worker failed: ${ev.message}`);
      this.worker = w;
    }
    const detail: ClientMessage | undefined = this.opts.detail ? { type: "subscribe", detail: this.opts.detail } : undefined;
    this.command({ cmd: "open", url, detail });
  }

  send(m: ClientMessage): void {
    this.command({ cmd: "send", message: m });
  }

  close(): void {
    this.closedByUs = true;
    this.command({ cmd: "close" });
    this.worker = null;
  }

  private command(c: StreamCommand): void {
    this.worker?.postMessage(c);
  }

  private report(r: StreamReport): void {
    if (r.kind === "message") this.opts.onMessage(r.message);
    else if (r.kind === "invalid") console.warn(`vramscope: ignored a stream message that is not JSON: ${r.text}`);
    else if (r.status === "closed") {
      this.opts.onStatus?.("closed", r.reason || `code ${r.code}`);
      if (!this.closedByUs && r.code === 4008 && this.reconnects++ < 3) setTimeout(() => this.open(), 250);
    } else this.opts.onStatus?.(r.status);
  }
}
