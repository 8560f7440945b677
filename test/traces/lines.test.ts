import { describe, expect, it } from "vitest";
import { gzipSync } from "node:zlib";
import { lineBatchesFromChunks, linesFromChunks, splitLines } from "../../sim/traces/index.ts";

async function collect(chunks: Uint8Array[], gzip = false): Promise<string[]> {
  async function* gen() {
    for (const c of chunks) yield c;
  }
  const out: string[] = [];
  for await (const l of linesFromChunks(gen(), gzip, "x")) out.push(l);
  return out;
}

const enc = (s: string) => new TextEncoder().encode(s);

describe("linesFromChunks", () => {
  it("splits CRLF and LF, keeps a last line without newline, strips a BOM", async () => {
    expect(await collect([enc("\uFEFFa,b\r\nc"), enc(",d\r"), enc("\ne\nlast")])).toEqual(["a,b", "c,d", "e", "last"]);
  });

  it("a CR split from its LF across chunks, empty lines kept (the reader skips them)", async () => {
    expect(await collect([enc("a\r"), enc("\n\nb\n")])).toEqual(["a", "", "b"]);
  });

  it("multi-byte UTF-8 split across chunks", async () => {
    const bytes = enc("héllo\nwörld\n");
    expect(await collect([bytes.subarray(0, 2), bytes.subarray(2, 9), bytes.subarray(9)])).toEqual(["héllo", "wörld"]);
  });

  it("decompresses gzip with DecompressionStream, in small chunks", async () => {
    const text = Array.from({ length: 5000 }, (_, i) => `row ${i}`).join("\r\n");
    const gz = new Uint8Array(gzipSync(Buffer.from(text)));
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < gz.length; i += 777) chunks.push(gz.subarray(i, i + 777));
    const lines = await collect(chunks, true);
    expect(lines.length).toBe(5000);
    expect(lines[4999]).toBe("row 4999");
  });

  it("multi-member gzip (files joined with cat a.gz b.gz) reads every member", async () => {
    const both = new Uint8Array(Buffer.concat([gzipSync("a\nb\n"), gzipSync("c\nd")]));
    expect(await collect([both], true)).toEqual(["a", "b", "c", "d"]);
  });

  it("a consumer that stops early cancels the source (files get closed)", async () => {
    let returned = false;
    async function* gen() {
      try {
        for (let i = 0; i < 1000; i++) yield enc(`line ${i}\n`);
      } finally {
        returned = true;
      }
    }
    for await (const l of linesFromChunks(gen(), false)) if (l === "line 3") break;
    expect(returned).toBe(true);
  });

  it("an endless line (a binary file) is a UserError, not unbounded memory", async () => {
    async function* gen() {
      for (let i = 0; i < 100; i++) yield enc("x".repeat(100));
    }
    const read = async () => {
      for await (const _ of lineBatchesFromChunks(gen(), false, "bin.dat", 5000));
    };
    await expect(read()).rejects.toThrow("bin.dat: a line longer than 5000 characters");
  });

  it("splitLines matches for in-memory text", () => {
    expect(splitLines("\uFEFFa\r\nb\n")).toEqual(["a", "b"]);
    expect(splitLines("a\r\nb")).toEqual(["a", "b"]);
  });
});
