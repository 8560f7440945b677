import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

// `npm run build` = `vite build client`: this folder is the vite root, the bundle goes to dist/client where the
// server's @fastify/static serves it. The client imports `sim/` (pure TS, one level up) for instant what-if
// previews, so the dev server must be allowed to read the repo root. `npx vite client` proxies /api to a running
// `vramscope serve` (VRAMSCOPE_API, default http://127.0.0.1:8080).
const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const api = process.env.VRAMSCOPE_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  build: {
    outDir: fileURLToPath(new URL("../dist/client", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 2000,
  },
  server: {
    fs: { allow: [repoRoot] },
    proxy: {
      // The server accepts WebSocket upgrades only from its own origin (issue 6): the dev proxy presents that origin.
      "/api": {
        target: api,
        ws: true,
        changeOrigin: true,
        configure: (proxy) => proxy.on("proxyReqWs", (proxyReq) => proxyReq.setHeader("origin", api)),
      },
      "/healthz": api,
      "/metrics": api,
    },
  },
});
