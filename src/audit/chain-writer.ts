import { appendRow, type AuditStore } from "../db/audit.ts";
import { BUSY_TIMEOUT_MS } from "../db/sqlite.ts";
import { GENESIS, macer } from "./chain.ts";
import type { AuditInput, AuditRow } from "./types.ts";

/** Record ids to pseudonyms (hex; null for what is not an id), many at once. */
export type Pseudonymize = (ids: readonly string[]) => (string | null)[];

/** Turns a batch of queued events into chained rows of audit.db (AuditLog decides when). */
export class ChainWriter {
  private readonly macOf: ReturnType<typeof macer>;
  /**
   * Most field lists are a view's constant array, frozen (Object.freeze) where it is made:
   * those are encoded once. Others (the keys of a create or update body) are new each time,
   * and are not remembered: an entry per request made the WeakMap a weight on every GC
   * (auditing cost ~6 instead of ~3 µs an event in the bench's mixed run).
   */
  private readonly fieldsJson = new WeakMap<readonly string[], string>();

  constructor(
    private readonly store: AuditStore,
    key: Uint8Array,
    private readonly pseudonymize: Pseudonymize | null,
  ) {
    this.macOf = macer(key);
  }

  /**
   * The whole batch in one transaction, or nothing of it (rolled back, the error thrown).
   * `wait`: whether to wait for a write lock held elsewhere (the busy timeout) or fail at once.
   */
  writeBatch(batch: AuditInput[], wait: boolean): void {
    const db = this.store.db;
    try {
      this.resolveIds(batch);
      if (wait) db.run("BEGIN IMMEDIATE");
      else {
        db.run("PRAGMA busy_timeout = 0");
        try {
          db.run("BEGIN IMMEDIATE");
        } finally {
          db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
        }
      }
      this.writeRows(batch);
      db.run("COMMIT");
    } catch (err) {
      if (db.inTransaction) db.run("ROLLBACK");
      throw err;
    }
  }

  /** Pseudonyms for the events that name their record by id: one call for the whole batch. */
  private resolveIds(batch: AuditInput[]): void {
    const named = batch.filter((e) => e.recordId !== undefined && e.pseudonym === null);
    if (named.length === 0) return;
    if (!this.pseudonymize) throw new Error("audit events name records by id, but the log has no pseudonymizer");
    const hex = this.pseudonymize(named.map((e) => e.recordId!));
    named.forEach((e, i) => (e.pseudonym = hex[i] ?? null));
  }

  /**
   * Chain and insert a batch, inside the caller's write transaction. The head is read as it
   * is now, under the write lock: another writer (`privata keys` auditing a key change) may
   * have appended since our last batch. One row object is reused for every event's MAC.
   */
  private writeRows(batch: readonly AuditInput[]): void {
    const head = this.store.last();
    const row: AuditRow = { seq: head?.seq ?? 0, time: "", principal: null, role: null, action: "", collection: null, pseudonym: null, fields: "", outcome: "", requestId: null, mac: head?.mac ?? GENESIS };
    // Times never decrease along the chain (a clock set back, or the CLI's clock, cannot
    // make them), so a time range is a seq range (AuditStore.page) and needs no index.
    const headMs = head ? Date.parse(head.time) : 0;
    let ms = Number.isFinite(headMs) ? headMs : 0; // a head time that does not parse must not stop the trail
    // inserted together at the end, several rows a statement (AuditStore.insertValues)
    const values: unknown[] = [];
    for (const e of batch) {
      const fields = e.fieldsText ?? this.fieldsText(e.fields);
      if (e.time > ms) ms = e.time;
      // every stored column, in order; e.recordId is not one of them (it stays in memory)
      row.seq++;
      row.time = this.iso(ms);
      row.principal = e.principal;
      row.role = e.role;
      row.action = e.action;
      row.collection = e.collection;
      row.pseudonym = e.pseudonym;
      row.fields = fields;
      row.outcome = e.outcome;
      row.requestId = e.requestId;
      row.mac = this.macOf(row.mac, row);
      appendRow(values, row);
    }
    this.store.insertValues(values);
  }

  private fieldsText(names: readonly string[]): string {
    let text = this.fieldsJson.get(names);
    if (text !== undefined) return text;
    text = JSON.stringify(names);
    // Asked only on a miss: Object.isFrozen of a frozen array costs ~0.3 µs in JSC, a lookup ~2 ns.
    if (Object.isFrozen(names)) this.fieldsJson.set(names, text);
    return text;
  }

  private isoMs = NaN;
  private isoText = "";
  /** ISO text of a time in ms; events of one millisecond share it (a toISOString each otherwise) */
  private iso(ms: number): string {
    if (ms !== this.isoMs) [this.isoMs, this.isoText] = [ms, new Date(ms).toISOString()];
    return this.isoText;
  }
}
