import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ModelDef } from "../models/types.ts";
import { auditPseudonymKey, Pseudonymizer } from "../crypto/pseudonym.ts";
import { ClinicalStore } from "./clinical.ts";
import { IdentityStore } from "./identity.ts";
import { lockDataDir } from "./lock.ts";
import { RecordStore } from "./records.ts";
import { openLinkKey, pairStores } from "./pairing.ts";
import { checkpoint, isBusy, probeWrite, type Durability } from "./sqlite.ts";
import { GroupCommit } from "./group-commit.ts";
import { explainOpenError } from "./startup-check.ts";
import { CheckpointBusyError, Checkpointer } from "./checkpointer.ts";
import { KeyStore } from "./keys.ts";
import { ResearchIdRegistry } from "../crypto/research-id.ts";

export interface StoreOptions {
  dataDir: string;
  keyFile: string;
  durability: Durability;
  models: readonly ModelDef[];
}

const FAILURE_MEMORY_MS = 5000;

export const IDENTITY_FILE = "identity.db";
export const CLINICAL_FILE = "clinical.db";

/** Both stores, the link key's pseudonymizer, and one RecordStore per model. */
export class Stores {
  readonly records = new Map<string, RecordStore>();
  /** creates and updates of one event-loop turn, one transaction per store (clinical first) */
  readonly commits: GroupCommit;
  /** orphaned clinical halves removed at startup (after an unclean stop). */
  readonly reconciled: number;
  private closed = false;
  /** set when a failed second write step may have left an orphan: maintenance reconciles */
  private orphansPossible = false;
  private readonly inodes: [string, number][];
  private lastFailure = 0;
  /** the checkpoint thread, once a server started it (tests drive maintain() by hand) */
  private checkpointer: Checkpointer | null = null;

  /** API keys (in identity.db, so a backup of the stores carries them) */
  readonly keys: KeyStore;
  /** per-researcher ids for research pages, derived from the link key */
  readonly researchIds: ResearchIdRegistry;

  private constructor(
    readonly identity: IdentityStore,
    readonly clinical: ClinicalStore,
    private readonly pseudo: Pseudonymizer,
    /** also for the audit writer thread, which turns record ids into pseudonyms */
    readonly linkKey: Buffer,
    models: readonly ModelDef[],
    private readonly unlock: () => void,
    dataDir: string,
  ) {
    this.keys = new KeyStore(identity.db);
    this.researchIds = new ResearchIdRegistry(linkKey);
    const onOrphan = () => (this.orphansPossible = true);
    this.commits = new GroupCommit(clinical.db, identity.db, onOrphan);
    for (const m of models) {
      this.records.set(m.name, new RecordStore(m, identity.table(m.name), clinical.table(m.name), pseudo, onOrphan));
    }
    this.inodes = [IDENTITY_FILE, CLINICAL_FILE].map((f) => [join(dataDir, f), statSync(join(dataDir, f)).ino]);
    // The flag is set only by a clean close: any other stop may have left orphans. Clearing it
    // is checkpointed at once, so even a power loss right after start cannot undo it.
    const clean = identity.meta.get("clean_shutdown") === "1";
    identity.meta.set("clean_shutdown", "0");
    checkpoint(identity.db);
    this.reconciled = clean ? 0 : this.reconcile();
  }

  private reconcile(): number {
    return [...this.records.values()].reduce((n, r) => n + r.reconcile(), 0);
  }

  static open(opts: StoreOptions): Stores {
    // Only the data dir itself is created: a typo in its parent path should fail, not
    // silently grow a new tree somewhere.
    if (!existsSync(dirname(opts.dataDir))) throw new Error(`the parent of data dir ${opts.dataDir} does not exist`);
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    let unlock: () => void;
    try {
      unlock = lockDataDir(opts.dataDir);
    } catch (err) {
      throw explainOpenError(`data dir ${opts.dataDir}`, err); // e.g. a read-only mount
    }
    let identity: IdentityStore | undefined;
    let clinical: ClinicalStore | undefined;
    try {
      identity = IdentityStore.open(join(opts.dataDir, IDENTITY_FILE), opts.durability, opts.models);
      clinical = ClinicalStore.open(join(opts.dataDir, CLINICAL_FILE), opts.durability, opts.models);
      const empty = !clinical.hasRows() && [...identity.tables.values()].every((t) => t.count() === 0);
      const key = openLinkKey(identity, clinical, opts.keyFile, empty);
      pairStores(identity, clinical, empty);
      return new Stores(identity, clinical, new Pseudonymizer(key), key, opts.models, unlock, opts.dataDir);
    } catch (err) {
      identity?.db.close(true);
      clinical?.db.close(true);
      unlock();
      // each file was checked as it opened (sqlite.ts); what fails after that (pairing, the
      // clean-stop flag, reconciliation) still gets one clear line naming the data dir
      throw explainOpenError(`the stores in ${opts.dataDir}`, err);
    }
  }

