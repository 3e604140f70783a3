import { closeSync, fsyncSync, linkSync, openSync, unlinkSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";

/**
 * Create `path` with `content` (mode 0600) so that it is either absent or complete after a
 * crash or power loss: written and fsynced under a temporary name, then linked into place
 * (which fails if the file exists: never overwrite a key another process just wrote) and the
 * directory fsynced. A key file that is there but empty would lock the stores out for good:
 * found by the read-only fault test, where a failing file system dropped the unsynced key.
 */
export function createDurably(path: string, content: string): void {
  const tmp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } finally {
    unlinkSync(tmp);
  }
  const dir = openSync(dirname(path), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
