/**
 * The WebSocket of one run, off the page's main thread: at full speed a 10k-request replay streams ~13 MB of JSON a
 * second, and parsing it on the main thread cost 15–25 ms a message — a dropped frame each time. Here it is parsed
 * and slimmed (frame-pack.ts); the page gets block records in transferred typed arrays and only the events it draws.
 *
 * Commands in: { cmd: "open", url, detail? } · { cmd: "send", message } · { cmd: "close" }.
 * Reports out: { kind: "status", status, code?, reason? } · { kind: "message", message } · { kind: "invalid", text }.
 */
import { slimMessage, ScheduleFilter, isPacked } from "../data/frame-pack.ts";
import type { ServerMessage, ClientMessage } from "../../../server/protocol.ts";

export type StreamCommand =
  | { cmd: "open"; url: string; detail?: ClientMessage }
  | { cmd: "send"; message: ClientMessage }
  | { cmd: "close" };

export type StreamReport =
  | { kind: "status"; status: "connecting" | "open" | "closed"; code?: number; reason?: string }
  | { kind: "message"; message: ReturnType<typeof slimMessage> }
  | { kind: "invalid"; text: string };

const post = (r: StreamReport, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(r, transfer);
let ws: WebSocket | null = null;
const filter = new ScheduleFilter();

self.onmessage = (ev: MessageEvent<StreamCommand>) => {
  const c = ev.data;
  if (c.cmd === "open") {
    ws?.close(1000, "reopened");
    const sock = new WebSocket(c.url);
    ws = sock;
    post({ kind: "status", status: "connecting" });
    sock.onopen = () => {
      post({ kind: "status", status: "open" });
      if (c.detail) sock.send(JSON.stringify(c.detail));
    };
    sock.onmessage = (m) => {
      let parsed: ServerMessage;
      try {
        parsed = JSON.parse(String(m.data)) as ServerMessage;
      } catch {
        post({ kind: "invalid", text: String(m.data).slice(0, 200) });
        return;
      }
      const slim = slimMessage(parsed, filter);
      post({ kind: "message", message: slim }, slim.type === "frame" && isPacked(slim) ? [slim.packed.ops.buffer, slim.packed.times.buffer] : []);
    };
    sock.onclose = (e) => {
      if (ws === sock) post({ kind: "status", status: "closed", code: e.code, reason: e.reason });
    };
  } else if (c.cmd === "send") {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(c.message));
  } else {
    ws?.close(1000, "client closed");
    ws = null;
    self.close();
  }
};
