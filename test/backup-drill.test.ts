// The restore drill, with the compiled binary: a server under a write load (creates, updates,
// deletes) is backed up by `dist/privata backup` as a separate process, several times; each
// backup is restored into a new dir with `dist/privata restore`, a server is started on it, and
// every record acknowledged before that backup started must be there with its acknowledged
// values, every record deleted before it absent, no record half there, integrity ok.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { removeDir, tempDir, userBody } from "./helpers.ts";
import { childEnv, killAll, runSync, startProcess } from "./process.ts";

const ROOT = join(import.meta.dir, "..");
const BIN = join(ROOT, "dist", "privata");
type Rec = Record<string, unknown> & { id: string };

const dirs: string[] = [];
const dir = () => {
  const d = realpathSync(tempDir("privata-drill-"));
  dirs.push(d);
  return d;
};

/** Newest modification time of the sources the binary is built from. */
function newestSource(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((f) => newestSource(join(path, f))));
}

beforeAll(() => {
  // Build only when dist/privata is missing or older than a source (binary.test.ts always builds).
  const stale = !existsSync(BIN) || statSync(BIN).mtimeMs < Math.max(newestSource(join(ROOT, "src")), newestSource(join(ROOT, "scripts", "build.ts")));
  if (!stale) return;
  const r = Bun.spawnSync([process.execPath, "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  if (r.exitCode !== 0) console.error(r.stderr.toString());
  expect(r.exitCode).toBe(0);
}, 60_000);

afterAll(async () => {
  await killAll();
  dirs.forEach(removeDir);
});

async function send(url: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(url + path, { method, headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Run `fn` over `items`, `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

const churnBody = (tag: string, v: number) => ({ ...userBody(), lastName: `L${tag}v${v}`, diagnosis: `D${tag}v${v}` });
const versions = (r: Rec) => [/v(\d+)$/.exec(String(r.lastName))?.[1], /v(\d+)$/.exec(String(r.diagnosis))?.[1]];

test("restore drill: backups under write load restore every acknowledged record, and serve", async () => {
  const dataDir = dir();
  const keyFile = join(dir(), "link.key"); // kept apart from the data, as the README advises
  const server = await startProcess([BIN, "--port", "0", "--data-dir", dataDir, "--key-file", keyFile]);
  const url = server.url;

  // Acknowledged before any backup: stable records (some updated), and deleted ones.
  const stable = new Map<string, Rec>();
  await pool(Array.from({ length: 500 }, (_, i) => i), 16, async (i) => {
    const res = await send(url, "POST", "/api/users", userBody());
    expect(res.status).toBe(201);
    let rec = (await res.json()) as Rec;
    if (i % 5 === 0) {
      const up = await send(url, "PATCH", `/api/users/${rec.id}`, { diagnosis: `Updated ${i}`, medications: [] });
      expect(up.status).toBe(200);
      rec = (await up.json()) as Rec;
    }
    stable.set(rec.id, rec);
  });
  const deleted: string[] = [];
  await pool(Array.from({ length: 60 }, (_, i) => i), 16, async (i) => {
    const rec = (await (await send(url, "POST", "/api/users", userBody())).json()) as Rec;
    expect((await send(url, "DELETE", `/api/users/${rec.id}${i % 2 ? "?gdprCompliant=true" : ""}`)).status).toBe(204);
    deleted.push(rec.id);
  });

  // The write load: each worker owns its churn records (no two workers touch one record) and
  // writes them one request at a time, so each record's history below is in order.
  // Creates and updates write a version into both halves (lastName, diagnosis) together.
  const statuses: Record<string, number> = {};
  const latencies: { at: number; ms: number; op: string }[] = [];
  const sent = new Map<string, number>(); // churn tag -> highest version sent
  /** per churn record: when each request was sent, and when and what it acknowledged (null: deleted) */
  const history = new Map<string, { sent: number; acked: number | null; value?: Rec | null }[]>();
  let loading = true;
  const worker = async (w: number) => {
    const mine: { id: string; tag: string; v: number }[] = [];
    for (let n = 0; loading; n++) {
      const op = mine.length < 5 || n % 5 < 2 ? "create" : n % 5 < 4 ? "update" : "delete";
      const t0 = performance.now();
      let res: Response;
      let id: string | null = null;
      if (op === "create") {
        const tag = `w${w}n${n}x`;
        sent.set(tag, 0);
        res = await send(url, "POST", "/api/users", churnBody(tag, 0));
        if (res.status === 201) {
          const rec = (await res.json()) as Rec;
          mine.push({ id: (id = rec.id), tag, v: 0 });
          history.set(id, [{ sent: t0, acked: performance.now(), value: rec }]);
        }
      } else if (op === "update") {
        const r = mine[n % mine.length]!;
        sent.set(r.tag, ++r.v);
        id = r.id;
        res = await send(url, "PATCH", `/api/users/${r.id}`, { lastName: `L${r.tag}v${r.v}`, diagnosis: `D${r.tag}v${r.v}` });
        history.get(id)!.push({ sent: t0, acked: res.status === 200 ? performance.now() : null, value: res.status === 200 ? ((await res.json()) as Rec) : undefined });
      } else {
        const r = mine.splice(n % mine.length, 1)[0]!;
        id = r.id;
        res = await send(url, "DELETE", `/api/users/${r.id}${n % 2 ? "?gdprCompliant=true" : ""}`);
        history.get(id)!.push({ sent: t0, acked: res.status === 204 ? performance.now() : null, value: null });
      }
      const code = res.status >= 400 ? ((await res.json()) as { error: { code: string } }).error.code : "";
      latencies.push({ at: t0, ms: performance.now() - t0, op });
      const key = `${op} ${res.status}${code ? " " + code : ""}`;
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
  };
  const load = Promise.all(Array.from({ length: 6 }, (_, w) => worker(w)));
  await Bun.sleep(200);

  const backups: { to: string; audit: string; start: number; end: number; stdout: string }[] = [];
  for (let i = 0; i < 3; i++) {
    const [to, audit] = [join(dir(), "bk"), join(dir(), "audit")];
    const start = performance.now();
    const proc = Bun.spawn([BIN, "backup", "--data-dir", dataDir, "--key-file", keyFile, "--to", to, "--audit-to", audit], { env: childEnv(), stdout: "pipe", stderr: "pipe" });
    const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    if (code !== 0) console.error(stderr);
    expect(code).toBe(0);
    backups.push({ to, audit, start, end: performance.now(), stdout });
    await Bun.sleep(150);
  }
  loading = false;
  await load;

  // Under the load: creates and updates all succeed (the backup holds the write locks for
  // milliseconds); a delete is 204, or 503 erasure_incomplete while a backup's snapshot keeps
  // the WAL from being purged (the record is deleted; the next checkpoint purges it).
  for (const k of Object.keys(statuses)) expect(["create 201", "update 200", "delete 204", "delete 503 erasure_incomplete"]).toContain(k);
  expect(await (await send(url, "GET", "/health")).json()).toMatchObject({ status: "ok" });

  const checked: number[] = [];
  for (const b of backups) {
    const manifest = JSON.parse(readFileSync(join(b.to, "manifest.json"), "utf8"));
    const target = join(dir(), "restored");
    const auditKey = join(dataDir, "audit.key");
    const r = runSync([BIN, "restore", "--from", b.to, "--audit-from", b.audit, "--data-dir", target, "--key-file", keyFile, "--audit-key-file", auditKey]);
    expect(r.exitCode).toBe(0);
    // the trail came along, whole, with the head the manifest names
    const verified = runSync([BIN, "audit", "verify", "--data-dir", target, "--audit-key-file", auditKey]);
    expect(verified.exitCode).toBe(0);
    expect(verified.stdout).toContain(`ok, ${manifest.audit.events} events`);
    expect(verified.stdout).toContain(`head ${manifest.audit.head}`);
    const restored = await startProcess([BIN, "--port", "0", "--data-dir", target, "--key-file", keyFile, "--audit-key-file", auditKey]);
    try {
      for (const [id, rec] of stable) expect(await (await send(restored.url, "GET", `/api/users/${id}`)).json()).toEqual(rec);
      for (const id of deleted) expect((await send(restored.url, "GET", `/api/users/${id}`)).status).toBe(404);
      // Churn records too: the last state acknowledged before the backup started, unless a
      // later request was sent before the backup ended (then either state may be the copy's).
      let churnChecked = 0;
      for (const [id, h] of history) {
        const last = h.findLast((e) => e.acked !== null && e.acked < b.start);
        if (!last || h.some((e) => e.sent > last.acked! && e.sent < b.end)) continue;
        const res = await send(restored.url, "GET", `/api/users/${id}`);
        if (last.value === null) expect(res.status).toBe(404);
        else expect(await res.json()).toEqual(last.value!);
        churnChecked++;
      }
      expect(churnChecked).toBeGreaterThan(0);
      checked.push(churnChecked);
      // Every record, page by page: a record with a missing half would fail its page (503).
      const all: Rec[] = [];
      for (let path: string | null = "/api/users?limit=500"; path; ) {
        const res: Response = await send(restored.url, "GET", path);
        expect(res.status).toBe(200);
        all.push(...((await res.json()) as Rec[]));
        path = /<([^>]+)>; rel="next"/.exec(res.headers.get("link") ?? "")?.[1]?.replace(/^https?:\/\/[^/]+/, "") ?? null;
      }
      for (const rec of all.filter((x) => !stable.has(x.id))) {
        // a churn record: both halves of one write (an update never half applied), one we sent
        const [vl, vd] = versions(rec);
        expect(vl).toBe(vd!);
        const tag = /^L(.+)v\d+$/.exec(String(rec.lastName))![1]!;
        expect(Number(vl)).toBeLessThanOrEqual(sent.get(tag)!);
      }
      const stats = (await (await send(restored.url, "GET", "/stats")).json()) as { database: { identity: number; clinical: number; deidentified: number } };
      expect(stats.database.identity).toBe(all.length);
      expect(stats.database.identity).toBe(manifest.identity.records.users);
      // no orphan left: any clinical half caught mid-delete was reconciled at start
      expect(stats.database.clinical).toBe(stats.database.identity + stats.database.deidentified);
      const created = await send(restored.url, "POST", "/api/users", userBody());
      expect(created.status).toBe(201);
      expect((await send(restored.url, "GET", `/api/users/${((await created.json()) as Rec).id}`)).status).toBe(200);
    } finally {
      expect(await restored.stop()).toBe(0);
    }
    for (const f of ["identity.db", "clinical.db"]) {
      const db = new Database(join(target, f), { readonly: true });
      expect(db.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
      db.close();
    }
    const during = latencies.filter((l) => l.at >= b.start && l.at <= b.end);
    const slowest = (op: string) => Math.max(0, ...during.filter((l) => l.op === op).map((l) => l.ms)).toFixed(1);
    console.log(
      `drill: ${b.stdout.trim().replace(/^privata backup: wrote \S+ /, "")}; backup process ${Math.round(b.end - b.start)} ms; ` +
        `${during.length} writes during it, slowest create/update/delete ${slowest("create")}/${slowest("update")}/${slowest("delete")} ms; ${stable.size} stable + ${checked.at(-1)} churn records checked`,
    );
  }
  console.log(`drill: load statuses ${JSON.stringify(statuses)}`);
  expect(await server.stop()).toBe(0);
}, 60_000);
