import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GroupCommit, LOCK_WAIT_MS, type WriteContext } from "./group-commit.ts";
import { BUSY_TIMEOUT_MS } from "./sqlite.ts";

// Two real SQLite files (in memory is enough here: the unit is the transaction logic).
function pair() {
  const first = new Database(":memory:", { strict: true });
  const second = new Database(":memory:", { strict: true });
  first.run("CREATE TABLE t (k TEXT PRIMARY KEY)");
  // a deferred foreign key fails at COMMIT, not at the statement: a commit we can make fail
  second.run("PRAGMA foreign_keys = ON");
  second.run("CREATE TABLE parent (k TEXT PRIMARY KEY)");
  second.run("CREATE TABLE t (k TEXT PRIMARY KEY, p TEXT REFERENCES parent(k) DEFERRABLE INITIALLY DEFERRED)");
  let orphans = 0;
  const gc = new GroupCommit(first, second, () => orphans++);
  const rows = (db: Database) => db.query<{ k: string }, []>("SELECT k FROM t ORDER BY k").all().map((r) => r.k);
  return { first, second, gc, rows, orphans: () => orphans };
}

/** A write in both stores, like a create: first store, then second, with its undo. */
function write(p: ReturnType<typeof pair>, k: string, parent: string | null = null) {
  return (ctx: WriteContext) => {
    p.first.run("INSERT INTO t (k) VALUES (?)", [k]);
    ctx.undo(() => p.first.run("DELETE FROM t WHERE k = ?", [k]));
    p.second.run("INSERT INTO t (k, p) VALUES (?, ?)", [k, parent]);
    return k;
  };
}

const open: ReturnType<typeof pair>[] = [];
afterEach(() => open.splice(0).forEach((p) => (p.first.close(), p.second.close())));
function fresh() {
  const p = pair();
  open.push(p);
  return p;
}

describe("GroupCommit", () => {
  test("jobs queued in one turn share one transaction per store; all are written", async () => {
    const p = fresh();
    const keys = Array.from({ length: 300 }, (_, i) => `k${String(i).padStart(3, "0")}`);
    expect(await Promise.all(keys.map((k) => p.gc.run(write(p, k))))).toEqual(keys);
    expect(p.gc.batches).toBe(1);
    expect(p.gc.jobs).toBe(300);
    expect(p.rows(p.first)).toEqual(keys);
    expect(p.rows(p.second)).toEqual(keys);
    expect(p.first.inTransaction || p.second.inTransaction).toBe(false);
  });

  test("batches are capped; the rest follow in the next turns", async () => {
    const p = fresh();
    const gc = new GroupCommit(p.first, p.second, () => {}, 10);
    await Promise.all(Array.from({ length: 25 }, (_, i) => gc.run(write(p, `k${i}`))));
    expect([gc.batches, gc.jobs]).toEqual([3, 25]);
    expect(p.rows(p.second).length).toBe(25);
  });

  test("nothing is answered before the commit: a job's promise settles after both stores commit", async () => {
    const p = fresh();
    let seenCommitted = false;
    const done = p.gc.run(write(p, "a")).then(() => {
      // a separate connection would see it; here: no transaction is open any more
      seenCommitted = !p.first.inTransaction && !p.second.inTransaction && p.rows(p.second).includes("a");
    });
    expect(p.rows(p.second)).toEqual([]); // queued, not yet written
    await done;
    expect(seenCommitted).toBe(true);
  });

  test("a failing job fails alone and leaves nothing in either store", async () => {
    const p = fresh();
    const bad = (ctx: WriteContext) => {
      write(p, "bad")(ctx);
      throw new Error("boom after both writes");
    };
    const results = await Promise.allSettled([p.gc.run(write(p, "a")), p.gc.run(bad), p.gc.run(write(p, "b"))]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(p.rows(p.first)).toEqual(["a", "b"]);
    expect(p.rows(p.second)).toEqual(["a", "b"]);
  });

  test("committed() hooks run only after a successful commit, once per job", async () => {
    const p = fresh();
    let n = 0;
    const counted = (k: string, parent: string | null = null) => (ctx: WriteContext) => {
      ctx.committed(() => n++);
      return write(p, k, parent)(ctx);
    };
    await Promise.all([p.gc.run(counted("a")), p.gc.run(counted("b"))]);
    expect(n).toBe(2);
    await Promise.allSettled([p.gc.run(counted("c")), p.gc.run(counted("d", "no-such-parent"))]);
    expect(n).toBe(2);
  });

  test("when the second commit fails, every job is rejected and the first store is put back", async () => {
    const p = fresh();
    await p.gc.run(write(p, "kept"));
    // one job's deferred FK violation fails the second store's COMMIT for the whole batch
    const results = await Promise.allSettled([p.gc.run(write(p, "x")), p.gc.run(write(p, "y", "no-such-parent"))]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(p.rows(p.first)).toEqual(["kept"]);
    expect(p.rows(p.second)).toEqual(["kept"]);
    expect(p.orphans()).toBe(0);
    expect(p.first.inTransaction || p.second.inTransaction).toBe(false);
    // and the next batch works
    await p.gc.run(write(p, "z"));
    expect(p.rows(p.second)).toEqual(["kept", "z"]);
  });

  test("when the first store cannot begin, nothing is written and every job is rejected", async () => {
    const p = fresh();
    p.first.run("BEGIN"); // a transaction left open makes BEGIN IMMEDIATE fail
    const results = await Promise.allSettled([p.gc.run(write(p, "a")), p.gc.run(write(p, "b"))]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(p.second.inTransaction).toBe(false);
    expect(p.rows(p.second)).toEqual([]);
  });

  test("a write lock held longer than SQLite's busy timeout is waited out off the event loop; past LOCK_WAIT_MS the batch fails", async () => {
    const dir = mkdtempSync(join(tmpdir(), "privata-gc-"));
    try {
      const [a, b] = ["a.db", "b.db"].map((f) => new Database(join(dir, f), { strict: true }));
      for (const db of [a!, b!]) (db.run("PRAGMA journal_mode = WAL"), db.run("CREATE TABLE t (k TEXT PRIMARY KEY)"));
      const gc = new GroupCommit(a!, b!, () => {});
      const put = (k: string) => (ctx: WriteContext) => (a!.run("INSERT INTO t VALUES (?)", [k]), b!.run("INSERT INTO t VALUES (?)", [k]), ctx, k);
      const holder = new Database(join(dir, "a.db"), { strict: true }); // the checkpoint thread, say
      holder.run("BEGIN IMMEDIATE");
      const held = BUSY_TIMEOUT_MS * 2.5;
      setTimeout(() => holder.run("COMMIT"), held);
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5); // the event loop keeps turning meanwhile
      const t0 = performance.now();
      expect(await gc.run(put("x"))).toBe("x");
      clearInterval(timer);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(held - 5);
      expect(ticks).toBeGreaterThan(10);
      holder.run("BEGIN IMMEDIATE"); // now held for good: the batch gives up after LOCK_WAIT_MS
      const t1 = performance.now();
      await expect(gc.run(put("y"))).rejects.toThrow();
      expect(performance.now() - t1).toBeGreaterThanOrEqual(LOCK_WAIT_MS - 5);
      holder.run("ROLLBACK");
      for (const db of [holder, a!, b!]) db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("drain() writes what is queued at once", () => {
    const p = fresh();
    void p.gc.run(write(p, "a"));
    p.gc.drain();
    expect(p.rows(p.second)).toEqual(["a"]);
  });
});
