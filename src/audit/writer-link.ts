import type { AuditInput } from "./types.ts";
import { BatchEncoder, WRITER_URL, type FromWriter, type ToWriter } from "./writer-messages.ts";

export interface WriterOptions {
  path: string;
  auditKey: Uint8Array;
  linkKey: Uint8Array;
  durability: string;
  retryMs: number;
}

/**
 * The event loop's side of the audit writer thread: hands it each window's events and counts
 * what it has written. Events handed over and not yet written (in flight) still count as the
 * log's backlog, so the fail-closed bound holds the same as when writing on the event loop.
 */
export class WriterThread {
  private readonly worker: Worker;
  inFlight = 0;
  written = 0;
  failing = false;
  /** the thread itself failed (not a write): what it held is reported lost at close */
  dead = false;
  private waiters: (() => void)[] = [];
  private closed: ((unwritten: number) => void) | null = null;
  private readonly encoder = new BatchEncoder();

  constructor(opts: WriterOptions) {
    // Listed as an entrypoint of the compiled binary (scripts/build.ts), so it is embedded.
    this.worker = new Worker(WRITER_URL);
    this.worker.onmessage = (e: MessageEvent<FromWriter>) => this.receive(e.data);
    this.worker.onerror = () => {
      this.dead = this.failing = true;
      console.error("privata: the audit writer thread failed; audit events are not being written");
      this.wake();
    };
    this.worker.unref(); // a server stops by its signal handler, which closes the log
    this.send({ type: "init", ...opts });
  }

  post(batch: readonly AuditInput[]): void {
    this.inFlight += batch.length;
    this.send({ type: "batch", ...this.encoder.encode(batch) });
  }

  /** Resolves once everything handed over is written, or at once while writes fail. */
  settled(): Promise<void> {
    if (this.inFlight === 0 || this.failing) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Everything handed over is written (retried up to waitMs), then the thread stops; resolves to what was lost. */
  async close(waitMs: number): Promise<number> {
    if (this.dead) return this.inFlight;
    const unwritten = await new Promise<number>((resolve) => {
      this.closed = resolve;
      this.send({ type: "close", waitMs });
      // a thread that does not answer (stuck in a write) is given up on after the wait
      setTimeout(() => resolve(this.inFlight), waitMs + 2000).unref();
    });
    await this.worker.terminate();
    return unwritten;
  }

  private receive(m: FromWriter): void {
    if (m.type === "written") {
      this.inFlight -= m.n;
      this.written += m.n;
      this.failing = false;
      if (this.inFlight === 0) this.wake();
    } else if (m.type === "failing") {
      this.failing = true;
      console.error(`privata: audit events cannot be written (${m.message}); retrying`);
      this.wake(); // nobody waits on a write that may take long
    } else {
      this.closed?.(m.unwritten);
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  private send(m: ToWriter): void {
    this.worker.postMessage(m);
  }
}
