import { UserError } from "../errors.ts";
import type { Request } from "./request.ts";
import type { SchedulingPolicy } from "./types.ts";

/** The waiting queue (vLLM `RequestQueue`, `vllm/v1/core/sched/request_queue.py`). */
export interface RequestQueue {
  readonly length: number;
  add(req: Request): void;
  /** Put back at the front (a preempted request; FCFS only — priority re-inserts by key). */
  prepend(req: Request): void;
  peek(): Request | undefined;
  pop(): Request;
  /** In scheduling order. */
  toArray(): Request[];
}

/** A ring-buffer deque: O(1) at both ends, no shifting of a long waiting list. */
class FCFSRequestQueue implements RequestQueue {
  private buf: (Request | undefined)[] = new Array(16);
  private head = 0;
  length = 0;

  private grow(): void {
    const n = this.buf.length;
    const next = new Array<Request | undefined>(n * 2);
    for (let i = 0; i < this.length; i++) next[i] = this.buf[(this.head + i) % n];
    this.buf = next;
    this.head = 0;
  }
  add(req: Request): void {
    if (this.length === this.buf.length) this.grow();
    this.buf[(this.head + this.length) % this.buf.length] = req;
    this.length++;
  }
  prepend(req: Request): void {
    if (this.length === this.buf.length) this.grow();
    this.head = (this.head - 1 + this.buf.length) % this.buf.length;
    this.buf[this.head] = req;
    this.length++;
  }
  peek(): Request | undefined {
    return this.length === 0 ? undefined : this.buf[this.head];
  }
  pop(): Request {
    if (this.length === 0) throw new Error("pop from an empty waiting queue");
    const r = this.buf[this.head]!;
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) % this.buf.length;
    this.length--;
    return r;
  }
  toArray(): Request[] {
    const out: Request[] = [];
    for (let i = 0; i < this.length; i++) out.push(this.buf[(this.head + i) % this.buf.length]!);
    return out;
  }
}

/** Heap on (priority, arrival, id): lower priority value is served first, as in vLLM. */
class PriorityRequestQueue implements RequestQueue {
  private heap: Request[] = [];
  get length(): number {
    return this.heap.length;
  }
  private static less(a: Request, b: Request): boolean {
    if (a.priority !== b.priority) return a.priority < b.priority;
    if (a.arrival !== b.arrival) return a.arrival < b.arrival;
    return a.reqId < b.reqId;
  }
  add(req: Request): void {
    const h = this.heap;
    h.push(req);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!PriorityRequestQueue.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  prepend(req: Request): void {
    this.add(req);
  }
  peek(): Request | undefined {
    return this.heap[0];
  }
  pop(): Request {
    const h = this.heap;
    if (h.length === 0) throw new Error("pop from an empty waiting queue");
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && PriorityRequestQueue.less(h[l], h[m])) m = l;
        if (r < h.length && PriorityRequestQueue.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
  toArray(): Request[] {
    return this.heap.slice().sort((a, b) => (PriorityRequestQueue.less(a, b) ? -1 : 1));
  }
}

/** vLLM `create_request_queue`: a policy chosen by name; an unknown name is the user's mistake. */
export function createRequestQueue(policy: SchedulingPolicy): RequestQueue {
  switch (policy) {
    case "fcfs":
      return new FCFSRequestQueue();
    case "priority":
      return new PriorityRequestQueue();
    default:
      throw new UserError(`--scheduling-policy: unknown policy "${String(policy)}" (use fcfs or priority)`, {
        field: "schedulingPolicy",
      });
  }
}
