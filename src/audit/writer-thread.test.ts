// The audit writer thread (the server's way of writing the trail), on a real audit.db: order,
// pseudonyms, settle() for GET /api/audit, another writer in between, a locked file (kept,
// retried, fail-closed bound), a clean close that loses nothing, and one that cannot write
// before its deadline and says so.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { readdirSync, readFileSync } from "node:fs";
import { appendFromCli, loadAuditKey, openAuditTrail } from "./open.ts";
import { verifyChain } from "./chain.ts";
import { auditPseudonymKey, Pseudonymizer } from "../crypto/pseudonym.ts";
import { AUDIT_FILE, auditRows } from "../db/audit.ts";
import type { AuditInput } from "./types.ts";
import { removeDir, tempDir, until } from "../../test/helpers.ts";

const LINK = new Uint8Array(32).fill(3);
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function threaded() {
  const dir = tempDir("privata-audit-thread-");
  dirs.push(dir);
  const keyFile = join(dir, "audit.key");
  const trail = openAuditTrail(dir, keyFile, "normal");
  trail.startThread(LINK);
  return { dir, keyFile, trail };
}

const read = (i: number, recordId: string): AuditInput => ({
  time: Date.UTC(2026, 10, 27, 0, 0, i), principal: "dr-a", role: "clinician", action: "read", collection: "users",
  pseudonym: null, recordId, fields: Object.freeze(["firstName"]), outcome: "ok", requestId: `req-${i}`,
});

function rowsOf(dir: string) {
  const db = new Database(join(dir, AUDIT_FILE), { readonly: true });
  try {
    return [...auditRows(db)];
  } finally {
    db.close();
  }
}

/** nice value of each of this process's threads, by thread id (Linux) */
function niceByThread(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    out.set(Number(tid), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]));
  }
  return out;
}

