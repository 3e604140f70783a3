// After a restart: everything the model knows, checked over HTTP. Acknowledged writes must be
// there with exactly the acknowledged values, acknowledged deletes gone; a cut-off request may
// have landed or not, and the checker learns which and continues from there.
import { type ApiRecord, type Model, pick, same, show } from "./model.ts";

const CHECK_CONCURRENCY = 16;
const CLINICAL_FIELDS = ["diagnosis", "medications"] as const;

/** Run `fn` over `items` with at most `n` in flight. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Every record by id: the acknowledged state, or one of the outcomes a cut-off request allows. */
async function checkEntries(url: string, model: Model, problems: string[]): Promise<void> {
  await pool([...model.entries.values()], CHECK_CONCURRENCY, async (e) => {
    const res = await fetch(`${url}/api/users/${e.id}`);
    const body = res.status === 200 ? ((await res.json()) as ApiRecord) : (await res.arrayBuffer(), null);
    if (res.status !== 200 && res.status !== 404) {
      problems.push(`GET ${e.id} -> ${res.status}`);
      return;
    }
    const p = e.pending;
    if (p === null) {
      if (e.rec === null && body !== null) problems.push(`acknowledged delete came back: ${show(body)}`);
      else if (e.rec !== null && !same(body, e.rec)) problems.push(`acknowledged ${show(e.rec)}, after restart ${show(body)}`);
      return;
    }
    const prev = e.rec!;
    if (p.kind === "delete") {
      if (body === null) {
        model.outcome("in-flight delete applied");
        e.rec = null;
        if (p.gdpr) model.deidentified[1]++; // its clinical half was de-identified, or reconciled away
      } else if (same(body, prev)) {
        model.outcome("in-flight delete not applied");
        model.idle.push(e.id);
      } else problems.push(`in-flight delete of ${show(prev)}: after restart ${show(body)}`);
    } else {
      const full = { ...prev, ...p.patch, updatedAt: body?.updatedAt };
      // §5: "An unacknowledged update may be partly applied": clinical half first, so the only
      // mixed state is new clinical values with the old identity half (and old updatedAt).
      const mixed = { ...prev, ...pick(p.patch, CLINICAL_FIELDS) };
      if (body === null) problems.push(`record ${e.id} vanished after an in-flight update of ${show(prev)}`);
      else if (same(body, prev) && !p.acked) model.outcome("in-flight update not applied");
      else if (same(body, full) && body.updatedAt >= prev.updatedAt) model.outcome("in-flight update applied");
      else if (same(body, mixed) && !p.acked) model.outcome("in-flight update half applied (clinical only)");
      else problems.push(`${p.acked ? "acknowledged" : "in-flight"} update ${show(p.patch)} of ${show(prev)}: after restart ${show(body)}`);
      if (body !== null) {
        e.rec = body;
        model.idle.push(e.id);
      }
    }
    e.pending = null;
  });
}

/** The whole list: every record is one the model knows, or an unanswered create that landed. */
async function checkList(url: string, model: Model, problems: string[]): Promise<void> {
  const listed: ApiRecord[] = [];
  for (let path: string | null = "/api/users?limit=500"; path !== null; ) {
    const res: Response = await fetch(url + path);
    if (res.status !== 200) {
      problems.push(`GET ${path} -> ${res.status} ${await res.text()}`);
      return;
    }
    listed.push(...((await res.json()) as ApiRecord[]));
    path = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get("link") ?? "")?.[1] ?? null;
  }
  const byFirstName = new Map(model.pendingCreates.map((c) => [c.body.firstName, c]));
  for (const rec of listed) {
    const e = model.entries.get(rec.id);
    if (e) {
      if (!same(rec, e.rec)) problems.push(`listed ${show(rec)}, expected ${show(e.rec)}`);
      continue;
    }
    const c = byFirstName.get(rec.firstName);
    if (c && same(rec, { ...c.body, id: rec.id, createdAt: rec.createdAt, updatedAt: rec.updatedAt })) {
      model.outcome("in-flight create applied");
      byFirstName.delete(rec.firstName);
      model.add(rec);
    } else problems.push(`a record nobody created: ${show(rec)}`);
  }
  for (const c of byFirstName.values()) {
    if (c.mustExist) problems.push(`a create answered 201 is missing: ${show(c.body)}`);
    else model.outcome("in-flight create not applied");
  }
  model.pendingCreates = [];
  if (listed.length !== model.live().length) problems.push(`listed ${listed.length} records, the model has ${model.live().length}`);
}

/** The server answers as a whole again: /health ok, and /stats counts what the model holds. */
async function checkServes(url: string, model: Model, problems: string[]): Promise<void> {
  const health = await fetch(`${url}/health`);
  const status = ((await health.json()) as { status?: string }).status;
  if (health.status !== 200 || status !== "ok") problems.push(`/health -> ${health.status} ${status}`);
  const stats = (await (await fetch(`${url}/stats`)).json()) as {
    database: { identity: number; clinical: number; deidentified: number };
  };
  const db = stats.database;
  if (db.identity !== model.live().length) problems.push(`/stats: ${db.identity} identity rows, the model has ${model.live().length}`);
  if (db.clinical - db.deidentified !== db.identity) problems.push(`/stats: ${show(db)}: linked clinical halves != identity halves`);
}

/** Everything the model knows, checked on a freshly restarted server; returns the problems. */
export async function checkServer(url: string, model: Model): Promise<string[]> {
  const problems: string[] = [];
  await checkEntries(url, model, problems);
  await checkList(url, model, problems);
  await checkServes(url, model, problems);
  return problems;
}
