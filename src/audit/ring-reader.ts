// The writer thread's side of the audit event ring (event-ring.ts has the layout).
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, type AuditInput } from "./types.ts";
import { HEAD, WRAP } from "./event-ring.ts";

/** The thread's side: reads the events of each window in order. */
export class RingReader {
  private readonly bytes: Buffer;
  private readonly view: DataView;
  private at = 0;
  private readonly lists: (readonly string[])[] = [];

  constructor(private readonly buffer: SharedArrayBuffer) {
    this.bytes = Buffer.from(buffer);
    this.view = new DataView(buffer);
  }

  /** The events from where the last window ended up to `end`, and the bytes they took. */
  read(end: number): { events: AuditInput[]; bytes: number } {
    const events: AuditInput[] = [];
    let bytes = 0;
    const v = this.view;
    while (this.at !== end) {
      const at = this.at;
      // the mark is one byte: it may sit in the buffer's last 3, where a 4-byte read would fail
      if (this.bytes[at] === WRAP) {
        bytes += this.buffer.byteLength - at;
        this.at = 0;
        continue;
      }
      const word = v.getUint32(at, true);
      const size = HEAD + v.getInt32(at + 44, true);
      const text = this.bytes.toString("utf8", at + HEAD, at + size);
      let p = 0;
      const next = (slot: number): string | null => {
        const len = v.getInt32(at + 16 + 4 * slot, true);
        if (len < 0) return null;
        p += len;
        return text.slice(p - len, p);
      };
      const principal = next(0), role = next(1), collection = next(2), pseudonym = next(3), recordId = next(4), requestId = next(5), listText = next(6);
      const list = v.getInt32(at + 12, true);
      let fields: readonly string[];
      let fieldsText: string | undefined;
      if (listText === null) {
        const known = this.lists[list];
        // a list is defined by the first event naming it: a wrong trail is worse than none
        if (known === undefined) throw new Error(`audit event names field list ${list}, never defined`);
        fields = known;
      } else if (list >= 0) {
        // a view's list, frozen: ChainWriter encodes it once and remembers the text
        fields = this.lists[list] = Object.freeze(JSON.parse(listText) as string[]);
      } else {
        // A one-off list (a create's or update's body keys): its text goes on as it came, and
        // the list is not frozen, so ChainWriter neither encodes it again nor remembers it (an
        // entry per create in its WeakMap weighs on every collection of this thread).
        fields = JSON.parse(listText) as string[];
        fieldsText = listText;
      }
      events.push({
        time: v.getFloat64(at + 4, true), principal, role,
        action: AUDIT_ACTIONS[(word >>> 8) & 0xff]!, collection, pseudonym,
        recordId: recordId ?? undefined, fields, fieldsText, outcome: AUDIT_OUTCOMES[(word >>> 16) & 0xff]!, requestId,
      });
      bytes += size;
      this.at = at + size;
    }
    return { events, bytes };
  }
}
