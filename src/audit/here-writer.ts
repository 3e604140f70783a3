import { isBusy } from "../db/sqlite.ts";
import type { ChainWriter } from "./chain-writer.ts";
import type { AuditInput } from "./types.ts";

/**
 * Writing batches on the calling thread: tests, the CLI, and the server until its writer
 * thread starts (AuditLog). Never waits inside SQLite: the checkpoint thread takes audit.db's
 * write lock for its short TRUNCATE, so a batch that finds it taken is tried again a moment
 * later (like the group commit of the records); one that fails for longer (disk full, a file
 * locked by someone else) is reported once and retried every retryMs by the log.
 */
export class HereWriter {
  /** the last write failed; events wait in the log's queue and are retried */
  failing = false;
  written = 0;
  /** the last write found the write lock taken: the log tries again within 1 ms, not retryMs */
  busy = false;
  /** when the write lock was first found taken */
  private busySince = 0;

  constructor(
    private readonly writer: ChainWriter,
    private readonly retryMs: number,
  ) {}

  /** The whole batch in one transaction; false when nothing of it was written. */
  write(batch: AuditInput[]): boolean {
    this.busy = false;
    try {
      this.writer.writeBatch(batch, false);
    } catch (err) {
      if (isBusy(err) && Date.now() - (this.busySince ||= Date.now()) < this.retryMs) {
        this.busy = true;
        return false;
      }
      if (!this.failing) console.error(`privata: audit events cannot be written (${(err as Error).message.split("\n")[0]}); retrying`);
      this.failing = true;
      return false;
    }
    this.written += batch.length;
    this.failing = false;
    this.busySince = 0;
    return true;
  }
}
