import type { AuditInput } from "./types.ts";
import { RingWriter } from "./event-ring.ts";
import { WRITER_URL, type FromWriter, type ToWriter } from "./writer-messages.ts";

/**
 * The buffer shared with the thread. At ~100 bytes an event it holds ~40 000: ~0.6 s of events
 * at session 8's read peak (65 000/s), while the thread writes them ~10 times faster than
 * that; events that find it full wait in the log's queue (log.ts), and the backlog bound
 * applies to both together.
 */
const RING_BYTES = 4 << 20;

export interface WriterOptions {
  path: string;
  auditKey: Uint8Array;
  /** the key of the trail's pseudonyms (auditPseudonymKey), not the link key */
  pseudonymKey: Uint8Array;
  durability: string;
  retryMs: number;
}

/**
 * The event loop's side of the audit writer thread: puts events in the shared buffer, tells it
 * where each window ends, and counts what it has written. Events handed over and not yet
 * written (in flight) still count as the log's backlog, so the fail-closed bound holds the
 * same as when writing on the event loop.
 */
export class WriterThread {
  private readonly worker: Worker;
  inFlight = 0;
  written = 0;
  failing = false;
  /** the thread itself failed (not a write): what it held is reported lost at close */
  dead = false;
  private waiters: { target: number; resolve: () => void }[] = [];
  private closed: ((unwritten: number) => void) | null = null;
  private readonly ring = new RingWriter(RING_BYTES);
  /** events in the buffer that no window message has covered yet */
  unposted = 0;

  constructor(opts: WriterOptions) {
    // Listed as an entrypoint of the compiled binary (scripts/build.ts), so it is embedded.
    this.worker = new Worker(WRITER_URL);
    this.worker.onmessage = (e: MessageEvent<FromWriter>) => this.receive(e.data);
    this.worker.onerror = () => {
      this.dead = this.failing = true;
      console.error("privata: the audit writer thread failed; audit events are not being written");
      this.wake();
    };
    // Not holding the process open while it runs; close() holds it again until the thread has
    // written everything (unref'd then, the process could exit with the last window unwritten).
    this.worker.unref();
    this.send({ type: "init", ...opts, ring: this.ring.buffer });
  }

  /** Put `e` in the shared buffer; false when it has no room for it yet (the log keeps it). */
  write(e: AuditInput): boolean {
    if (!this.ring.write(e)) return false;
    this.inFlight++;
    this.unposted++;
    return true;
  }

  /**
   * Hand over `queue`'s events in order, as far as the buffer has room now, and post the
   * window; how many went. One far larger than any event the server makes (a record id is
   * bounded by Bun's 16 KiB request head), which the buffer could never hold, goes in a
   * message of its own after the window before it.
   */
  handOverAll(queue: readonly AuditInput[]): number {
    let n = 0;
    for (const e of queue) {
      if (!this.write(e)) {
        if (this.ring.fitsEver(e)) break;
        this.post();
        this.inFlight++;
        this.send({ type: "event", event: e });
      }
      n++;
    }
    this.post();
    return n;
  }

  /** Tell the thread where the events put in the buffer so far end: a window to write. */
  post(): void {
    if (this.unposted === 0) return;
    this.send({ type: "batch", end: this.ring.end, n: this.unposted });
    this.unposted = 0;
  }

  /**
   * Resolves once everything handed over so far, and `queued` more, is written (not what is
   * handed over later: under steady load the thread is never idle), or at once while writes fail.
   */
  settled(queued = 0): Promise<void> {
    const target = this.written + this.inFlight + queued;
    if (this.written >= target || this.failing) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ target, resolve }));
  }

  /** Everything handed over is written (retried up to waitMs), then the thread stops; resolves to what was lost. */
  async close(waitMs: number): Promise<number> {
    if (this.dead) return this.inFlight;
    this.worker.ref(); // the process stays until the thread answers (or is given up on)
    let giveUp: Timer | undefined;
    const unwritten = await new Promise<number>((resolve) => {
      this.closed = resolve;
      this.send({ type: "close", waitMs });
      // a thread that does not answer (stuck in a write) is given up on after the wait
      giveUp = setTimeout(() => resolve(this.inFlight), waitMs + 2000);
    });
    clearTimeout(giveUp);
    await this.worker.terminate();
    return unwritten;
  }

  private receive(m: FromWriter): void {
    if (m.type === "written") {
      this.inFlight -= m.n;
      this.written += m.n;
      this.ring.release(m.bytes);
      this.failing = this.dead; // a write that landed before the thread failed does not revive it
      this.wake((w) => this.written >= w.target);
    } else if (m.type === "failing") {
      this.failing = true;
      console.error(`privata: audit events cannot be written (${m.message}); retrying`);
      this.wake(); // nobody waits on a write that may take long
    } else {
      this.closed?.(m.unwritten);
    }
  }

  /** Resolve the waiters `due` says are done (all of them by default). */
  private wake(due: (w: { target: number }) => boolean = () => true): void {
    const now = this.waiters.filter(due);
    this.waiters = this.waiters.filter((w) => !due(w));
    for (const w of now) w.resolve();
  }

  private send(m: ToWriter): void {
    this.worker.postMessage(m);
  }
}
