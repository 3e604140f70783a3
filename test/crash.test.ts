// kill -9 at random instants under concurrent write traffic (DESIGN §1 guarantee 4, §5):
// "Acknowledged means stored ... a crash at any instant loses no acknowledged write and leaves
// no half of a record visible." Real server processes, real HTTP on loopback, real SIGKILL.
//
// Each mode runs CYCLES rounds on one data dir and one key: start, check everything the model
// knows, drive LOOPS concurrent writers (create / PATCH / DELETE, some gdprCompliant), SIGKILL
// after a random delay, then check the raw files while the server is down and everything
// again after the restart. A request that got no answer may or may not have been applied;
// the checker accepts both outcomes, learns which one happened, and continues from there.
// Set CRASH_SEED to replay a run (the seed is printed when a check fails), CRASH_VERBOSE=1
// to print per-cycle numbers.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Pseudonymizer } from "../src/crypto/pseudonym.ts";
import { removeDir, tempDir, userBody } from "./helpers.ts";
import { killAll, startProcess, type Started } from "./process.ts";
import { rng as prng } from "../bench/seed.ts";

const ROOT = join(import.meta.dir, "..");
const CYCLES = 6;
const LOOPS = 8;
const KILL_AFTER_MS: [number, number] = [100, 600];
const CHECK_CONCURRENCY = 16;
const JSON_CT = { "content-type": "application/json" };
const CLINICAL_FIELDS = ["diagnosis", "medications"] as const;
const IDENTITY_FIELDS = ["firstName", "lastName", "email", "accountType"] as const;
const VERBOSE = process.env.CRASH_VERBOSE === "1";

type ApiRecord = { id: string; updatedAt: string } & Record<string, unknown>;
type Body = Record<string, unknown>;

const dirs: string[] = [];
afterAll(async () => {
  await killAll();
  for (const d of dirs) removeDir(d);
});


const same = (a: unknown, b: unknown) => Bun.deepEquals(a, b, true);
const show = (v: unknown) => JSON.stringify(v);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** One record the test has seen acknowledged (or adopted after an unanswered create landed). */
interface Entry {
  id: string;
  /** last known state; null = acknowledged (or observed) deleted */
  rec: ApiRecord | null;
  /** a request sent for this record that got no complete answer */
  pending: { kind: "update"; patch: Body; acked: boolean } | { kind: "delete"; gdpr: boolean } | null;
}

interface CycleStats {
  creates: number;
  updates: number;
  deletes: number;
  inflight: { create: number; update: number; delete: number };
  outcomes: Record<string, number>;
  orphansBeforeRestart: number;
}

class Model {
  readonly entries = new Map<string, Entry>();
  /** live records with no request in flight: at most one request per record at a time */
  readonly idle: string[] = [];
  /** create bodies sent without a complete answer; mustExist when a 201 status arrived */
  pendingCreates: { body: Body; mustExist: boolean }[] = [];
  /** de-identified clinical halves expected in clinical.db: [lo, hi] */
  deidentified: [number, number] = [0, 0];
  readonly problems: string[] = [];
  stats = Model.freshStats();

  static freshStats(): CycleStats {
    return {
      creates: 0, updates: 0, deletes: 0,
      inflight: { create: 0, update: 0, delete: 0 },
      outcomes: {}, orphansBeforeRestart: 0,
    };
  }

  live(): Entry[] {
    return [...this.entries.values()].filter((e) => e.rec !== null);
  }

  add(rec: ApiRecord): void {
    this.entries.set(rec.id, { id: rec.id, rec, pending: null });
    this.idle.push(rec.id);
  }

  take(rng: () => number): Entry | null {
    if (this.idle.length === 0) return null;
    const i = Math.floor(rng() * this.idle.length);
    const id = this.idle[i]!;
    this.idle[i] = this.idle[this.idle.length - 1]!;
    this.idle.pop();
    return this.entries.get(id)!;
  }

