import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, rmSync, statSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";

/** A backup or restore that cannot go ahead (bad target, bad backup): one line, exit 1. */
export class BackupError extends Error {
  override name = "BackupError";
}

/** SHA-256 (hex) and size of a file, read in chunks so a large store never sits in memory. */
export function hashFile(path: string): { sha256: string; bytes: number } {
  const hasher = new Bun.CryptoHasher("sha256");
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, "r");
  let bytes = 0;
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; bytes += n) hasher.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return { sha256: hasher.digest("hex"), bytes };
}

/** fsync a file or a directory (a rename or a new entry is durable only once its dir is synced). */
export function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest. */
function realish(path: string): string {
  const abs = resolve(path);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = dirname(abs);
  return parent === abs ? abs : resolve(realish(parent), abs.slice(parent.length + 1));
}

/** Whether `inner` is `outer` or lies below it (after resolving symlinks of what exists). */
export function isInside(inner: string, outer: string): boolean {
  const a = realish(inner);
  const b = realish(outer);
  return a === b || a.startsWith(b.endsWith(sep) ? b : b + sep);
}

/**
 * A directory to write into must be new or empty: a backup or restore never mixes its files
 * with others, never overwrites anything, and can remove exactly what it created on failure.
 * Only the directory itself may be created; its parent must exist (a typo fails instead of
 * growing a tree somewhere).
 */
export function checkEmptyTarget(dir: string, what: string): void {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (st) {
    if (!st.isDirectory()) throw new BackupError(`${what} ${dir} exists and is not a directory`);
    if (readdirSync(dir).length > 0) throw new BackupError(`${what} ${dir} is not empty; refusing to write into it`);
  } else if (!existsSync(dirname(resolve(dir)))) {
    throw new BackupError(`the parent of ${what} ${dir} does not exist`);
  }
}

/**
 * Everything a run created, newest first, so a failure removes exactly that and nothing else
 * (a directory only if this run made it; files by path, never a directory's other content).
 */
export class Created {
  private readonly items: { path: string; dir: boolean }[] = [];

  /** Create `dir` (mode 0700) unless it exists; remember it only if it was made here. */
  dir(dir: string): void {
    if (existsSync(dir)) return;
    mkdirSync(dir, { mode: 0o700 });
    this.items.push({ path: dir, dir: true });
  }

  file(path: string): void {
    this.items.push({ path, dir: false });
  }

  /** Forget everything: the run succeeded, its files stay. */
  keep(): void {
    this.items.length = 0;
  }

  /** Remove what this run created. Never throws: the original error is what matters. */
  undo(): void {
    for (const { path, dir } of this.items.reverse()) {
      try {
        // a dir this run created holds only files this run created (it was new)
        rmSync(path, { recursive: dir, force: true });
      } catch {
        // best effort; the error that made us undo is reported
      }
    }
    this.items.length = 0;
  }
}
