import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { parseClientMessage, MAX_CLIENT_MESSAGE_BYTES } from "../../server/stream/client-messages.ts";
import { ErrorMessageSchema, CLIENT_MESSAGE_TYPES } from "../../server/protocol.ts";

const errorShape = TypeCompiler.Compile(ErrorMessageSchema);
const RUN = "run-abc";

function err(raw: unknown) {
  const r = parseClientMessage(raw, RUN);
  if (r.ok) throw new Error(`expected an error for ${String(raw)}`);
  return r.error;
}

describe("parseClientMessage", () => {
  it("accepts every well-formed command", () => {
    const good = [
      { type: "play" },
      { type: "pause", runId: RUN },
      { type: "step" },
      { type: "step", n: 100000 },
      { type: "speed", speed: 0.25 },
      { type: "speed", speed: 10000 },
      { type: "speed", speed: "max" },
      { type: "seek", t: 0 },
      { type: "seek", t: 123.5 },
      { type: "subscribe", detail: [] },
      { type: "subscribe", detail: ["blocks", "requests", "steps", "memory"] },
    ];
    for (const m of good) {
      const r = parseClientMessage(JSON.stringify(m), RUN);
      expect(r, JSON.stringify(m)).toEqual({ ok: true, message: m });
    }
    // Buffers (what ws hands over) too.
    expect(parseClientMessage(Buffer.from('{"type":"play"}'), RUN).ok).toBe(true);
  });

  it("names the field of every out-of-range or mistyped value", () => {
    expect(err('{"type":"speed","speed":0.2}')).toEqual({
      type: "error",
      field: "speed",
      message: 'speed: expected a number from 0.25 to 10000 or "max"',
    });
    expect(err('{"type":"speed","speed":10001}').field).toBe("speed");
    expect(err('{"type":"speed","speed":"fast"}').field).toBe("speed");
    expect(err('{"type":"speed"}').field).toBe("speed");
    expect(err('{"type":"step","n":0}')).toEqual({ type: "error", field: "n", message: "n: expected an integer from 1 to 100000" });
    expect(err('{"type":"step","n":1.5}').field).toBe("n");
    expect(err('{"type":"seek","t":-1}').field).toBe("t");
    expect(err('{"type":"seek"}').field).toBe("t");
    expect(err('{"type":"subscribe","detail":["blocks","pixels"]}').field).toBe("detail/1");
    expect(err('{"type":"subscribe","detail":"blocks"}').field).toBe("detail");
    expect(err('{"type":"seek","t":1,"when":"now"}')).toEqual({
      type: "error",
      field: "when",
      message: 'when: unknown field in a "seek" message',
    });
  });

  it("rejects malformed JSON, non-objects, unknown types and commands for another run", () => {
    expect(err("{not json").message).toMatch(/^malformed JSON: /);
    expect(err("[1,2]").field).toBe("type");
    expect(err("42").field).toBe("type");
    expect(err("null").field).toBe("type");
    expect(err('{"speed":2}').field).toBe("type");
    expect(err('{"type":7}').field).toBe("type");
    expect(err('{"type":"paus"}')).toEqual({
      type: "error",
      field: "type",
      message: 'type: unknown message type "paus"; expected one of play, pause, step, speed, seek, subscribe (did you mean pause?)',
    });
    expect(err('{"type":"toString"}').field).toBe("type");
    expect(err('{"type":"__proto__"}').field).toBe("type");
    expect(err('{"type":"play","runId":"run-other"}')).toEqual({
      type: "error",
      field: "runId",
      message: "runId: this stream belongs to run run-abc, not run-other",
    });
    expect(err("x".repeat(MAX_CLIENT_MESSAGE_BYTES + 1)).message).toMatch(/too large/);
    expect(err(12345 as unknown).message).toMatch(/text message/);
  });

  it("fuzz: thousands of random and mutated messages never throw and every reply is well-formed", () => {
    const valid = fc.constantFrom(
      '{"type":"play"}',
      '{"type":"step","n":5}',
      '{"type":"speed","speed":"max"}',
      '{"type":"seek","t":12.5}',
      '{"type":"subscribe","detail":["blocks"]}',
    );
    // Mutations of valid messages: truncation, byte flips, insertions.
    const mutated = fc
      .tuple(valid, fc.nat(), fc.integer({ min: 0, max: 0xffff }), fc.constantFrom("cut", "flip", "insert"))
      .map(([s, i, ch, op]) => {
        const k = i % (s.length + 1);
        if (op === "cut") return s.slice(0, k);
        if (op === "flip") return s.slice(0, k) + String.fromCharCode(ch) + s.slice(k + 1);
        return s.slice(0, k) + String.fromCharCode(ch) + s.slice(k);
      });
    const structured = fc
      .record(
        {
          type: fc.oneof(fc.constantFrom(...CLIENT_MESSAGE_TYPES), fc.string(), fc.integer(), fc.constant(null)),
          n: fc.oneof(fc.integer(), fc.double(), fc.string()),
          speed: fc.oneof(fc.double(), fc.constant("max"), fc.string(), fc.boolean()),
          t: fc.oneof(fc.double(), fc.string(), fc.constant(null)),
          detail: fc.oneof(fc.array(fc.string()), fc.array(fc.constantFrom("blocks", "memory")), fc.string()),
          runId: fc.oneof(fc.constant(RUN), fc.string()),
          extra: fc.anything(),
        },
        { requiredKeys: [] },
      )
      .map((o) => JSON.stringify(o));
    const anything = fc.oneof(fc.string(), fc.json(), fc.anything().map((v) => JSON.stringify(v) ?? "undefined"));
    let oks = 0;
    let errors = 0;
    fc.assert(
      fc.property(fc.oneof(valid, mutated, structured, anything), (raw) => {
        const r = parseClientMessage(raw, RUN);
        if (r.ok) {
          oks++;
          expect(CLIENT_MESSAGE_TYPES).toContain(r.message.type);
        } else {
          errors++;
          expect(errorShape.Check(r.error), JSON.stringify(r.error)).toBe(true);
          expect(r.error.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 5000, seed: 6 },
    );
    expect(oks + errors).toBe(5000);
    expect(oks).toBeGreaterThan(0);
    expect(errors).toBeGreaterThan(1000);
  });
});
