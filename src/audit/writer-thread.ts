// The audit trail's writer thread (see AuditLog.startThread). Chaining and inserting a batch
// was ~3.5 µs an event on the event loop, the largest part of what auditing cost; here it runs
// beside it. Batches are written strictly in the order they arrive: one that cannot be written
// (disk full, the file locked) is kept and retried, and nothing after it is written before it.
import { Database } from "bun:sqlite";
import { getPriority, setPriority } from "node:os";
import { AuditStore } from "../db/audit.ts";
import { Pseudonymizer } from "../crypto/pseudonym.ts";
import { ChainWriter } from "./chain-writer.ts";
import type { AuditInput } from "./types.ts";
import { RingReader } from "./ring-reader.ts";
import type { FromWriter, ToWriter } from "./writer-messages.ts";

declare const self: Worker;

/**
 * The thread's nice value, added to the process's own. Writing the trail is background work:
 * at equal priority the thread preempted the event loop and oha on the two cores. At +5 it
 * yields to them and still gets about a quarter of a contended core, several times what it
 * needs at the bench's peak (~4 µs an event), so it keeps up: privata_audit_backlog_events
 * shows it, and admission stops at the backlog bound if it ever did not (log.ts). Closed-loop
 * mixed run, 4 alternating rounds: +2 to +11 % req/s against 0. Only on Linux, where
 * setpriority applies to the calling thread (elsewhere it would lower the whole process);
 * a thread started from this one inherits it (JSC may start a JIT helper from here).
 */
const WRITER_NICE = 5;

/** A lock held elsewhere (the checkpoint thread's TRUNCATE, the CLI) is waited out here: no event loop to stall. */
const BUSY_WAIT_MS = 1000;

let store: AuditStore;
let writer: ChainWriter;
let retryMs = 1000;
/** windows read from the shared buffer and not yet written, with the bytes they took there */
const pending: { events: AuditInput[]; bytes: number }[] = [];
let failing = false;
let ring: RingReader;
let retrying: Timer | null = null;

const send = (m: FromWriter) => postMessage(m);

/** Write the first pending batch in one transaction; false (and rolled back) when it fails. */
function writeOne(): boolean {
  const batch = pending[0]!;
  try {
    writer.writeBatch(batch.events, true); // blocking on a lock is fine here: no event loop to stall
  } catch (err) {
    if (!failing) send({ type: "failing", message: (err as Error).message.split("\n")[0] ?? "" });
    failing = true;
    return false;
  }
  pending.shift();
  failing = false;
  send({ type: "written", n: batch.events.length, bytes: batch.bytes });
  return true;
}

function drain(): void {
  retrying = null;
  while (pending.length > 0) {
    if (!writeOne()) {
      retrying ??= setTimeout(drain, retryMs);
      return;
    }
  }
}

self.onmessage = (event: MessageEvent<ToWriter>) => {
  const m = event.data;
  if (m.type === "init") {
    try {
      if (process.platform === "linux") setPriority(0, Math.min(19, getPriority(0) + WRITER_NICE));
    } catch {
      // not permitted (a sandbox): the trail is written the same, only scheduled as before
    }
    const db = new Database(m.path, { readwrite: true, create: false, strict: true });
    db.run(`PRAGMA busy_timeout = ${BUSY_WAIT_MS}`);
    db.run(`PRAGMA synchronous = ${m.durability === "full" ? "FULL" : "NORMAL"}`);
    store = new AuditStore(db);
    // the trail's own pseudonyms, never the clinical ones (auditPseudonymKey, derived by the sender)
    const pseudo = new Pseudonymizer(Buffer.from(m.pseudonymKey));
    writer = new ChainWriter(store, new Uint8Array(m.auditKey), (ids) => pseudo.pseudonymsHex(ids));
    retryMs = m.retryMs;
    ring = new RingReader(m.ring);
  } else if (m.type === "batch" || m.type === "event") {
    const batch = m.type === "batch" ? ring.read(m.end) : { events: [m.event], bytes: 0 };
    // a buffer read wrong would write a wrong trail: fail (onerror: the log fails closed) instead
    if (m.type === "batch" && batch.events.length !== m.n) throw new Error(`audit window: ${batch.events.length} events read, ${m.n} sent`);
    pending.push(batch);
    if (retrying === null) drain();
  } else {
    // a clean close: everything pending is tried until the deadline, then reported
    const deadline = Date.now() + m.waitMs;
    if (retrying) clearTimeout(retrying);
    while (pending.length > 0) {
      if (writeOne()) continue;
      if (Date.now() >= deadline) break;
      Bun.sleepSync(2);
    }
    store.db.close();
    send({ type: "closed", unwritten: pending.reduce((n, b) => n + b.events.length, 0) });
  }
};
