import type { Database, Statement } from "bun:sqlite";

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

class Tx {
  private readonly stmts: Record<"begin" | "commit" | "rollback" | "savepoint" | "release" | "rollbackTo", Statement>;
  constructor(readonly db: Database) {
    const sql = { begin: "BEGIN IMMEDIATE", commit: "COMMIT", rollback: "ROLLBACK", savepoint: "SAVEPOINT job", release: "RELEASE job", rollbackTo: "ROLLBACK TO job" };
    this.stmts = Object.fromEntries(Object.entries(sql).map(([k, s]) => [k, db.prepare(s)])) as Tx["stmts"];
  }
  run(what: keyof Tx["stmts"]): void {
    this.stmts[what].run();
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
  /** committed batches and the jobs they carried (a batch that failed is not counted) */
  batches = 0;
  jobs = 0;
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
    while (this.queue.length > 0) this.flush();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate, not a microtask: it runs after every request of this turn was handled,
    // so they all join the batch. While a batch commits, new requests wait and form the next.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
      if (this.queue.length > 0) this.schedule();
    });
  }

  private flush(): void {
    const batch = this.queue.splice(0, this.maxBatch);
    const done: Job[] = [];
    try {
      this.first.run("begin");
      this.second.run("begin");
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
      this.first.run("begin");
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
