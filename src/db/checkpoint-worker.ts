// The checkpoint thread (see checkpointer.ts). It runs beside the event loop so that copying
// the WAL into the main files, and the fsync that goes with it, never stalls a request.
import { Database } from "bun:sqlite";
import { FREE, WORKER, type CheckpointJob } from "./checkpointer.ts";

declare const self: Worker;

/** Checkpoint one store: the long part without the write lock, then a short TRUNCATE. */
function checkpointFile(path: string, synchronous: string): boolean {
  const db = new Database(path, { readwrite: true, create: false, strict: true });
  try {
    // never wait inside SQLite: a busy TRUNCATE is retried below, between short sleeps
    db.run("PRAGMA busy_timeout = 0");
    db.run(`PRAGMA synchronous = ${synchronous}`);
    // PASSIVE copies every committed frame and syncs, while the server reads and writes on
    db.query("PRAGMA wal_checkpoint(PASSIVE)").get();
    // TRUNCATE takes the write lock only to copy what arrived meanwhile and empty the file
    for (let attempt = 0; attempt < 50; attempt++) {
      const r = db.query<{ busy: number }, []>("PRAGMA wal_checkpoint(TRUNCATE)").get();
      if (r?.busy === 0) return true;
      Bun.sleepSync(2);
    }
    return false;
  } finally {
    db.close();
  }
}

self.onmessage = (event: MessageEvent<CheckpointJob>) => {
  const { paths, intervalMs, synchronous } = event.data;
  const state = new Int32Array(event.data.state);
  const tick = () => {
    // The main thread takes the mutex for its own checkpoints (erasure, close): skip a turn.
    if (Atomics.compareExchange(state, 0, FREE, WORKER) === FREE) {
      let ok = true;
      try {
        for (const p of paths) ok = checkpointFile(p, synchronous) && ok;
      } catch {
        ok = false; // a store that cannot be opened now: the next tick tries again
      } finally {
        Atomics.store(state, 0, FREE);
        Atomics.notify(state, 0);
      }
      postMessage({ ok });
    }
    setTimeout(tick, intervalMs);
  };
  tick();
};
