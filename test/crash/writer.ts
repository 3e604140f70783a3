// One concurrent writer of the crash checker: creates, PATCHes and DELETEs (half of them
// gdprCompliant) until the kill, recording every answer in the model. A request cut off by
// the kill is recorded as in flight, and the writer stops.
import { userBody } from "../helpers.ts";
import { type ApiRecord, type Body, type Entry, type Model, same, show } from "./model.ts";

const JSON_CT = { "content-type": "application/json" };

export interface WriterContext {
  url: string;
  model: Model;
  rng: () => number;
  /** set just before the SIGKILL: failures after it are expected */
  killed: boolean;
  /** above this many idle live records, creates become rarer than deletes (bounded long runs) */
  maxLive: number;
}

let uniq = 0;
/** A PATCH body: a random non-empty subset of fields, each with a fresh distinctive value. */
function randomPatch(rng: () => number): Body {
  const n = `${Date.now().toString(36)}u${(uniq++).toString(36)}`;
  const all: Body = {
    firstName: `Upd${n}`,
    lastName: `Updlast${n}`,
    email: `upd${n}@example.org`,
    accountType: `t${n}`.slice(0, 32),
    diagnosis: `UpdDiagnosis${n}`,
    medications: rng() < 0.2 ? [] : [`UpdMed${n}`],
  };
  const keys = Object.keys(all).filter(() => rng() < 0.4);
  if (keys.length === 0) keys.push(Object.keys(all)[Math.floor(rng() * 6)]!);
  return Object.fromEntries(keys.map((k) => [k, all[k]]));
}

/** Send a request and read its whole body; `status` is set once the head arrived. */
async function send(ctx: WriterContext, what: string, path: string, init: RequestInit): Promise<{ status: number | null; text: string | null }> {
  let res: Response;
  try {
    res = await fetch(ctx.url + path, init);
  } catch (err) {
    if (!ctx.killed) ctx.model.problems.push(`before the kill: ${what} failed: ${(err as Error).message}`);
    return { status: null, text: null };
  }
  try {
    return { status: res.status, text: await res.text() };
  } catch (err) {
    if (!ctx.killed) ctx.model.problems.push(`before the kill: ${what} body failed: ${(err as Error).message}`);
    return { status: res.status, text: null };
  }
}

/** false when the request was cut off (the writer stops). */
async function create(ctx: WriterContext): Promise<boolean> {
  const { model } = ctx;
  const body = userBody();
  const r = await send(ctx, "POST", "/api/users", { method: "POST", headers: JSON_CT, body: JSON.stringify(body) });
  if (r.text === null) {
    model.pendingCreates.push({ body, mustExist: r.status === 201 });
    model.stats.inflight.create++;
    return false;
  }
  if (r.status !== 201) {
    model.problems.push(`POST -> ${r.status} ${r.text}`);
    return true;
  }
  const rec = JSON.parse(r.text) as ApiRecord;
  const want = { ...body, id: rec.id, createdAt: rec.createdAt, updatedAt: rec.updatedAt };
  if (!same(rec, want)) model.problems.push(`POST answered ${r.text}, sent ${show(body)}`);
  model.add(rec);
  model.stats.creates++;
  return true;
}

async function update(ctx: WriterContext, entry: Entry): Promise<boolean> {
  const { model } = ctx;
  const patch = randomPatch(ctx.rng);
  const pending = { kind: "update" as const, patch, acked: false };
  entry.pending = pending;
  const r = await send(ctx, "PATCH", `/api/users/${entry.id}`, { method: "PATCH", headers: JSON_CT, body: JSON.stringify(patch) });
  if (r.text === null) {
    pending.acked = r.status === 200;
    model.stats.inflight.update++;
    return false;
  }
  entry.pending = null;
  model.idle.push(entry.id);
  if (r.status !== 200) {
    model.problems.push(`PATCH ${entry.id} -> ${r.status} ${r.text}`);
    return true;
  }
  const rec = JSON.parse(r.text) as ApiRecord;
  const want = { ...entry.rec, ...patch, updatedAt: rec.updatedAt };
  if (!same(rec, want)) model.problems.push(`PATCH answered ${r.text}, expected ${show(want)}`);
  entry.rec = rec;
  model.stats.updates++;
  return true;
}

async function remove(ctx: WriterContext, entry: Entry): Promise<boolean> {
  const { model } = ctx;
  const gdpr = ctx.rng() < 0.5;
  entry.pending = { kind: "delete", gdpr };
  const r = await send(ctx, "DELETE", `/api/users/${entry.id}${gdpr ? "?gdprCompliant=true" : ""}`, { method: "DELETE" });
  // A 204 has no body: the answer is complete once its status arrived.
  if (r.status === null || (r.status !== 204 && r.text === null)) {
    model.stats.inflight.delete++;
    return false;
  }
  entry.pending = null;
  if (r.status !== 204) {
    model.problems.push(`DELETE ${entry.id} -> ${r.status} ${r.text}`);
    model.idle.push(entry.id);
    return true;
  }
  entry.rec = null;
  if (gdpr) {
    model.deidentified[0]++;
    model.deidentified[1]++;
  }
  model.stats.deletes++;
  return true;
}

/** Drive one writer until the kill. Every answered request updates the model. */
export async function writer(ctx: WriterContext): Promise<void> {
  const { model, rng } = ctx;
  while (!ctx.killed) {
    const r = rng();
    const createShare = model.idle.length >= ctx.maxLive ? 0.1 : 0.5;
    const entry = r < createShare ? null : model.take(rng);
    const more = entry === null ? await create(ctx) : r < createShare + 0.3 ? await update(ctx, entry) : await remove(ctx, entry);
    if (!more) return;
  }
}
