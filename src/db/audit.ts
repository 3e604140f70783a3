import type { Database, Statement } from "bun:sqlite";
import { MetaTable } from "./meta.ts";
import type { AuditRow } from "../audit/types.ts";

export const AUDIT_FILE = "audit.db";

export interface AuditFilter {
  principal?: string;
  action?: string;
  pseudonym?: string;
  /** ISO times: from inclusive, to exclusive */
  from?: string;
  to?: string;
}

const COLS = "seq, time, principal, role, action, collection, pseudonym, fields, outcome, request_id AS requestId, mac";

/** Every event of an audit.db in seq order, streamed; needs no write access (audit verify). */
export function* auditRows(db: Database): Generator<AuditRow> {
  yield* db.query<AuditRow, []>(`SELECT ${COLS} FROM events ORDER BY seq`).iterate();
}

/**
 * audit.db: the append-only event table of the audit trail. Triggers refuse UPDATE and
 * DELETE, so the server's own code cannot rewrite history by mistake; a deliberate edit of the
 * file (dropping the triggers) is what the MAC chain detects (src/audit/chain.ts).
 */
export class AuditStore {
  readonly meta: MetaTable;
  private readonly insertStmt: Statement;
  private readonly lastStmt: Statement<{ seq: number; mac: Uint8Array }>;
  private readonly aboutStmt: Statement<AuditRow, [string, number, number]>;

  constructor(readonly db: Database) {
    db.run(`CREATE TABLE IF NOT EXISTS events (
      seq INTEGER PRIMARY KEY, time TEXT NOT NULL, principal TEXT, role TEXT, action TEXT NOT NULL,
      collection TEXT, pseudonym TEXT, fields TEXT NOT NULL, outcome TEXT NOT NULL, request_id TEXT,
      mac BLOB NOT NULL)`);
    db.run("CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END");
    db.run("CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END");
    // INSERT OR REPLACE deletes the old row without firing delete triggers: only new seqs go in
    db.run("CREATE TRIGGER IF NOT EXISTS events_append_only BEFORE INSERT ON events WHEN NEW.seq <= (SELECT coalesce(max(seq), 0) FROM events) BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END");
    // The filters of GET /api/audit, in seq order. These indexes grow at their ends (few
    // principals and actions, rising times), so an append dirties a few pages per batch. No
    // index on the pseudonym: its random keys made every event dirty a page of its own (8.8
    // against 3.9 µs per event at 100 000 events, and growing with the trail); an export,
    // which is rare, scans the trail instead, in chunks (eventsAbout).
    db.run("CREATE INDEX IF NOT EXISTS events_principal ON events (principal, seq)");
    db.run("CREATE INDEX IF NOT EXISTS events_action ON events (action, seq)");
    db.run("CREATE INDEX IF NOT EXISTS events_time ON events (time)");
    this.meta = new MetaTable(db);
    this.insertStmt = db.prepare(
      "INSERT INTO events (seq, time, principal, role, action, collection, pseudonym, fields, outcome, request_id, mac) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
    );
    this.lastStmt = db.prepare("SELECT seq, mac FROM events ORDER BY seq DESC LIMIT 1");
    this.aboutStmt = db.prepare(`SELECT ${COLS} FROM events WHERE pseudonym = ? AND seq > ? AND seq <= ? ORDER BY seq`);
  }

  insert(r: AuditRow): void {
    this.insertStmt.run(r.seq, r.time, r.principal, r.role, r.action, r.collection, r.pseudonym, r.fields, r.outcome, r.requestId, r.mac);
  }

  /** The chain's head: where the next event continues it. */
  last(): { seq: number; mac: Uint8Array } | null {
    return this.lastStmt.get() ?? null;
  }

  /** Every event in seq order, streamed (the chain can be far larger than memory). */
  all(): Generator<AuditRow> {
    return auditRows(this.db);
  }

  /** The events about one record among seq in (after, upTo]: one chunk of an export's scan. */
  eventsAbout(pseudonym: string, after: number, upTo: number): AuditRow[] {
    return this.aboutStmt.all(pseudonym, after, upTo);
  }

  /** One page of events matching `f`, in seq order after `after` (keyset pagination). */
  list(f: AuditFilter, after: number, limit: number): AuditRow[] {
    const where = ["seq > $after"];
    const params: Record<string, string | number> = { after, limit };
    for (const k of ["principal", "action", "pseudonym"] as const) {
      const v = f[k];
      if (v !== undefined) {
        where.push(`${k} = $${k}`);
        params[k] = v;
      }
    }
    if (f.from !== undefined) (where.push("time >= $from"), (params.from = f.from));
    if (f.to !== undefined) (where.push("time < $to"), (params.to = f.to));
    // few distinct shapes (2^5), so SQLite's statement cache (query) keeps each one prepared
    return this.db.query<AuditRow, Record<string, string | number>>(`SELECT ${COLS} FROM events WHERE ${where.join(" AND ")} ORDER BY seq LIMIT $limit`).all(params);
  }
}
