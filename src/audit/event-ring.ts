// Audit events on their way to the writer thread, as bytes in a buffer both threads share.
// Handed over as JSON, an event was an object kept until its window ended (~20 ms at the
// bench's rates), then encoded as a whole window, copied by postMessage and parsed again by the
// thread. Here an event is written into the buffer when it is appended, nothing of it stays on
// the event loop's heap, and a window's message says only where its events end. Cached reads
// (oha, 150 000 a run, alternating with the JSON build, per-thread CPU): the writer thread
// 3.0–3.3 → 2.6–2.9 µs a read in two sets of 3 runs; the event loop 14.5–15.7 → 12.9–14.3 µs
// in the first set, no clear change in the second (14.1–15.5 against 13.9–14.6). The thread's
// side: ring-reader.ts.
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, type AuditInput } from "./types.ts";

const ACTION_CODE = new Map<string, number>(AUDIT_ACTIONS.map((a, i) => [a, i]));
const OUTCOME_CODE = new Map<string, number>(AUDIT_OUTCOMES.map((o, i) => [o, i]));

export const EVENT = 1;
/** the rest of the buffer is unused: the next event is at its start */
export const WRAP = 0xff;
/**
 * An event: u8 EVENT, u8 action, u8 outcome, u8 0, f64 time, i32 field list number (-1: none),
 * 7 × i32 text lengths in UTF-16 units (-1: null), i32 the text's bytes, then the text: the
 * seven strings one after another in UTF-8 (principal, role, collection, pseudonym, record id,
 * request id, and the field list's JSON when the thread has not been told that list yet).
 */
export const HEAD = 48;

/** The event loop's side: appends events, and frees their bytes once the thread has written them. */
export class RingWriter {
  readonly buffer: SharedArrayBuffer;
  private readonly bytes: Buffer;
  private readonly view: DataView;
  /** where the next event goes */
  end = 0;
  /** bytes holding events (and skipped ends) the thread has not yet written */
  private used = 0;
  /** Constant field lists (a view's, frozen where made) by number: the thread keeps their text. */
  private readonly lists = new WeakMap<readonly string[], number>();
  private nextList = 0;

  constructor(readonly capacity: number) {
    this.buffer = new SharedArrayBuffer(capacity);
    this.bytes = Buffer.from(this.buffer);
    this.view = new DataView(this.buffer);
  }

  /** The most bytes `e` can take: never more than the buffer can hold once empty. */
  fitsEver(e: AuditInput): boolean {
    return this.bound(e, JSON.stringify(e.fields)) < this.capacity / 2;
  }

  /** Append `e`; false (nothing written) when the thread has not freed room enough yet. */
  write(e: AuditInput): boolean {
    let list = this.lists.get(e.fields);
    let listText: string | null = null;
    // Looked up first: Object.isFrozen of a frozen array costs ~0.3 µs in JSC, a lookup ~2 ns.
    if (list === undefined) {
      listText = JSON.stringify(e.fields);
      list = Object.isFrozen(e.fields) ? this.nextList : -1;
    }
    const action = ACTION_CODE.get(e.action);
    const outcome = OUTCOME_CODE.get(e.outcome);
    // never recorded as another action or outcome (a code the types let through at run time)
    if (action === undefined || outcome === undefined) throw new Error(`audit event with unknown action or outcome: ${e.action}, ${e.outcome}`);
    const at = this.reserve(this.bound(e, listText));
    if (at < 0) return false;
    if (list === this.nextList) this.lists.set(e.fields, this.nextList++);
    const v = this.view;
    v.setUint32(at, EVENT | (action << 8) | (outcome << 16), true);
    v.setFloat64(at + 4, e.time, true);
    v.setInt32(at + 12, list, true);
    const recordId = e.recordId ?? null;
    v.setInt32(at + 16, e.principal === null ? -1 : e.principal.length, true);
    v.setInt32(at + 20, e.role === null ? -1 : e.role.length, true);
    v.setInt32(at + 24, e.collection === null ? -1 : e.collection.length, true);
    v.setInt32(at + 28, e.pseudonym === null ? -1 : e.pseudonym.length, true);
    v.setInt32(at + 32, recordId === null ? -1 : recordId.length, true);
    v.setInt32(at + 36, e.requestId === null ? -1 : e.requestId.length, true);
    v.setInt32(at + 40, listText === null ? -1 : listText.length, true);
    let p = at + HEAD;
    p = this.put(e.principal, p);
    p = this.put(e.role, p);
    p = this.put(e.collection, p);
    p = this.put(e.pseudonym, p);
    p = this.put(recordId, p);
    p = this.put(e.requestId, p);
    p = this.put(listText, p);
    const n = p - at - HEAD;
    v.setInt32(at + 44, n, true);
    this.end = at + HEAD + n;
    this.used += HEAD + n;
    return true;
  }

  /**
   * `s` in UTF-8 at `p`; where it ends. The strings are ASCII nearly always (ids, key names,
   * field names): a loop over them is about half of what joining them for one Buffer.write was.
   */
  private put(s: string | null, p: number): number {
    if (s === null) return p;
    const b = this.bytes;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return p - i + b.write(s, p - i, "utf8");
      b[p++] = c;
    }
    return p;
  }

  /** The thread has written events that took `n` bytes of the buffer (skipped ends included). */
  release(n: number): void {
    this.used -= n;
  }

  /** UTF-8 takes at most 3 bytes for a UTF-16 unit. */
  private bound(e: AuditInput, listText: string | null): number {
    const chars = (e.principal?.length ?? 0) + (e.role?.length ?? 0) + (e.collection?.length ?? 0) + (e.pseudonym?.length ?? 0) + (e.recordId?.length ?? 0) + (e.requestId?.length ?? 0) + (listText?.length ?? 0);
    return HEAD + 3 * chars;
  }

  /**
   * Where `size` bytes can go now, or -1. The events in use are the `used` bytes before `end`
   * (around the buffer's end when they wrap). One byte always stays free, so a full buffer
   * and an empty one never look alike, and an event that does not fit at the end has room for
   * the WRAP mark there.
   */
  private reserve(size: number): number {
    const cap = this.capacity;
    const start = (this.end - this.used + cap) % cap; // the oldest byte in use (end when none is)
    // in use: [start, cap) and [0, end); the room is between them
    if (this.used > 0 && start >= this.end) return this.end + size < start ? this.end : -1;
    // in use: [start, end), or nothing
    if (this.end + size < cap) return this.end;
    // too little room at the end: mark the rest skipped and go on at 0, if there is room there
    if (size >= start) return -1;
    this.bytes[this.end] = WRAP;
    this.used += cap - this.end;
    this.end = 0;
    return 0;
  }
}
