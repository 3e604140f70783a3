// The shared buffer that carries audit events to the writer thread (event-ring.ts), both sides
// in one thread: every field comes back as it went in (a lone surrogate as U+FFFD, as UTF-8
// has no other way to carry it), in order, across the buffer's end, and a full buffer takes
// nothing until the reader's bytes are released.
import { describe, expect, test } from "bun:test";
import { RingWriter } from "./event-ring.ts";
import { RingReader } from "./ring-reader.ts";
import { AUDIT_ACTIONS, AUDIT_OUTCOMES as OUTCOMES, type AuditInput } from "./types.ts";

const VIEW = Object.freeze(["firstName", "lastName"]);

const event = (i: number, over: Partial<AuditInput> = {}): AuditInput => ({
  time: Date.UTC(2026, 10, 27) + i, principal: `dr-${i}`, role: "clinician", action: AUDIT_ACTIONS[i % AUDIT_ACTIONS.length]!,
  collection: "users", pseudonym: null, recordId: `id-${i}`, fields: VIEW, outcome: OUTCOMES[i % OUTCOMES.length]!, requestId: `req-${i}`, ...over,
});

/**
 * What the reader gives back for what was written: recordId is undefined, not absent, when
 * none; a one-off (not frozen) field list comes with its JSON text as it was sent.
 */
const expected = (e: AuditInput) => ({ ...e, recordId: e.recordId, fieldsText: Object.isFrozen(e.fields) ? undefined : JSON.stringify(e.fields) });

