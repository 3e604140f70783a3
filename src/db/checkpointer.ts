import type { Durability } from "./sqlite.ts";

export interface CheckpointJob {
  paths: string[];
  intervalMs: number;
  synchronous: "NORMAL" | "FULL";
  /** Int32Array over a SharedArrayBuffer: [0] the mutex between the two threads */
  state: SharedArrayBuffer;
}

// the mutex: who may checkpoint now
export const FREE = 0;
export const WORKER = 1;
export const MAIN = 2;

/**
 * The worker's module. In the compiled binary every bundled module's import.meta.url is the
 * executable's own (file:///$bunfs/root/<name>) and the worker is embedded beside the entry
 * (src/) at db/checkpoint-worker; an absolute URL, so nothing is ever looked up in the cwd.
 */
const WORKER_URL = import.meta.url.includes("/$bunfs/")
  ? new URL("./db/checkpoint-worker.ts", import.meta.url).href
  : new URL("./checkpoint-worker.ts", import.meta.url).href;

/**
 * How long the main thread waits for a running background checkpoint before its own. The wait
 * blocks the event loop, so it is short: an erasure that cannot purge the WAL in time answers
 * 503 erasure_incomplete (the record is already gone, and the next checkpoint purges the WAL).
 */
const ERASURE_WAIT_MS = 500;
/** At shutdown a longer wait is fine; after it the thread is terminated anyway. */
const STOP_WAIT_MS = 5000;

/** The background checkpoint held the stores longer than the main thread could wait. */
export class CheckpointBusyError extends Error {
  override name = "CheckpointBusyError";
}

/**
 * WAL checkpoints on their own thread. A checkpoint copies every recent page into the main
 * file and fsyncs it: measured at 15–23 ms per second at 300 creates/s, which on the event
 * loop was every request's p99. The worker opens its own connections each tick (so it holds
 * nothing between ticks) and empties both WAL files every `intervalMs`, which keeps the WAL
 * bounded and the commit-order window of DESIGN §5 at about one interval.
 *
 * The main thread still checkpoints itself where an answer depends on it (an erasure is
 * acknowledged only once its values are out of the WAL; a clean close): `exclusive` first
 * waits for a background checkpoint in progress, so the two never race.
 */
export class Checkpointer {
  private readonly state = new Int32Array(new SharedArrayBuffer(4));
  private readonly worker: Worker;
  private stopped = false;
  /** false once the thread failed: the event loop checkpoints again (see Stores.maintain) */
  alive = true;
  /** background checkpoints that completed, and those that could not (a reader held the WAL) */
  done = 0;
  failed = 0;

  constructor(paths: string[], intervalMs: number, durability: Durability) {
    // Listed as an entrypoint of the compiled binary (scripts/build.ts), so it is embedded.
    this.worker = new Worker(WORKER_URL);
    this.worker.onmessage = (e: MessageEvent<{ ok: boolean }>) => void (e.data.ok ? this.done++ : this.failed++);
    this.worker.onerror = () => {
      this.alive = false;
      console.error("privata: the checkpoint thread failed; checkpoints run on the main thread");
    };
    // never keeps the process alive on its own: a server stops by its signal handler
    this.worker.unref();
    const job: CheckpointJob = { paths, intervalMs, synchronous: durability === "full" ? "FULL" : "NORMAL", state: this.state.buffer as SharedArrayBuffer };
    this.worker.postMessage(job);
  }

  /** Whether a background checkpoint is running now (it may hold a store's write lock). */
  running(): boolean {
    return Atomics.load(this.state, 0) === WORKER;
  }

  /**
   * Run `fn` while no background checkpoint runs (waits for one in progress).
   * Throws CheckpointBusyError if that takes longer than `waitMs`.
   */
  exclusive<T>(fn: () => T, waitMs = ERASURE_WAIT_MS): T {
    if (!this.acquire(waitMs)) throw new CheckpointBusyError("the background checkpoint did not finish in time");
    try {
      return fn();
    } finally {
      if (!this.stopped) this.release();
    }
  }

  /**
   * Stop for good: waits for a checkpoint in progress, so the worker holds no connection after
   * (a stuck one is terminated anyway after STOP_WAIT_MS: a shutdown must finish).
   */
  stop(): void {
    if (this.stopped) return;
    const got = this.acquire(STOP_WAIT_MS);
    this.stopped = true; // the mutex stays taken: the worker never starts another tick
    if (!got) console.error("privata: the checkpoint thread did not finish; stopping it");
    void this.worker.terminate();
  }

  /** For tests: the mutex, to play a background checkpoint that runs long. */
  get mutex(): Int32Array {
    return this.state;
  }

  /** Take the mutex within `waitMs`; true when taken (or when stopped: no worker runs then). */
  private acquire(waitMs: number): boolean {
    const deadline = Date.now() + waitMs;
    while (Atomics.compareExchange(this.state, 0, FREE, MAIN) !== FREE) {
      if (this.stopped) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      Atomics.wait(this.state, 0, WORKER, left);
    }
    return true;
  }

  private release(): void {
    Atomics.store(this.state, 0, FREE);
    Atomics.notify(this.state, 0);
  }
}