describe("the audit writer thread", () => {
  test.skipIf(process.platform !== "linux")("runs 5 nice levels below the process, and the event loop's own priority is untouched", async () => {
    const before = niceByThread();
    const own = before.get(process.pid)!;
    const { trail } = threaded();
    trail.log.append(read(0, Bun.randomUUIDv7()));
    await trail.log.settle(); // the thread has started and written: init (and its nice) is done
    const after = niceByThread();
    expect(after.get(process.pid)).toBe(own);
    const lowered = [...after].filter(([tid, nice]) => !before.has(tid) && nice === Math.min(19, own + 5));
    expect(lowered.length).toBeGreaterThanOrEqual(1);
    for (const [tid, nice] of before) if (after.has(tid)) expect(after.get(tid)).toBe(nice); // no thread that existed before changed
    await trail.log.close();
    trail.store.db.close();
  });

  test("writes in order, as one chain, with the pseudonyms of the ids; settle() waits for it", async () => {
    const { dir, keyFile, trail } = threaded();
    const ids = Array.from({ length: 300 }, () => Bun.randomUUIDv7());
    ids.forEach((id, i) => trail.log.append(read(i, id)));
    trail.log.append({ ...read(300, "not-an-id"), fields: ["lastName", "email"] }); // a body's keys: not frozen
    await trail.log.settle();
    expect(trail.log.backlog).toBe(0);
    const rows = rowsOf(dir);
    expect(rows.map((r) => r.requestId)).toEqual([...ids.map((_, i) => `req-${i}`), "req-300"]);
    const p = new Pseudonymizer(auditPseudonymKey(Buffer.from(LINK))); // the trail's own, not the clinical pseudonyms
    expect(rows.map((r) => r.pseudonym)).toEqual([...ids.map((id) => Buffer.from(p.pseudonym(id)).toString("hex")), null]);
    expect(JSON.stringify(rows).includes(ids[0]!)).toBe(false); // ids never reach the file
    expect([rows[0]!.fields, rows[300]!.fields]).toEqual(['["firstName"]', '["lastName","email"]']);
    // another process (privata keys) appends in between: the thread continues its chain
    appendFromCli(dir, keyFile, { ...read(301, ids[0]!), recordId: undefined, action: "key.create", principal: "cli", collection: null });
    trail.log.append(read(302, ids[1]!));
    await trail.log.close();
    trail.store.db.close();
    const verified = verifyChain(loadAuditKey(keyFile), rowsOf(dir));
    expect(verified).toMatchObject({ ok: true, events: 303 });
  });

  test("a locked file: events are kept and counted as backlog, the bound fails closed, then all are written", async () => {
    const { dir, trail } = threaded();
    trail.log.maxBacklog = 5;
    trail.log.append(read(0, Bun.randomUUIDv7()));
    await trail.log.settle();
    const other = new Database(join(dir, AUDIT_FILE));
    other.run("BEGIN IMMEDIATE"); // another process holds the write lock
    for (let i = 1; i <= 5; i++) trail.log.append(read(i, Bun.randomUUIDv7()));
    trail.log.flush();
    expect(await until(() => trail.log.failing)).toBe(true); // after the thread's busy wait (1 s)
    expect(trail.log.backlog).toBe(5);
    expect(trail.log.full).toBe(true);
    trail.log.append(read(6, Bun.randomUUIDv7())); // refused while full: counted, never kept
    expect(trail.log.dropped).toBe(1);
    other.run("ROLLBACK");
    other.close();
    expect(await until(() => !trail.log.failing && trail.log.backlog === 0)).toBe(true); // retried every second
    expect(trail.log.written).toBe(6);
    await trail.log.close();
    trail.store.db.close();
    expect(rowsOf(dir).map((r) => r.requestId)).toEqual(["req-0", "req-1", "req-2", "req-3", "req-4", "req-5"]);
  });

  test("a clean close while the file stays locked: close() returns after its wait and says how many events were lost", async () => {
    const { dir, trail } = threaded();
    trail.log.append(read(0, Bun.randomUUIDv7()));
    await trail.log.settle();
    const other = new Database(join(dir, AUDIT_FILE));
    other.run("BEGIN IMMEDIATE"); // held past the close's deadline
    for (let i = 1; i <= 3; i++) trail.log.append(read(i, Bun.randomUUIDv7()));
    const said: string[] = [];
    const error = console.error;
    console.error = (...args: unknown[]) => void said.push(args.join(" "));
    try {
      await trail.log.close(); // bounded by this test's timeout: a close that hung would fail it
    } finally {
      console.error = error;
      other.run("ROLLBACK");
      other.close();
    }
    trail.store.db.close();
    expect(said).toContain("privata: 3 audit event(s) could not be written at shutdown");
    expect(rowsOf(dir).map((r) => r.requestId)).toEqual(["req-0"]);
  }, 20_000);

  test("settle() under steady load waits only for what came before it", async () => {
    const { dir, trail } = threaded();
    let i = 0;
    const load = setInterval(() => {
      for (let k = 0; k < 20; k++) trail.log.append(read(i++, Bun.randomUUIDv7()));
    }, 1);
    await Bun.sleep(50);
    const before = i;
    await trail.log.settle(); // resolves although events keep coming
    clearInterval(load);
    expect(trail.log.written).toBeGreaterThanOrEqual(before);
    await trail.close();
    expect(rowsOf(dir)).toHaveLength(i);
  });

  test("more than the shared buffer holds waits in the log's queue; settle() waits for those too; an event too large for it goes alone; all in order", async () => {
    const { dir, trail } = threaded();
    const n = 50_000;
    const id = "y".repeat(200); // not an id (no pseudonym): ~250 bytes an event, 12 MB against a 4 MiB buffer
    for (let i = 0; i < n; i++) trail.log.append(read(i, id));
    expect(trail.log.backlog).toBe(n);
    expect(trail.log.queued).toBeGreaterThan(0); // the buffer was full: the rest waits here
    await trail.log.settle(); // GET /api/audit: what was appended before is in the file
    expect(rowsOf(dir)).toHaveLength(n);
    for (let i = n; i < 2 * n; i++) trail.log.append(read(i, id));
    trail.log.append(read(2 * n, "x".repeat(1_500_000))); // 4.5 MB at most: more than the buffer
    trail.log.append(read(2 * n + 1, "id-last"));
    await trail.close(); // no settle first: the queue is still waiting for room
    const rows = rowsOf(dir);
    expect(rows.map((r) => r.requestId)).toEqual(Array.from({ length: 2 * n + 2 }, (_, i) => `req-${i}`));
    expect(rows[2 * n]!.pseudonym).toBeNull(); // not an id: no pseudonym (and never the text)
  });

  test("a writer thread that fails (not a write: the thread) stops admission at once", async () => {
    const { trail } = threaded();
    trail.log.append(read(0, Bun.randomUUIDv7()));
    await trail.log.settle();
    expect(trail.log.full).toBe(false);
    // A window that does not match the buffer: the thread refuses to write from it and fails.
    // (The worker is private; reaching it is the only way to make the thread itself fail.)
    (trail.log as unknown as { thread: { worker: Worker } }).thread.worker.postMessage({ type: "batch", end: 0, n: 5 });
    expect(await until(() => trail.log.full)).toBe(true);
    expect(trail.log.failing).toBe(true);
    await trail.log.close(); // does not wait for a dead thread
    trail.store.db.close();
  });

  test("a clean close writes what is still queued", async () => {
    const { dir, trail } = threaded();
    for (let i = 0; i < 50; i++) trail.log.append(read(i, Bun.randomUUIDv7()));
    await trail.close(); // no settle first: the window is still open
    expect(rowsOf(dir)).toHaveLength(50);
  });
});
