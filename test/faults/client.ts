// HTTP to a server under a fault: every answer with its status, error code and round-trip time,
// and a ledger of what the server acknowledged, to prove afterwards that nothing was lost.
import { userBody } from "../helpers.ts";

export type ApiRecord = { id: string } & Record<string, unknown>;
export interface Answer {
  status: number;
  /** the JSON error code of an error answer, else null */
  code: string | null;
  body: unknown;
  ms: number;
}

const JSON_CT = { "content-type": "application/json" };

export async function call(url: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const t0 = performance.now();
  const res = await fetch(url + path, { method, headers: body === undefined ? {} : JSON_CT, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const ms = performance.now() - t0;
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  const code = (parsed as { error?: { code?: string } } | null)?.error?.code ?? null;
  return { status: res.status, code, body: parsed, ms };
}

/** Every record the server acknowledged (null once a delete was acknowledged). */
export class Ledger {
  readonly acked = new Map<string, ApiRecord | null>();
  /** bodies of creates answered 503: none of them may ever show up */
  readonly refusedCreates: Record<string, unknown>[] = [];
  /** updates answered 503: "may be partly applied; repeating it converges" (README) */
  readonly refusedUpdates: { id: string; patch: Record<string, unknown> }[] = [];

  constructor(readonly url: () => string) {}

  async create(): Promise<Answer> {
    const body = userBody();
    const a = await call(this.url(), "POST", "/api/users", body);
    if (a.status === 201) this.acked.set((a.body as ApiRecord).id, a.body as ApiRecord);
    else this.refusedCreates.push(body);
    return a;
  }

  async update(id: string, patch: Record<string, unknown>): Promise<Answer> {
    const a = await call(this.url(), "PATCH", `/api/users/${id}`, patch);
    if (a.status === 200) this.acked.set(id, a.body as ApiRecord);
    else if (a.status === 503) this.refusedUpdates.push({ id, patch });
    return a;
  }

  async remove(id: string): Promise<Answer> {
    const a = await call(this.url(), "DELETE", `/api/users/${id}`);
    // erasure_incomplete: the identity half is gone, the record with it (README)
    if (a.status === 204 || a.code === "erasure_incomplete") this.acked.set(id, null);
    return a;
  }

  /** What a client does once the fault is gone: repeat each refused update. */
  async retryRefused(): Promise<Answer[]> {
    const answers: Answer[] = [];
    for (const { id, patch } of this.refusedUpdates.splice(0)) answers.push(await this.update(id, patch));
    return answers;
  }

  /** Some id of a live acknowledged record. */
  live(n = 0): string {
    const ids = [...this.acked].filter(([, r]) => r !== null).map(([id]) => id);
    const id = ids[n % ids.length];
    if (id === undefined) throw new Error("no live record in the ledger");
    return id;
  }

  /** Problems: acknowledged records read back differently, deleted ones back, refused ones present. */
  async verify(): Promise<string[]> {
    const problems: string[] = [];
    for (const [id, want] of this.acked) {
      const a = await call(this.url(), "GET", `/api/users/${id}`);
      if (want === null ? a.status !== 404 : a.status !== 200 || !Bun.deepEquals(a.body, want, true)) {
        problems.push(`${id}: acknowledged ${JSON.stringify(want)}, read ${a.status} ${JSON.stringify(a.body)}`);
      }
    }
    const list = await call(this.url(), "GET", "/api/users?limit=500");
    const listed = list.body as ApiRecord[];
    const live = [...this.acked.values()].filter((r) => r !== null).length;
    if (list.status !== 200 || listed.length !== live) problems.push(`list: ${list.status}, ${Array.isArray(listed) ? listed.length : "?"} records, ${live} acknowledged`);
    const names = new Set(this.refusedCreates.map((b) => b.firstName));
    for (const r of Array.isArray(listed) ? listed : []) if (names.has(r.firstName)) problems.push(`a create answered 503 is stored: ${r.id}`);
    return problems;
  }
}