  outcome(name: string): void {
    this.stats.outcomes[name] = (this.stats.outcomes[name] ?? 0) + 1;
  }
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

function pick(obj: Body, keys: readonly string[]): Body {
  return Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, obj[k]]));
}

/** Drive one writer until the kill. Every answered request updates the model. */
async function writer(url: string, model: Model, rng: () => number, ctx: { killed: boolean }): Promise<void> {
  const unexpected = (what: string) => {
    if (!ctx.killed) model.problems.push(`before the kill: ${what}`);
  };
  while (!ctx.killed) {
    const r = rng();
    const entry = r < 0.5 ? null : model.take(rng);
    if (entry === null) {
      // create
      const body = userBody();
      let res: Response;
      try {
        res = await fetch(`${url}/api/users`, { method: "POST", headers: JSON_CT, body: JSON.stringify(body) });
      } catch (err) {
        unexpected(`POST failed: ${(err as Error).message}`);
        model.pendingCreates.push({ body, mustExist: false });
        model.stats.inflight.create++;
        return;
      }
      let text: string;
      try {
        text = await res.text();
      } catch (err) {
        unexpected(`POST body failed: ${(err as Error).message}`);
        model.pendingCreates.push({ body, mustExist: res.status === 201 });
        model.stats.inflight.create++;
        return;
      }
      if (res.status !== 201) {
        model.problems.push(`POST -> ${res.status} ${text}`);
        continue;
      }
      const rec = JSON.parse(text) as ApiRecord;
      const want = { ...body, id: rec.id, createdAt: rec.createdAt, updatedAt: rec.updatedAt };
      if (!same(rec, want)) model.problems.push(`POST answered ${text}, sent ${show(body)}`);
      model.add(rec);
      model.stats.creates++;
    } else if (r < 0.8) {
      // update a record acknowledged earlier in this test
      const patch = randomPatch(rng);
      entry.pending = { kind: "update", patch, acked: false };
      let res: Response;
      try {
        res = await fetch(`${url}/api/users/${entry.id}`, { method: "PATCH", headers: JSON_CT, body: JSON.stringify(patch) });
      } catch (err) {
        unexpected(`PATCH failed: ${(err as Error).message}`);
        model.stats.inflight.update++;
        return;
      }
      let text: string;
      try {
        text = await res.text();
      } catch (err) {
        unexpected(`PATCH body failed: ${(err as Error).message}`);
        entry.pending.acked = res.status === 200;
        model.stats.inflight.update++;
        return;
      }
      entry.pending = null;
      model.idle.push(entry.id);
      if (res.status !== 200) {
        model.problems.push(`PATCH ${entry.id} -> ${res.status} ${text}`);
        continue;
      }
      const rec = JSON.parse(text) as ApiRecord;
      const want = { ...entry.rec, ...patch, updatedAt: rec.updatedAt };
      if (!same(rec, want)) model.problems.push(`PATCH answered ${text}, expected ${show(want)}`);
      entry.rec = rec;
      model.stats.updates++;
    } else {
      // delete a record acknowledged earlier in this test, half of them gdprCompliant
      const gdpr = rng() < 0.5;
      entry.pending = { kind: "delete", gdpr };
      let res: Response;
      try {
        res = await fetch(`${url}/api/users/${entry.id}${gdpr ? "?gdprCompliant=true" : ""}`, { method: "DELETE" });
        await res.arrayBuffer().catch(() => {});
      } catch (err) {
        unexpected(`DELETE failed: ${(err as Error).message}`);
        model.stats.inflight.delete++;
        return;
      }
      entry.pending = null;
      if (res.status !== 204) {
        model.problems.push(`DELETE ${entry.id} -> ${res.status}`);
        model.idle.push(entry.id);
        continue;
      }
      entry.rec = null;
      if (gdpr) {
        model.deidentified[0]++;
        model.deidentified[1]++;
      }
      model.stats.deletes++;
    }
  }
}

