import { dlopen, FFIType } from "bun:ffi";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";

const LOCK_EX = 2;
const LOCK_NB = 4;

type Flock = (fd: number, op: number) => number;

/** libc flock through bun:ffi: the kernel drops the lock when the process dies, even on kill -9. */
function loadFlock(): Flock | null {
  for (const name of ["libc.so.6", "libc.so", "libc.dylib"]) {
    try {
      const lib = dlopen(name, { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
      return (fd, op) => lib.symbols.flock(fd, op);
    } catch {
      // try the next name
    }
  }
  return null;
}

const flock = loadFlock();

export class LockError extends Error {
  override name = "LockError";
}

/**
 * One server per data dir. Two servers on the same files would serve stale cache entries
 * after each other's writes, and one's startup reconciliation could delete the other's
 * half-written create. Returns the release function.
 */
export function lockDataDir(dataDir: string): () => void {
  const fd = openSync(join(dataDir, "privata.lock"), "a", 0o600);
  if (!flock) {
    console.error("privata: warning: cannot lock the data dir on this platform; never start two servers on it");
    return () => closeSync(fd);
  }
  if (flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    closeSync(fd);
    throw new LockError(`data dir ${dataDir} is in use by another privata process`);
  }
  return () => closeSync(fd); // closing the descriptor releases the lock
}
