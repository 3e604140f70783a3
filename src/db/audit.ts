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

/** The columns of a row, in the order insertValues() takes their values (appendRow puts them so). */
const COLUMNS = ["seq", "time", "principal", "role", "action", "collection", "pseudonym", "fields", "outcome", "request_id", "mac"] as const;
const INSERT_COLS = COLUMNS.join(", ");
/** The same columns read back as AuditRow's fields. */
const COLS = COLUMNS.map((c) => (c === "request_id" ? "request_id AS requestId" : c)).join(", ");
const VALUES_PER_ROW = COLUMNS.length;

/** Append `r`'s values to a batch for AuditStore.insertValues, in INSERT_COLS order. */
export function appendRow(values: unknown[], r: AuditRow): void {
  values.push(r.seq, r.time, r.principal, r.role, r.action, r.collection, r.pseudonym, r.fields, r.outcome, r.requestId, r.mac);
}
/**
 * Rows one INSERT statement takes. Each statement run has a fixed cost beside its rows: with
 * 16 rows a statement, writing a batch of 1 024 events took 10–15 % less time an event than
 * with one (micro-benchmark of ChainWriter.writeBatch, this machine).
 */
export const ROWS_PER_INSERT = 16;
const ROW = `(${Array<string>(VALUES_PER_ROW).fill("?").join(",")})`;

/** Every event of an audit.db in seq order, streamed; needs no write access (audit verify). */
export function* auditRows(db: Database): Generator<AuditRow> {
  yield* db.query<AuditRow, []>(`SELECT ${COLS} FROM events ORDER BY seq`).iterate();
}

/** Events one page of GET /api/audit examines at most: its filters use no index (see below). */
export const SCAN_LIMIT = 20_000;

/** One page of a filtered listing: `next` is where the following page starts, null at the end. */
export interface AuditPage {
  rows: AuditRow[];
  next: number | null;
}

/**
 * audit.db: the append-only event table of the audit trail. Triggers refuse UPDATE and
 * DELETE, so the server's own code cannot rewrite history by mistake; a deliberate edit of the
 * file (dropping the triggers) is what the MAC chain detects (src/audit/chain.ts).
 */
export class AuditStore {
  readonly meta: MetaTable;
  private readonly insertStmt: Statement;
  private readonly insertManyStmt: Statement;
  private readonly lastStmt: Statement<{ seq: number; mac: Uint8Array; time: string }>;
  private readonly timeStmt: Statement<{ seq: number; time: string }, [number]>;
  private readonly aboutStmt: Statement<AuditRow, [string, string, number, number]>;

  constructor(readonly db: Database) {
    db.run(`CREATE TABLE IF NOT EXISTS events (
      seq INTEGER PRIMARY KEY, time TEXT NOT NULL, principal TEXT, role TEXT, action TEXT NOT NULL,
      collection TEXT, pseudonym TEXT, fields TEXT NOT NULL, outcome TEXT NOT NULL, request_id TEXT,
      mac BLOB NOT NULL)`);
    db.run("CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END");
    db.run("CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END");
    // INSERT OR REPLACE deletes the row it replaces, and fires delete triggers only with
    // recursive_triggers on: so it is on for every connection made here (the server's, its
    // writer thread's, the CLI's), and none of them can replace an old event. Another program
    // connecting without it could, as it could drop the triggers: the MAC chain catches both. A BEFORE INSERT trigger checking max(seq) did the same for
    // about 1 µs an event, a tenth of what auditing a cached read cost; it is dropped.
    db.run("PRAGMA recursive_triggers = ON");
    db.run("DROP TRIGGER IF EXISTS events_append_only");
    // No index but the seq: each one cost about 1 µs an event (3 of the ~9 µs auditing added
    // to a cached read). Time ranges need none, since times never decrease along the chain
    // (AuditLog) and are found by binary search on seq; the other filters scan a bounded
    // range of seqs per page (list). Older files had three indexes: dropped.
    for (const ix of ["events_principal", "events_action", "events_time"]) db.run(`DROP INDEX IF EXISTS ${ix}`);
    this.meta = new MetaTable(db);
    this.insertStmt = db.prepare(`INSERT INTO events (${INSERT_COLS}) VALUES ${ROW}`);
    this.insertManyStmt = db.prepare(`INSERT INTO events (${INSERT_COLS}) VALUES ${Array<string>(ROWS_PER_INSERT).fill(ROW).join(",")}`);
    this.lastStmt = db.prepare("SELECT seq, mac, time FROM events ORDER BY seq DESC LIMIT 1");
    this.timeStmt = db.prepare("SELECT seq, time FROM events WHERE seq >= ? ORDER BY seq LIMIT 1");
    this.aboutStmt = db.prepare(`SELECT ${COLS} FROM events WHERE pseudonym IN (?, ?) AND seq > ? AND seq <= ? ORDER BY seq`);
  }