/** Run `fn` over `items` with at most `n` in flight. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function readOnly<T>(path: string, fn: (db: Database) => T): T {
  const db = new Database(path, { readonly: true, strict: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

interface RawState {
  identityIds: string[];
  /** pseudonyms (hex) of the clinical halves that are not de-identified */
  linked: Set<string>;
  deidentified: number;
}

function integrityOk(dataDir: string): void {
  for (const f of ["identity.db", "clinical.db"]) {
    const rows = readOnly(join(dataDir, f), (db) => db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").all());
    expect(`${f}: ${rows.map((r) => r.integrity_check).join("; ")}`).toBe(`${f}: ok`);
  }
}

function rawState(dataDir: string): RawState {
  const identityIds = readOnly(join(dataDir, "identity.db"), (db) =>
    db.query<{ id: string }, []>("SELECT id FROM users").all().map((r) => r.id),
  );
  return readOnly(join(dataDir, "clinical.db"), (db) => {
    const rows = db.query<{ pseudonym: Uint8Array; deidentified: number }, []>("SELECT pseudonym, deidentified FROM users").all();
    return {
      identityIds,
      linked: new Set(rows.filter((r) => r.deidentified === 0).map((r) => hex(r.pseudonym))),
      deidentified: rows.filter((r) => r.deidentified !== 0).length,
    };
  });
}

/** Identity halves whose clinical half is missing: a visible half record. Returns the orphans. */
function splitHalves(raw: RawState, pz: Pseudonymizer): { halfVisible: string[]; orphans: number } {
  const expected = new Set(raw.identityIds.map((id) => hex(pz.pseudonym(id))));
  const halfVisible = raw.identityIds.filter((id) => !raw.linked.has(hex(pz.pseudonym(id))));
  const orphans = [...raw.linked].filter((p) => !expected.has(p)).length;
  return { halfVisible, orphans };
}

/** Everything the model knows, checked over HTTP on a freshly restarted server. */
async function checkServer(s: Started, model: Model): Promise<void> {
  const problems: string[] = [];
  const entries = [...model.entries.values()];
  await pool(entries, CHECK_CONCURRENCY, async (e) => {
    const res = await fetch(`${s.url}/api/users/${e.id}`);
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
      else {
        problems.push(
          `${p.acked ? "acknowledged" : "in-flight"} update ${show(p.patch)} of ${show(prev)}: after restart ${show(body)}`,
        );
      }
      if (body !== null) {
        e.rec = body;
        model.idle.push(e.id);
      }
    }
    e.pending = null;
  });

  // The whole list: every record is one the model knows, or an unanswered create that landed.
  const listed: ApiRecord[] = [];
  for (let path: string | null = "/api/users?limit=500"; path !== null; ) {
    const res: Response = await fetch(s.url + path);
    expect(res.status).toBe(200);
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

  const health = await fetch(`${s.url}/health`);
  expect(health.status).toBe(200);
  expect(((await health.json()) as { status: string }).status).toBe("ok");
  const stats = (await (await fetch(`${s.url}/stats`)).json()) as {
    database: { identity: number; clinical: number; deidentified: number };
  };
  expect(stats.database.identity).toBe(model.live().length);
  expect(stats.database.clinical - stats.database.deidentified).toBe(stats.database.identity);

  expect(problems).toEqual([]);
}

async function crashCycles(durability: "normal" | "full"): Promise<void> {
  const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const rng = prng(seed); // seeded, so a failing run can be replayed with CRASH_SEED
  const dataDir = tempDir("privata-crash-");
  const keyDir = tempDir("privata-crash-key-");
  dirs.push(dataDir, keyDir);
  const keyFile = join(keyDir, "link.key");
  const cmd = [process.execPath, join(ROOT, "src", "main.ts"), "--port", "0", "--data-dir", dataDir, "--key-file", keyFile, "--durability", durability];
  const model = new Model();
  let pz: Pseudonymizer | undefined;
  let totalInflight = 0;
  let failed = true;
  try {
    for (let cycle = 0; cycle <= CYCLES; cycle++) {
      let orphans = 0;
      if (cycle > 0) {
        // Down after a SIGKILL: the raw files, exactly as the crash left them.
        integrityOk(dataDir);
        const split = splitHalves(rawState(dataDir), pz!);
        expect(split.halfVisible).toEqual([]); // an identity half without its clinical half
        const s = model.stats;
        // Only an unanswered create or delete can leave a clinical half without identity.
        expect(split.orphans).toBeLessThanOrEqual(s.inflight.create + s.inflight.delete);
        orphans = s.orphansBeforeRestart = split.orphans;
      }

      const server = await startProcess(cmd, { cwd: ROOT });
      expect(server.stderr()).toContain(`durability ${durability}`);
      pz ??= new Pseudonymizer(Buffer.from(readFileSync(keyFile, "utf8").trim(), "hex"));
      if (cycle > 0) {
        const stats = (await (await fetch(`${server.url}/stats`)).json()) as { reconciledAtStartup: number };
        expect(stats.reconciledAtStartup).toBe(orphans);
        await checkServer(server, model);
        // No half left after reconciliation: the linked clinical halves are exactly the
        // identity halves' pseudonyms. The server is idle here (it only answered GETs), and a
        // read-only connection to a WAL database never writes the database or its WAL.
        const raw = rawState(dataDir);
        expect(splitHalves(raw, pz)).toEqual({ halfVisible: [], orphans: 0 });
        expect(raw.identityIds.length).toBe(model.live().length);
        expect(raw.linked.size).toBe(raw.identityIds.length);
        expect(raw.deidentified).toBeGreaterThanOrEqual(model.deidentified[0]);
        expect(raw.deidentified).toBeLessThanOrEqual(model.deidentified[1]);
        model.deidentified = [raw.deidentified, raw.deidentified];
        if (VERBOSE) console.error(`[crash ${durability} seed ${seed}] cycle ${cycle}: ${show(model.stats)}, live ${model.live().length}`);
        model.stats = Model.freshStats();
      }
      if (cycle === CYCLES) {
        // Last round: a clean stop, and the files are sound and complete when it is down.
        expect(await server.stop("SIGTERM")).toBe(0);
        integrityOk(dataDir);
        const raw = rawState(dataDir);
        expect(splitHalves(raw, pz)).toEqual({ halfVisible: [], orphans: 0 });
        expect(raw.identityIds.sort()).toEqual(model.live().map((e) => e.id).sort());
        break;
      }

      const ctx = { killed: false };
      const writers = Array.from({ length: LOOPS }, () => writer(server.url, model, rng, ctx));
      await Bun.sleep(KILL_AFTER_MS[0] + rng() * (KILL_AFTER_MS[1] - KILL_AFTER_MS[0]));
      ctx.killed = true;
      server.proc.kill("SIGKILL");
      await server.proc.exited;
      expect(server.proc.signalCode).toBe("SIGKILL");
      await Promise.all(writers);
      await server.stop(); // drains stderr; the process is already gone
      const s = model.stats;
      expect(s.creates + s.updates + s.deletes).toBeGreaterThan(0);
      totalInflight += s.inflight.create + s.inflight.update + s.inflight.delete;
      expect(model.problems).toEqual([]);
    }
    // The kills really landed among writes that had not been answered.
    expect(totalInflight).toBeGreaterThan(0);
    expect(model.problems).toEqual([]);
    failed = false;
  } finally {
    if (failed) console.error(`crash test (${durability}) failed; replay with CRASH_SEED=${seed}`);
  }
}

describe("kill -9 under concurrent writes", () => {
  for (const durability of ["normal", "full"] as const) {
    test(`durability ${durability}: ${CYCLES} SIGKILLs, no acknowledged write lost, no half record`, async () => {
      await crashCycles(durability);
    }, 40_000);
  }
});