  /** A record id's clinical pseudonym as hex (audit events before auditPseudonymKey held it); null if not an id. */
  pseudonymHex(id: string): string | null {
    return this.pseudo.pseudonymsHex([id])[0] ?? null;
  }

  /** A record id's pseudonym in the audit trail (never the id, nor its clinical pseudonym); null if not an id. */
  auditPseudonymHex(id: string): string | null {
    return this.auditPseudonymsHex([id])[0] ?? null;
  }

  /** Many at once, for a batch of audit events (one cipher call). */
  auditPseudonymsHex(ids: readonly string[]): (string | null)[] {
    return (this.auditPseudo ??= new Pseudonymizer(auditPseudonymKey(this.linkKey))).pseudonymsHex(ids);
  }

  private auditPseudo: Pseudonymizer | undefined;

  model(name: string): RecordStore {
    const r = this.records.get(name);
    if (!r) throw new Error(`no model ${name}`);
    return r;
  }

  /**
   * Fold both WALs into the main files and truncate them: keeps the WAL bounded, and takes
   * erased values (and the commit order of recent writes) out of the WAL files.
   * False when a reader outside this process kept a checkpoint from completing.
   */
  checkpoint(): boolean {
    const both = () => {
      const c = checkpoint(this.clinical.db);
      const i = checkpoint(this.identity.db);
      return c && i;
    };
    if (!this.checkpointer) return both();
    try {
      return this.checkpointer.exclusive(both);
    } catch (err) {
      // a long background checkpoint: not done now; the caller reports it (503 for an erasure)
      if (err instanceof CheckpointBusyError) return false;
      throw err;
    }
  }

  /** Checkpoint both WALs every `intervalMs` on a thread of their own (see checkpointer.ts). */
  startCheckpoints(intervalMs: number, durability: Durability, alsoFiles: readonly string[] = []): void {
    // alsoFiles: audit.db, whose WAL would otherwise grow to the autocheckpoint on the event loop
    this.checkpointer ??= new Checkpointer([this.clinical.db.filename, this.identity.db.filename, ...alsoFiles], intervalMs, durability);
  }

  /** The checkpoint thread, if started (tests use its mutex to play a long checkpoint). */
  get checkpoints(): Checkpointer | null {
    return this.checkpointer;
  }

  /** Background checkpoints so far: completed, and those a reader outside kept from finishing. */
  checkpointStats(): { thread: boolean; done: number; failed: number } {
    const c = this.checkpointer;
    return { thread: c?.alive ?? false, done: c?.done ?? 0, failed: c?.failed ?? 0 };
  }

  /** The timer's work: finish any cleanup a failed write left behind, then checkpoint. */
  maintain(): void {
    if (this.orphansPossible) {
      for (const r of this.records.values()) r.finishPending();
      this.orphansPossible = false;
    }
    // with the checkpoint thread running, the event loop leaves the WAL to it
    if (!this.checkpointer?.alive) this.checkpoint();
  }

  /** A request just failed on a store: /health reports it for a while (see ping). */
  noteFailure(): void {
    this.lastFailure = Date.now();
  }

  /**
   * Throws when a store cannot be read or written now, its file was removed or replaced under
   * us, or a request failed on a store in the last few seconds (what a single probe cannot
   * see, like a corrupt page or a full disk).
   */
  ping(): void {
    if (Date.now() - this.lastFailure < FAILURE_MEMORY_MS) throw new Error("a request failed on a store just now");
    for (const [path, ino] of this.inodes) {
      if (statSync(path, { throwIfNoEntry: false })?.ino !== ino) throw new Error(`${path} was removed or replaced`);
    }
    for (const db of [this.identity.db, this.clinical.db]) {
      try {
        probeWrite(db);
      } catch (err) {
        // Our own checkpoint thread holding the write lock for a moment is not a failure: if it
        // is still running, the probe proves nothing either way; if it just ended, probe again.
        if (!isBusy(err) || !this.checkpointer) throw err;
        if (!this.checkpointer.running()) probeWrite(db);
      }
    }
  }

  counts(): { identity: number; clinical: number; deidentified: number } {
    const total = { identity: 0, clinical: 0, deidentified: 0 };
    for (const r of this.records.values()) {
      const c = r.counts();
      total.identity += c.identity;
      total.clinical += c.clinical;
      total.deidentified += c.deidentified;
    }
    return total;
  }

  /** Empty every model; false when the emptied values could not yet be purged from the WAL. */
  reset(): boolean {
    for (const r of this.records.values()) r.clear();
    this.orphansPossible = false;
    return this.checkpoint();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.commits.drain(); // writes still queued are written (or fail) before the files close
    this.checkpointer?.stop(); // waits for a checkpoint in progress; its connections close
    // Only a close with no cleanup pending counts as clean (see the constructor).
    this.identity.meta.set("clean_shutdown", this.orphansPossible ? "0" : "1");
    this.checkpoint();
    // close(true) finalizes every statement, so SQLite really closes and removes -wal/-shm
    this.identity.db.close(true);
    this.clinical.db.close(true);
    this.unlock();
  }
}
