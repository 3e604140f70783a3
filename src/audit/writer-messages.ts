// What the event loop and the audit writer thread (writer-thread.ts) tell each other.
import type { AuditInput } from "./types.ts";

export type ToWriter =
  | { type: "init"; path: string; auditKey: Uint8Array; pseudonymKey: Uint8Array; durability: string; retryMs: number; ring: SharedArrayBuffer }
  /** a window: the events in the shared buffer (event-ring.ts) up to `end`, `n` of them */
  | { type: "batch"; end: number; n: number }
  /** one event too large for the buffer, after the window before it */
  | { type: "event"; event: AuditInput }
  /** write what is pending (retrying for up to waitMs), close audit.db, answer "closed" */
  | { type: "close"; waitMs: number };

export type FromWriter =
  /** `n` events written, which took `bytes` of the shared buffer (now free) */
  | { type: "written"; n: number; bytes: number }
  /** the first failure of a series (the batch is kept and retried) */
  | { type: "failing"; message: string }
  | { type: "closed"; unwritten: number };

/**
 * The thread's module. In the compiled binary every bundled module's import.meta.url is the
 * executable's own (file:///$bunfs/root/<name>) and the worker is embedded beside the entry
 * (src/) at audit/writer-thread; an absolute URL, so nothing is looked up in the cwd.
 */
export const WRITER_URL = import.meta.url.includes("/$bunfs/")
  ? new URL("./audit/writer-thread.ts", import.meta.url).href
  : new URL("./writer-thread.ts", import.meta.url).href;