describe("the audit event ring", () => {
  test("every field, nulls, non-ASCII text and each action and outcome come back as written", () => {
    const w = new RingWriter(1 << 16);
    const r = new RingReader(w.buffer);
    const events = [
      ...Array.from({ length: AUDIT_ACTIONS.length }, (_, i) => event(i)),
      event(100, { principal: null, role: null, collection: null, recordId: undefined, requestId: null, fields: [] }),
      event(101, { pseudonym: "ab".repeat(16), recordId: undefined }),
      event(102, { principal: "zoë", recordId: "ünïcødé-😀-\u0000", fields: ["name:ärzt"] }), // a body's keys: not frozen
    ];
    for (const e of events) expect(w.write(e)).toBe(true);
    const { events: got, bytes } = r.read(w.end);
    expect(got).toEqual(events.map(expected));
    expect(got[0]!.fields).toBe(got[1]!.fields); // a view's list is parsed once, then shared
    expect(Object.isFrozen(got[0]!.fields)).toBe(true);
    w.release(bytes);
    expect(w.write(event(103))).toBe(true); // all room again
  });

  test("a lone surrogate comes back as U+FFFD, and the strings after it stay in place", () => {
    const w = new RingWriter(4096);
    const r = new RingReader(w.buffer);
    w.write(event(0, { recordId: "a\ud800b" }));
    const [got] = r.read(w.end).events;
    expect(got!.recordId).toBe("a\ufffdb");
    expect(got!.requestId).toBe("req-0");
  });

  test("an action or outcome the ring has no code for is refused, not recorded as another", () => {
    const w = new RingWriter(4096);
    expect(() => w.write(event(0, { action: "peek" as AuditInput["action"] }))).toThrow(/unknown action or outcome/);
    expect(() => w.write(event(0, { outcome: "meh" as AuditInput["outcome"] }))).toThrow(/unknown action or outcome/);
    expect(w.end).toBe(0);
  });

  test("a WRAP mark in the buffer's last 1, 2 or 3 bytes is read as one", () => {
    // An event with no text naming a list the reader knows takes exactly its 48-byte head (its
    // bound too), so it can end 1 to 3 bytes before the buffer's end: the WRAP mark goes there.
    const list = Object.freeze(["firstName"]);
    const bare = (i: number) => event(i, { principal: null, role: null, collection: null, requestId: null, recordId: undefined, fields: list });
    for (const left of [1, 2, 3]) {
      const first = new RingWriter(4096);
      first.write(bare(0)); // the size of an event that also defines the list
      const cap = first.end + 48 + left;
      const w = new RingWriter(cap);
      const r = new RingReader(w.buffer);
      expect(w.write(bare(0))).toBe(true);
      expect(w.write(bare(1))).toBe(true);
      expect(w.end).toBe(cap - left);
      w.release(r.read(w.end).bytes);
      expect(w.write(bare(2))).toBe(true); // not at the end: a WRAP mark there, the event at 0
      expect(w.end).toBe(48);
      const got = r.read(w.end);
      expect(got.events.map((e) => e.time)).toEqual([bare(2).time]);
      expect(got.bytes).toBe(left + 48);
      w.release(got.bytes);
    }
  });

  test("a one-off field list comes with its text and unfrozen, so the writer neither encodes nor remembers it", () => {
    const w = new RingWriter(1 << 16);
    const r = new RingReader(w.buffer);
    const body = ["lastName", "email", "name:\"quoted\""];
    w.write(event(0, { fields: body }));
    w.write(event(1));
    const [oneOff, view] = r.read(w.end).events;
    expect(oneOff!.fields).toEqual(body);
    expect(oneOff!.fieldsText).toBe(JSON.stringify(body));
    expect(Object.isFrozen(oneOff!.fields)).toBe(false);
    expect(view!.fieldsText).toBeUndefined();
    expect(Object.isFrozen(view!.fields)).toBe(true);
  });

  test("a view's field list crosses once: later events name it by number", () => {
    const w = new RingWriter(1 << 16);
    w.write(event(0));
    const first = w.end;
    w.write(event(1));
    const second = w.end - first;
    expect(second).toBeLessThan(first - JSON.stringify(VIEW).length + 2);
    const text = Buffer.from(w.buffer).toString("latin1", first, w.end);
    expect(text.includes("firstName")).toBe(false);
  });

  test("full: nothing is written until the reader's bytes are released; then it wraps, in order", () => {
    const w = new RingWriter(2048);
    const r = new RingReader(w.buffer);
    let next = 0;
    const written: AuditInput[] = [];
    const read: AuditInput[] = [];
    const nth = (i: number) => event(i, { recordId: "x".repeat(i % 97) }); // sizes that vary
    for (let round = 0; round < 40; round++) {
      // fill it
      while (w.write(nth(next))) written.push(nth(next++));
      const endWhenFull = w.end;
      expect(w.write(nth(next))).toBe(false);
      expect(w.end).toBe(endWhenFull); // a refused write leaves no trace
      // the reader takes all of it; room comes back only on release
      const got = r.read(w.end);
      read.push(...got.events);
      expect(w.write(event(next, { recordId: "y".repeat(200) }))).toBe(false);
      w.release(got.bytes);
    }
    expect(read).toEqual(written.map(expected));
    expect(written.length).toBeGreaterThan(40 * 10); // it went round the buffer many times
  });

  test("a reader windows behind: the writer waits for room and never overwrites what is unread", () => {
    const w = new RingWriter(2048);
    const r = new RingReader(w.buffer);
    const windows: number[] = []; // where each window posted so far ends
    const read: AuditInput[] = [];
    const readOne = () => {
      const got = r.read(windows.shift()!);
      read.push(...got.events);
      w.release(got.bytes);
    };
    let n = 0;
    while (n < 3000) {
      const e = event(n, { recordId: "x".repeat((n * 37) % 150) });
      if (w.write(e)) n++;
      else if (windows.length > 0) readOne(); // the thread frees room as it writes
      else windows.push(w.end); // nothing posted yet: post what is there
      if (n % (1 + (n % 5)) === 0 && windows.at(-1) !== w.end) windows.push(w.end);
      if (windows.length > 4) readOne();
    }
    windows.push(w.end);
    while (windows.length > 0) readOne();
    expect(read.map((e) => e.requestId)).toEqual(Array.from({ length: n }, (_, i) => `req-${i}`));
    expect(read.map((e) => e.recordId)).toEqual(Array.from({ length: n }, (_, i) => "x".repeat((i * 37) % 150)));
  });

  test("going round to the start needs room before the oldest event not yet written", () => {
    const w = new RingWriter(1024);
    const r = new RingReader(w.buffer);
    w.write(event(0));
    const first = w.end; // window 1
    let n = 1;
    while (w.write(event(n))) n++; // window 2, up to the buffer's end
    w.release(r.read(first).bytes); // the thread has written window 1 only
    // too big for what is left at the end, and just too big for the `first` bytes at the start
    const k = Math.ceil((first - 48) / 3) - 1; // its bound: 48 header bytes + 3 a char of id + "[]"
    const tooBig = event(n, { principal: null, role: null, collection: null, requestId: null, fields: [], recordId: "x".repeat(k) });
    expect(w.write(tooBig)).toBe(false);
    const window2 = r.read(w.end);
    expect(window2.events.map((e) => e.requestId)).toEqual(Array.from({ length: n - 1 }, (_, i) => `req-${i + 1}`));
    w.release(window2.bytes);
    expect(w.write(tooBig)).toBe(true);
    expect(r.read(w.end).events).toEqual([expected(tooBig)]);
  });

  test("an event that could never fit is told apart from one that waits for room", () => {
    const w = new RingWriter(4096);
    expect(w.fitsEver(event(0))).toBe(true);
    expect(w.fitsEver(event(0, { recordId: "x".repeat(1000) }))).toBe(false); // 3 bytes a char, at most
  });
});