  /** Rows as their column values one after another (VALUES_PER_ROW a row, INSERT_COLS order). */
  insertValues(values: readonly unknown[]): void {
    if (values.length % VALUES_PER_ROW !== 0) throw new Error("audit rows: a row's values are missing");
    const many = VALUES_PER_ROW * ROWS_PER_INSERT;
    let i = 0;
    for (; i + many <= values.length; i += many) this.insertManyStmt.run(...(values.slice(i, i + many) as never[]));
    for (; i < values.length; i += VALUES_PER_ROW) this.insertStmt.run(...(values.slice(i, i + VALUES_PER_ROW) as never[]));
  }

  /** The chain's head: where the next event continues it (and the time it may not go below). */
  last(): { seq: number; mac: Uint8Array; time: string } | null {
    return this.lastStmt.get() ?? null;
  }

  /** Every event in seq order, streamed (the chain can be far larger than memory). */
  all(): Generator<AuditRow> {
    return auditRows(this.db);
  }

  /**
   * The events about one record among seq in (after, upTo]: one chunk of an export's scan. A
   * record may be named by either of two pseudonyms (the trail's own, and the clinical one of
   * older trails), found in one pass.
   */
  eventsAbout(a: string, b: string, after: number, upTo: number): AuditRow[] {
    return this.aboutStmt.all(a, b, after, upTo);
  }

  /** The first seq whose time is at or after `time` (last seq + 1 if none): a binary search. */
  private firstAtOrAfter(time: string, last: number): number {
    let [lo, hi] = [1, last + 1];
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = this.timeStmt.get(mid);
      if (!row || row.time >= time) hi = mid;
      else lo = row.seq + 1;
    }
    return lo;
  }

  /**
   * One page of events matching `f`, in seq order after `after` (keyset pagination): at most
   * `limit` of them, from at most SCAN_LIMIT events of the range (a few ms), so a rare
   * principal in a long trail never stalls the server; `next` then continues the scan, and a
   * page may hold fewer events than asked, or none, before the range is done.
   */
  page(f: AuditFilter, after: number, limit: number, scanLimit = SCAN_LIMIT): AuditPage {
    const last = this.last()?.seq ?? 0;
    const end = f.to !== undefined ? this.firstAtOrAfter(f.to, last) - 1 : last;
    const start = Math.max(after, f.from !== undefined ? this.firstAtOrAfter(f.from, last) - 1 : 0);
    const upTo = Math.min(end, start + scanLimit);
    const where = ["seq > $start", "seq <= $upTo"];
    const params: Record<string, string | number> = { start, upTo, limit: limit + 1 };
    for (const k of ["principal", "action", "pseudonym", "from", "to"] as const) {
      const v = f[k];
      if (v === undefined) continue;
      // from/to again as conditions, so nothing outside the range is listed. In a file whose
      // times went back (written before they were kept from decreasing) the binary search is
      // only close, and an event it placed outside [start, end] is missed.
      where.push(k === "from" ? "time >= $from" : k === "to" ? "time < $to" : `${k} = $${k}`);
      params[k] = v;
    }
    // few distinct shapes (2^5), so SQLite's statement cache (query) keeps each one prepared
    const rows = this.db.query<AuditRow, Record<string, string | number>>(`SELECT ${COLS} FROM events WHERE ${where.join(" AND ")} ORDER BY seq LIMIT $limit`).all(params);
    if (rows.length > limit) {
      rows.length = limit;
      return { rows, next: rows.at(-1)!.seq };
    }
    return { rows, next: upTo < end ? upTo : null };
  }
}
