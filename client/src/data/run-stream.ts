/**
 * The browser side of `/api/runs/:id/stream`: opens the WebSocket, parses each JSON message, hands it to the
 * listener, and sends the control messages of the protocol. Reconnects once on a 4008 "too slow" close (the server
 * dropped us for backpressure; a fresh connection resumes from the current time).
 */
import type { ServerMessage, ClientMessage, DetailLevel } from "../../../server/protocol.ts";

export interface RunStreamOptions {
  onMessage(m: ServerMessage): void;
  onStatus?(status: "connecting" | "open" | "closed", detail?: string): void;
  detail?: DetailLevel[];
}

export class RunStream {
  private ws: WebSocket | null = null;
  private closedByUs = false;
  private reconnects = 0;
  constructor(readonly runId: string, private readonly opts: RunStreamOptions) {}

  open(): void {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${proto}//${location.host}/api/runs/${encodeURIComponent(this.runId)}/stream`;
    this.opts.onStatus?.("connecting");
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.opts.onStatus?.("open");
      if (this.opts.detail) this.send({ type: "subscribe", detail: this.opts.detail });
    };
    ws.onmessage = (ev) => {
      let m: ServerMessage;
      try {
        m = JSON.parse(String(ev.data)) as ServerMessage;
      } catch {
        return;
      }
      this.opts.onMessage(m);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.opts.onStatus?.("closed", ev.reason || `code ${ev.code}`);
      if (!this.closedByUs && ev.code === 4008 && this.reconnects++ < 3) setTimeout(() => this.open(), 250);
    };
  }

  send(m: ClientMessage): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  close(): void {
    this.closedByUs = true;
    this.ws?.close(1000, "client closed");
    this.ws = null;
  }
}
