/** REST calls to the server (same origin). Errors carry the server's message (which names the field or file:line). */
export class ApiError extends Error {
  constructor(message: string, readonly status: number, readonly field?: string) {
    super(message);
  }
}

async function asJson<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { message: text };
  }
  if (!res.ok) {
    const b = (body ?? {}) as { message?: string; error?: string; field?: string };
    throw new ApiError(b.message ?? b.error ?? `HTTP ${res.status}`, res.status, b.field);
  }
  return body as T;
}

export async function getJson<T>(path: string): Promise<T> {
  return asJson<T>(await fetch(path, { headers: { accept: "application/json" } }));
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return asJson<T>(
    await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  );
}

/** Uploads a trace file's text; the server parses it with the trace parsers and answers its id or a file:line error. */
export async function uploadTrace(name: string, text: string): Promise<Record<string, unknown>> {
  const res = await fetch(`/api/traces?name=${encodeURIComponent(name)}`, {
    method: "POST",
    headers: { "content-type": "text/plain", "x-filename": name },
    body: text,
  });
  return asJson<Record<string, unknown>>(res);
}

/** Cancels a run. `keepalive` lets the request outlive the page (called from `pagehide`). */
export async function deleteRun(id: string): Promise<void> {
  await fetch(`/api/runs/${encodeURIComponent(id)}`, { method: "DELETE", keepalive: true }).catch(() => {});
}

/**
 * Runs this page started are cancelled when the page goes away, so a closed tab does not keep a worker busy on a
 * shared server (the server also bounds concurrent runs; this just frees the slot at once).
 */
export function cancelOnPageHide(currentRunId: () => string | null): () => void {
  const onHide = () => {
    const id = currentRunId();
    if (id) void deleteRun(id);
  };
  window.addEventListener("pagehide", onHide);
  return () => window.removeEventListener("pagehide", onHide);
}
