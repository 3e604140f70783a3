/** What one audit event records: who did what to which record, never a value (DESIGN §8). */
export const AUDIT_ACTIONS = [
  "read", "list", "create", "update", "delete", "erase", "export",
  "restrict", "unrestrict", "key.list", "key.create", "key.revoke", "auth.fail", "audit.read", "audit.restart",
  "reset", "stats.read", "metrics.read",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_OUTCOMES = ["ok", "denied", "not_found", "invalid", "error"] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** An event as the server hands it in: the log gives it its place (seq) and its MAC. */
export interface AuditInput {
  /** when it happened (ms since the epoch); stored as ISO 8601, never below the event before */
  time: number;
  /** key name; null for a failed authentication or --no-auth */
  principal: string | null;
  role: string | null;
  action: AuditAction;
  collection: string | null;
  /** the record's pseudonym (hex), never its id */
  pseudonym: string | null;
  /**
   * Or the record's id, in memory only: the log turns the ids of a batch into pseudonyms at
   * write time, in one cipher call (one per event on the request path was ~2 µs of a cached
   * read's ~24). It is never written.
   */
  recordId?: string;
  /** names of the fields touched, never their values */
  fields: readonly string[];
  /**
   * `fields` as JSON, when the event arrives with it: the writer thread gets a one-off list (a
   * body's keys) as this text and stores it as it is, instead of encoding the list again.
   */
  fieldsText?: string;
  outcome: AuditOutcome;
  requestId: string | null;
}

/** An event as stored: `fields` is kept as the exact JSON text the MAC covered. */
export interface AuditRow {
  seq: number;
  time: string;
  principal: string | null;
  role: string | null;
  action: string;
  collection: string | null;
  pseudonym: string | null;
  fields: string;
  outcome: string;
  requestId: string | null;
  mac: Uint8Array;
}
