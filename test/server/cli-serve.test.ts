import { describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../../bin/vramscope.mjs", import.meta.url));

describe("vramscope serve", () => {
  it("prints the URL, serves /healthz, stops on SIGTERM", async () => {
    const child = spawn(process.execPath, [bin, "serve", "--port", "0"], { env: { ...process.env, PORT: "", HOST: "" } });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d) => {
          out += String(d);
          const m = /vramscope serving on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
        setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20_000).unref();
      });
      const r = await fetch(`${url}/healthz`);
      expect((await r.json()).status).toBe("ok");
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("a bad --port is a usage error naming the flag (exit 2)", () => {
    const r = spawnSync(process.execPath, [bin, "serve", "--port", "http"], { encoding: "utf8", timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: --port: expected a port number 0..65535, got "http"\n');
  });
});
