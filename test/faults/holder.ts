// Another process holding a store's write lock, as a sqlite3 shell with an open transaction or
// a backup tool would: a real process, so the lock is a real file lock between processes.
import type { Subprocess } from "bun";

const SCRIPT = `
const { Database } = require("bun:sqlite");
const db = new Database(process.env.HOLD_DB);
db.run("PRAGMA busy_timeout = 5000"); // wait out the server's own short transactions
db.run("BEGIN IMMEDIATE");
console.log("held");
setInterval(() => {}, 1 << 30);
`;

export interface Holder {
  /** end the holding process; the kernel drops its locks */
  release: () => Promise<void>;
}

export async function holdWriteLock(dbPath: string): Promise<Holder> {
  const proc: Subprocess<"ignore", "pipe", "inherit"> = Bun.spawn([process.execPath, "-e", SCRIPT], {
    env: { ...process.env, HOLD_DB: dbPath },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  if (!new TextDecoder().decode(value).includes("held")) {
    proc.kill("SIGKILL");
    throw new Error(`the lock holder did not get the lock on ${dbPath}`);
  }
  return {
    release: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
