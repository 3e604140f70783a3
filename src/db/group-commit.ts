import type { Database, Statement } from "bun:sqlite";
import { BUSY_TIMEOUT_MS, isBusy } from "./sqlite.ts";

/**
 * How long a batch keeps retrying a taken write lock before its requests get 503. Longer than
 * SQLite's busy timeout (which blocks the event loop, so it must stay short): this wait does
 * not. The checkpoint thread's TRUNCATE holds the lock through an fsync of the main file,
 * which on a busy disk took over 100 ms (13 writes answered 503 in a 10-minute soak).
 */
export const LOCK_WAIT_MS = 500;

/** What a write job may ask of the batch it runs in. */
export interface WriteContext {
  /** Put the first store back if the second store's commit fails after the first committed. */
  undo(fn: () => void): void;
  /** Run once both stores have committed (in-memory counters must never count a rollback). */
  committed(fn: () => void): void;
}

/** For a write outside any batch: each statement commits on its own, so nothing to defer. */
export const UNBATCHED: WriteContext = { undo: () => {}, committed: (fn) => fn() };

type Job = {
  run: (ctx: WriteContext) => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  undo: (() => void)[];
  committed: (() => void)[];
  result?: unknown;
};

const SQL = {
  begin: "BEGIN IMMEDIATE",
  commit: "COMMIT",
  rollback: "ROLLBACK",
  savepoint: "SAVEPOINT job",
  release: "RELEASE job",
  rollbackTo: "ROLLBACK TO job",
  noWait: "PRAGMA busy_timeout = 0",
  wait: `PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`,
};

class Tx {
  private readonly stmts: Record<keyof typeof SQL, Statement>;
  constructor(readonly db: Database) {
    this.stmts = Object.fromEntries(Object.entries(SQL).map(([k, s]) => [k, db.prepare(s)])) as Tx["stmts"];
  }
  run(what: keyof typeof SQL): void {
    this.stmts[what].run();
  }
  /** BEGIN IMMEDIATE without SQLite's busy wait, which would sleep on the event loop. */
  begin(): void {
    this.run("noWait");
    try {
      this.run("begin");
    } finally {
      this.run("wait");
    }
  }
  /** Roll back if a transaction is open; never throws (the original error is what matters). */
  abandon(): void {
    try {
      if (this.db.inTransaction) this.stmts.rollback.run();
    } catch {
      // the connection is failing already; SQLite rolls back itself when it can
    }
  }
}

/**
 * Group commit: the creates and updates of every request that arrives in one event-loop turn
 * run in ONE transaction per store, so a commit (an fsync with --durability full) is paid
 * once per batch instead of once per request. No request is answered before both commits.
 *
 * Write order across the stores is kept for the whole batch: the first store (clinical)
 * commits before the second (identity), exactly as for a single write, so a crash between
 * the commits leaves at worst clinical halves without identity, which reconciliation removes.
 * Each job runs in a savepoint: a job that fails leaves nothing behind and fails alone.
 */
export class GroupCommit {
  private queue: Job[] = [];
  private scheduled = false;
  /** when the write lock was first found taken (by the checkpoint thread or another process) */
  private busySince = 0;
  /** committed batches and the jobs they carried (a batch that failed is not counted) */
  batches = 0;
  jobs = 0;
  /** batches put back because the write lock was taken (retried a moment later) */
  retries = 0;
  private readonly first: Tx;
  private readonly second: Tx;

  constructor(
    first: Database,
    second: Database,
    /** told when an undo after a failed second commit failed too: orphans may remain */
    private readonly onOrphan: () => void,
    private readonly maxBatch = 512,
  ) {
    this.first = new Tx(first);
    this.second = new Tx(second);
  }

  run<T>(fn: (ctx: WriteContext) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run: fn, resolve: resolve as (v: unknown) => void, reject, undo: [], committed: [] });
      this.schedule();
    });
  }

  /** Write everything still queued, now (before the stores close). */
  drain(): void {
    while (this.queue.length > 0) if (this.flush() === "busy") Bun.sleepSync(1);
  }

  private schedule(delayMs = 0): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      const busy = this.flush() === "busy";
      if (this.queue.length > 0) this.schedule(busy ? 1 : 0);
    };
    // setImmediate, not a microtask: it runs after every request of this turn was handled,
    // so they all join the batch. While a batch commits, new requests wait and form the next.
    if (delayMs > 0) setTimeout(run, delayMs);
    else setImmediate(run);
  }

  private flush(): "busy" | "done" {
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return "done"; // drained at close before this turn came
    try {
      this.first.begin();
      this.second.begin();
    } catch (err) {
      this.first.abandon();
      this.second.abandon();
      // The write lock is taken (the checkpoint thread's TRUNCATE, or another process): wait
      // for it off the event loop, reads go on. After LOCK_WAIT_MS, fail like any write.
      if (isBusy(err) && Date.now() - (this.busySince ||= Date.now()) < LOCK_WAIT_MS) {
        this.queue.unshift(...batch);
        this.retries++;
        return "busy";
      }
      this.busySince = 0;
      this.fail(batch, err);
      return "done";
    }
    this.busySince = 0;
    this.commitBatch(batch);
    return "done";
  }

  private commitBatch(batch: Job[]): void {
    const done: Job[] = [];
    try {
      for (const job of batch) if (this.runJob(job)) done.push(job);
      this.first.run("commit");
    } catch (err) {
      // nothing of this batch is committed anywhere
      this.first.abandon();
      this.second.abandon();
      return this.fail(batch, err);
    }
    try {
      this.second.run("commit");
    } catch (err) {
      this.second.abandon();
      this.undo(done);
      return this.fail(done, err);
    }
    this.batches++;
    this.jobs += done.length;
    for (const job of done) {
      for (const fn of job.committed) fn();
      job.resolve(job.result);
    }
  }

  /** True when the job succeeded; a failed job is rolled back to its savepoint and rejected. */
  private runJob(job: Job): boolean {
    this.first.run("savepoint");
    this.second.run("savepoint");
    try {
      job.result = job.run({ undo: (fn) => job.undo.push(fn), committed: (fn) => job.committed.push(fn) });
    } catch (err) {
      // if these throw, the whole batch is rolled back by flush()
      for (const tx of [this.first, this.second]) tx.run("rollbackTo");
      for (const tx of [this.first, this.second]) tx.run("release");
      job.undo.length = job.committed.length = 0;
      job.reject(err);
      return false;
    }
    this.first.run("release");
    this.second.run("release");
    return true;
  }

  /** The first store committed and the second did not: put the first store back. */
  private undo(done: Job[]): void {
    try {
      this.first.run("begin"); // with the busy wait: this rare path must not give up early
      for (const job of [...done].reverse()) for (const fn of [...job.undo].reverse()) fn();
      this.first.run("commit");
    } catch {
      this.first.abandon();
      this.onOrphan(); // maintenance reconciles what is left
    }
  }

  private fail(jobs: Job[], err: unknown): void {
    for (const job of jobs) job.reject(err); // a job rejected already stays as it was
  }
}
