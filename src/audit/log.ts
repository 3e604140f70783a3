import type { AuditStore } from "../db/audit.ts";
import { ChainWriter, type Pseudonymize } from "./chain-writer.ts";
import { FlushTimer } from "./flush-timer.ts";
import { HereWriter } from "./here-writer.ts";
import type { AuditInput } from "./types.ts";
import { WriterThread, type WriterOptions } from "./writer-link.ts";

export type { Pseudonymize } from "./chain-writer.ts";

/**
 * Past this many unwritten events no new /api request is admitted (503 audit_unavailable),
 * whether writes fail or the writer only falls behind: memory and what a crash can lose stay
 * bounded. While writes fail, events past it are counted, not kept.
 */
const MAX_BACKLOG = 100_000;

/**
 * The batching window: the events of FLUSH_MS are written in one transaction. Each commit
 * writes the table's last pages again (with the three indexes audit.db once had, about 20 KiB
 * of WAL for a single event: 40 creates filled a 2 MiB disk with one commit per event), so at
 * low and moderate rates a window, not a turn, is what keeps the audit trail's writes small.
 */
export const FLUSH_MS = 20;
/** How long a clean close waits for a write lock held by someone else (the checkpoint thread). */
const CLOSE_WAIT_MS = 5000;
/** A window's worth of events never waits for the timer past this many. */
const MAX_BATCH = 1024;

/**
 * The audit trail's writer. `append` only queues (with the writer thread: into the buffer it
 * shares with it, event-ring.ts): the events of a FLUSH_MS window are chained and written in
 * ONE transaction when it ends, so auditing adds no commit to a request's path.
 * What a crash (kill -9, power loss) can lose is the events not yet committed (an answer may
 * already have gone out for them): normally the last FLUSH_MS window and the batch being
 * written; if the writer falls behind (it runs at a lower priority, writer-thread.ts), more,
 * up to maxBacklog, where admission stops (`full`). `backlog` says how many; /metrics shows
 * it. A clean close writes everything queued, so no event of an answered request is lost then.
 *
 * seq and MAC are assigned at write time, in queue order, from the head read under the write
 * lock, so the chain in the file stays contiguous even with another writer (the CLI): a batch
 * that fails is rolled back whole and retried later.
 */
export class AuditLog {
  private queue: AuditInput[] = [];
  /** the next hand-on: what is still queued then is tried again (the thread frees room as it writes) */
  private readonly timer = new FlushTimer(() => {
    if (!this.flush()) this.timer.after(this.thread ? FLUSH_MS : this.here.busy ? 1 : this.retryMs);
  });
  /** the writer thread, once started (the server's case); null: batches are written here */
  private thread: WriterThread | null = null;
  private readonly here: HereWriter;

  constructor(
    store: AuditStore,
    key: Uint8Array,
    private readonly retryMs = 1000,
    /** ids to pseudonyms (hex; null for a non-id), for events that name a record by id */
    pseudonymize: Pseudonymize | null = null,
  ) {
    this.here = new HereWriter(new ChainWriter(store, key, pseudonymize), retryMs);
  }

  append(e: AuditInput): void {
    if (this.failing && this.full) {
      // only while writes fail, and the server refuses /api requests then (unauditable)
      if (this.dropped++ === 0) console.error("privata: audit backlog full; events are being dropped");
      return;
    }
    // with the thread, straight into the shared buffer when nothing waits before it
    if (!(this.thread && this.queue.length === 0 && this.thread.write(e))) this.queue.push(e);
    // the window's events not yet handed on, wherever they wait: a full window goes next turn
    if (this.queue.length + (this.thread?.unposted ?? 0) >= MAX_BATCH) this.timer.soon();
    else this.timer.after(FLUSH_MS);
  }

  /** Events that could not even be queued (backlog full while writes failed). */
  dropped = 0;
  /** How many unwritten events are held at most (a test lowers it). */
  maxBacklog = MAX_BACKLOG;

  /**
   * The backlog is at its bound: no more requests may be admitted until it drains. A writer
   * thread that has failed (not a write: the thread) never drains it, so that is full at once.
   */
  get full(): boolean {
    return this.backlog >= this.maxBacklog || (this.thread?.dead ?? false);
  }

  /** the last write failed (disk full, locked file); events wait in memory and are retried */
  get failing(): boolean {
    return this.thread ? this.thread.failing : this.here.failing;
  }

  get written(): number {
    return this.here.written + (this.thread?.written ?? 0);
  }

  /** Events not yet handed to a writer: the window is open, or the thread's buffer is full. */
  get queued(): number {
    return this.queue.length;
  }

  /** Events appended and not yet written, on either thread. */
  get backlog(): number {
    return this.queue.length + (this.thread?.inFlight ?? 0);
  }

  /**
   * From now on batches are chained and written on a thread of their own (writer-thread.ts):
   * ~3.5 µs an event that the event loop no longer spends. What is queued is written first.
   */
  startThread(opts: WriterOptions): void {
    this.flush();
    this.thread = new WriterThread(opts);
  }

  /** Everything appended so far is written (or writes are failing): GET /api/audit, export. */
  settle(): Promise<void> {
    this.flush();
    return this.thread ? this.thread.settled(this.queue.length) : Promise.resolve();
  }

  /** Write everything queued now; true when the queue is empty afterwards. */
  flush(): boolean {
    if (this.thread) {
      // it keeps and retries what it cannot write yet; what the buffer has no room for waits here
      const n = this.thread.handOverAll(this.queue);
      if (n > 0) this.queue.splice(0, n);
      return this.queue.length === 0;
    }
    if (this.queue.length === 0) return true;
    const batch = this.queue;
    this.queue = [];
    if (!this.here.write(batch)) {
      // nothing of the batch was kept: put it back in front, in order, and keep the old head
      this.queue = batch.concat(this.queue);
      return false;
    }
    return this.queue.length === 0;
  }

  /**
   * For a clean close: everything queued is written (or reported lost, never silently), by the
   * writer thread, which holds the process until it is done, or here (closeHere).
   */
  async close(): Promise<void> {
    if (!this.thread) return this.closeHere();
    // what waits for room in the shared buffer goes in as the thread frees it (a thread stuck
    // in a write is not waited for past the deadline: what is left is reported lost)
    const deadline = Date.now() + CLOSE_WAIT_MS;
    while (!this.flush() && !this.thread.dead && Date.now() < deadline) {
      // while writes fail, settled() answers at once: wait, or the thread's answers never arrive
      await (this.thread.failing ? Bun.sleep(50) : Promise.race([this.thread.settled(), Bun.sleep(50)]));
    }
    const lost = (await this.thread.close(CLOSE_WAIT_MS)) + this.queue.length;
    if (lost > 0) console.error(`privata: ${lost} audit event(s) could not be written at shutdown`);
  }

  get threaded(): boolean {
    return this.thread !== null;
  }

  /**
   * close() without a writer thread: done when it returns. The checkpoint thread may hold
   * audit.db's write lock for its TRUNCATE at this very moment, so a busy file is retried for
   * up to CLOSE_WAIT_MS (blocking: nothing else runs at shutdown).
   */
  closeHere(): void {
    if (this.thread) throw new Error("the audit log writes on its thread: close() it");
    const deadline = Date.now() + CLOSE_WAIT_MS;
    while (!this.flush() && Date.now() < deadline) Bun.sleepSync(2);
    if (this.queue.length > 0) console.error(`privata: ${this.queue.length} audit event(s) could not be written at shutdown`);
  }
}
