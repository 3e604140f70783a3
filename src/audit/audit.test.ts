// The audit trail on a real audit.db: batching, the append-only triggers, the chain across
// restarts, and tampering (changed byte, deleted row, swapped rows, wrong key) named at the
// right event.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../db/sqlite.ts";
import { AUDIT_FILE, AuditStore, ROWS_PER_INSERT } from "../db/audit.ts";
import { verifyChain } from "./chain.ts";
import { AuditLog, FLUSH_MS } from "./log.ts";
import type { AuditInput } from "./types.ts";
import { removeDir, tempDir } from "../../test/helpers.ts";

const KEY = new Uint8Array(32).fill(7);
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function open(dir = tempDir("privata-audit-")) {
  if (!dirs.includes(dir)) dirs.push(dir);
  const db = openStore(join(dir, AUDIT_FILE), "normal");
  const store = new AuditStore(db);
  return { dir, db, store, log: new AuditLog(store, KEY, 10) };
}

function event(i: number, over: Partial<AuditInput> = {}): AuditInput {
  return {
    time: Date.UTC(2026, 10, 27, 0, 0, i),
    principal: i % 2 ? "dr-a" : "reg-b", role: i % 2 ? "clinician" : "registrar",
    action: i % 3 ? "read" : "update", collection: "users", pseudonym: `p${i}`.padEnd(32, "0"),
    fields: ["firstName", "diagnosis"], outcome: "ok", requestId: `req-${i}`, ...over,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** a store with n events written, closed; returns its dir */
function written(n: number): string {
  const a = open();
  for (let i = 1; i <= n; i++) a.log.append(event(i));
  a.log.close();
  a.db.close(true);
  return a.dir;
}

/** open the file as an attacker would: plain SQLite, triggers dropped */
function tamper(dir: string, sql: string[]): void {
  const db = new Database(join(dir, AUDIT_FILE));
  db.run("DROP TRIGGER events_no_update");
  db.run("DROP TRIGGER events_no_delete");
  for (const s of sql) db.run(s);
  db.close();
}

const verify = (dir: string, key = KEY) => {
  const a = open(dir);
  try {
    return verifyChain(key, a.store.all());
  } finally {
    a.db.close(true);
  }
};

describe("the audit log", () => {
  test("writes the events of one window in one batch, in order, as a valid chain", async () => {
    const a = open();
    for (let i = 1; i <= 5; i++) a.log.append(event(i));
    expect(a.store.last()).toBeNull(); // only queued: nothing on the request path
    await new Promise((r) => setImmediate(r));
    expect(a.log.written).toBe(0); // the window is still open
    await Bun.sleep(FLUSH_MS + 30);
    expect(a.log.written).toBe(5);
    a.log.append(event(6));
    a.log.close();
    const rows = [...a.store.all()];
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rows[0]).toMatchObject({ principal: "dr-a", action: "read", fields: '["firstName","diagnosis"]', requestId: "req-1" });
    expect(verifyChain(KEY, rows)).toMatchObject({ ok: true, events: 6, lastSeq: 6 });
    a.db.close(true);
  });

  test("batches of any size around the rows of one INSERT are stored whole, in order, each event as appended", () => {
    const a = open();
    const sizes = [1, ROWS_PER_INSERT - 1, ROWS_PER_INSERT, ROWS_PER_INSERT + 1, 2 * ROWS_PER_INSERT + 3];
    let n = 0;
    for (const size of sizes) {
      for (let i = 0; i < size; i++) a.log.append(event(++n, { requestId: `req-${n}`, fields: [`f${n}`] }));
      expect(a.log.flush()).toBe(true); // one batch, one transaction
    }
    const rows = [...a.store.all()];
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    // every column of every row belongs to its own event (a shifted value would show here)
    rows.forEach((r, i) => {
      const e = event(i + 1);
      expect(r).toMatchObject({ time: iso(e.time), principal: e.principal, role: e.role, action: e.action, pseudonym: e.pseudonym, requestId: `req-${i + 1}`, fields: `["f${i + 1}"]`, outcome: "ok" });
    });
    expect(verifyChain(KEY, rows)).toMatchObject({ ok: true, events: n });
    a.db.close(true);
  });

  test("an event that brings its fields' JSON text (a one-off list off the ring) is stored and chained with that text", () => {
    const a = open();
    // the text wins: the writer does not encode the list again (the two never differ in the server)
    a.log.append(event(1, { fields: ["lastName"], fieldsText: '["lastName","email"]' }));
    a.log.append(event(2, { fields: ["lastName", "email"] }));
    a.log.close();
    const rows = [...a.store.all()];
    expect(rows.map((r) => r.fields)).toEqual(['["lastName","email"]', '["lastName","email"]']);
    expect(verifyChain(KEY, rows)).toMatchObject({ ok: true, events: 2 });
    a.db.close(true);
  });

  test("continues the same chain after a restart", () => {
    const dir = written(3);
    const b = open(dir);
    b.log.append(event(4));
    b.log.close();
    b.db.close(true);
    expect(verify(dir)).toMatchObject({ ok: true, events: 4 });
  });

  test("refuses UPDATE and DELETE of an event", () => {
    const a = open(written(2));
    expect(() => a.db.run("UPDATE events SET principal = 'x' WHERE seq = 1")).toThrow(/append-only/);
    expect(() => a.db.run("DELETE FROM events WHERE seq = 2")).toThrow(/append-only/);
    expect(verifyChain(KEY, a.store.all())).toMatchObject({ ok: true, events: 2 });
    a.db.close(true);
  });

  test("a batch that cannot be written is kept, retried, and the chain stays contiguous", async () => {
    const a = open(written(2));
    const other = new Database(join(a.dir, AUDIT_FILE));
    other.run("BEGIN IMMEDIATE"); // another process holds the write lock
    a.log.append(event(3));
    a.log.append(event(4));
    expect(a.log.flush()).toBe(false); // busy: retried a moment later, off the event loop
    await Bun.sleep(40); // longer than the busy retries (retryMs = 10 here): now it is failing
    expect(a.log).toMatchObject({ failing: true, backlog: 2 });
    other.run("ROLLBACK");
    other.close();
    await Bun.sleep(50); // the retry timer (10 ms here)
    expect(a.log).toMatchObject({ failing: false, backlog: 0 });
    expect(verifyChain(KEY, a.store.all())).toMatchObject({ ok: true, events: 4 });
    a.db.close(true);
  });

  test("a batch whose later rows fail leaves none of its rows, its first INSERTs included", () => {
    const a = open();
    const n = 2 * ROWS_PER_INSERT + 3;
    // a failure past the first multi-row INSERT: the rows that statement stored must go too
    a.db.run(`CREATE TRIGGER fail_late BEFORE INSERT ON events WHEN NEW.seq = ${ROWS_PER_INSERT + 4} BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`);
    for (let i = 1; i <= n; i++) a.log.append(event(i));
    expect(a.log.flush()).toBe(false);
    expect(a.store.last()).toBeNull(); // nothing of the batch is stored
    expect(a.log.backlog).toBe(n); // all of it kept for the retry
    a.db.run("DROP TRIGGER fail_late");
    expect(a.log.flush()).toBe(true);
    expect(verifyChain(KEY, a.store.all())).toMatchObject({ ok: true, events: n, lastSeq: n });
    a.db.close(true);
  });

  test("a writer that only falls behind also closes admission at the bound, and keeps every event", () => {
    const a = open();
    a.log.maxBacklog = 3;
    for (let i = 1; i <= 3; i++) a.log.append(event(i)); // queued; the window has not ended
    expect(a.log).toMatchObject({ failing: false, backlog: 3, full: true });
    a.log.append(event(4)); // a request admitted before the bound: its event is kept
    expect(a.log).toMatchObject({ backlog: 4, dropped: 0 });
    expect(a.log.flush()).toBe(true);
    expect(a.log).toMatchObject({ backlog: 0, full: false, written: 4 });
    expect(verifyChain(KEY, a.store.all())).toMatchObject({ ok: true, events: 4 });
    a.db.close(true);
  });

  test("a head whose time does not parse (a damaged file) does not stop the trail", () => {
    const a = open(written(2));
    a.db.run("DROP TRIGGER events_no_update");
    a.db.run("UPDATE events SET time = 'garbage' WHERE seq = 2");
    a.log.append(event(3));
    expect(a.log.flush()).toBe(true);
    expect(a.store.page({}, 0, 10).rows.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(verify(a.dir)).toMatchObject({ ok: false, brokenSeq: 2 }); // and the damage is named
    a.db.close(true);
  });

  test("times never decrease along the chain, whatever the clocks did", () => {
    const a = open();
    for (const s of [5, 3, 8, 1]) a.log.append(event(s));
    a.log.flush();
    a.log.append(event(2)); // a later batch, with an earlier clock
    a.log.flush();
    expect(a.store.page({}, 0, 100).rows.map((r) => r.time)).toEqual([5, 5, 8, 8, 8].map((s) => iso(event(s).time)));
    expect(verify(a.dir)).toMatchObject({ ok: true, events: 5 });
    a.db.close(true);
  });
});

describe("append-only, and nothing lost at a clean close", () => {
  test("a file of the earlier layout loses its three indexes and insert trigger, and still refuses a replace", () => {
    const dir = written(3);
    const old = new Database(join(dir, AUDIT_FILE));
    old.run("CREATE INDEX events_principal ON events (principal, seq)");
    old.run("CREATE INDEX events_time ON events (time)");
    old.run("CREATE TRIGGER events_append_only BEFORE INSERT ON events WHEN NEW.seq <= (SELECT coalesce(max(seq), 0) FROM events) BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END");
    old.close();
    const a = open(dir);
    const schema = a.db.query<{ name: string }, []>("SELECT name FROM sqlite_schema WHERE tbl_name = 'events' AND type != 'table' ORDER BY name").all();
    expect(schema.map((r) => r.name)).toEqual(["events_no_delete", "events_no_update"]);
    expect(() => a.db.run("INSERT OR REPLACE INTO events (seq, time, action, fields, outcome, mac) VALUES (2, 't', 'read', '[]', 'ok', x'00')")).toThrow(/append-only/);
    a.db.close(true);
    expect(verify(dir)).toMatchObject({ ok: true, events: 3 });
  });

  test("INSERT OR REPLACE of an old event is refused (it would delete without a delete trigger)", () => {
    const a = open(written(3));
    expect(() => a.db.run("INSERT OR REPLACE INTO events (seq, time, action, fields, outcome, mac) VALUES (1, 't', 'read', '[]', 'ok', x'00')")).toThrow(/append-only/);
    expect(verifyChain(KEY, a.store.all())).toMatchObject({ ok: true, events: 3 });
    a.db.close(true);
  });

  test("close() waits for a write lock held elsewhere (the checkpoint thread) and writes everything", async () => {
    const a = open(written(2));
    // another process holds the write lock for 300 ms, as a checkpoint's TRUNCATE may
    const holder = Bun.spawn([process.execPath, "-e", `const { Database } = require("bun:sqlite"); const db = new Database(${JSON.stringify(join(a.dir, AUDIT_FILE))}); db.run("BEGIN IMMEDIATE"); console.log("held"); Bun.sleepSync(300); db.run("COMMIT");`], { stdout: "pipe" });
    const reader = holder.stdout.getReader();
    await reader.read(); // "held"
    a.log.append(event(3));
    a.log.append(event(4));
    a.log.close();
    expect(a.log.backlog).toBe(0);
    await holder.exited;
    expect(verifyChain(KEY, a.store.all())).toMatchObject({ ok: true, events: 4 });
    a.db.close(true);
  });
});

describe("tampering is detected at the right event", () => {
  test("one changed field", () => {
    const dir = written(8);
    tamper(dir, ["UPDATE events SET outcome = 'denied' WHERE seq = 5"]);
    expect(verify(dir)).toMatchObject({ ok: false, brokenSeq: 5, events: 4 });
  });

  test("one changed byte in the file itself", () => {
    const dir = written(8);
    const path = join(dir, AUDIT_FILE);
    const bytes = readFileSync(path);
    const at = bytes.indexOf("req-6");
    expect(at).toBeGreaterThan(0);
    bytes[at + 4] = "9".charCodeAt(0); // req-6 -> req-9, nothing else changes
    writeFileSync(path, bytes);
    expect(verify(dir)).toMatchObject({ ok: false, brokenSeq: 6 });
  });

  test("one deleted event", () => {
    const dir = written(8);
    tamper(dir, ["DELETE FROM events WHERE seq = 4"]);
    expect(verify(dir)).toMatchObject({ ok: false, brokenSeq: 5, events: 3 });
  });

  test("two events swapped", () => {
    const dir = written(8);
    tamper(dir, [
      "UPDATE events SET seq = -1 WHERE seq = 3",
      "UPDATE events SET seq = 3 WHERE seq = 4",
      "UPDATE events SET seq = 4 WHERE seq = -1",
    ]);
    expect(verify(dir)).toMatchObject({ ok: false, brokenSeq: 3, events: 2 });
  });

  test("a chain checked with another key", () => {
    const dir = written(3);
    expect(verify(dir, new Uint8Array(32).fill(8))).toMatchObject({ ok: false, brokenSeq: 1, events: 0 });
  });
});

describe("listing events", () => {
  test("filters by principal, action and time range, in pages", () => {
    const a = open(written(12));
    const clin = a.store.page({ principal: "dr-a" }, 0, 100).rows;
    expect(clin.map((r) => r.seq)).toEqual([1, 3, 5, 7, 9, 11]);
    const page1 = a.store.page({ principal: "dr-a", action: "read" }, 0, 2).rows;
    const page2 = a.store.page({ principal: "dr-a", action: "read" }, page1.at(-1)!.seq, 2).rows;
    expect([...page1, ...page2].map((r) => r.seq)).toEqual([1, 5, 7, 11]);
    const window = a.store.page({ from: iso(event(4).time), to: iso(event(7).time) }, 0, 100).rows;
    expect(window.map((r) => r.seq)).toEqual([4, 5, 6]);
    expect(a.store.page({ pseudonym: event(2).pseudonym! }, 0, 100).rows.map((r) => r.seq)).toEqual([2]);
    // an export's chunked scan: events about one record, range by range, none twice or lost
    const about = (p: string) => [[0, 5], [5, 10], [10, 12]].flatMap(([x, y]) => a.store.eventsAbout(p, p, x!, y!).map((r) => r.seq));
    expect(about(event(4).pseudonym!)).toEqual([4]);
    expect(about(event(11).pseudonym!)).toEqual([11]);
    a.db.close(true);
  });
  test("a page scans a bounded stretch: fewer events, or none, with a next until the range is done", () => {
    const a = open(written(12));
    const pages: number[][] = [];
    const nexts: (number | null)[] = [];
    let after = 0;
    for (;;) {
      const { rows, next } = a.store.page({ principal: "reg-b" }, after, 100, 5); // 5 events per page examined
      pages.push(rows.map((r) => r.seq));
      nexts.push(next);
      if (next === null) break;
      after = next;
    }
    expect(pages).toEqual([[2, 4], [6, 8, 10], [12]]);
    expect(nexts).toEqual([5, 10, null]);
    // a full page ends at its last event; a range is found by time even from the middle
    expect(a.store.page({ principal: "reg-b" }, 0, 1, 5)).toMatchObject({ next: 2 });
    expect(a.store.page({ from: iso(event(9).time) }, 0, 100, 2)).toMatchObject({ next: 10 });
    expect(a.store.page({ from: iso(event(11).time) }, 10, 100, 2).rows.map((r) => r.seq)).toEqual([11, 12]);
    expect(a.store.page({ to: iso(event(3).time) }, 0, 100).rows.map((r) => r.seq)).toEqual([1, 2]);
    expect(a.store.page({ from: iso(event(13).time) }, 0, 100)).toEqual({ rows: [], next: null });
    a.db.close(true);
  });
});
