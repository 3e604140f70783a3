import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ModelDef } from "../models/types.ts";
import { KeyError, keyCheckValue, loadLinkKey, sameCheckValue } from "../crypto/link-key.ts";
import { Pseudonymizer } from "../crypto/pseudonym.ts";
import { ClinicalStore } from "./clinical.ts";
import { IdentityStore } from "./identity.ts";
import { RecordStore } from "./records.ts";
import { checkpoint, type Durability } from "./sqlite.ts";

export interface StoreOptions {
  dataDir: string;
  keyFile: string;
  durability: Durability;
  models: readonly ModelDef[];
}

export const IDENTITY_FILE = "identity.db";
export const CLINICAL_FILE = "clinical.db";

/** Both stores, the link key's pseudonymizer, and one RecordStore per model. */
export class Stores {
  readonly records = new Map<string, RecordStore>();
  /** orphaned clinical halves removed at startup (after an unclean stop). */
  readonly reconciled: number;
  private closed = false;

  private constructor(
    readonly identity: IdentityStore,
    readonly clinical: ClinicalStore,
    pseudo: Pseudonymizer,
    models: readonly ModelDef[],
  ) {
    for (const m of models) {
      this.records.set(m.name, new RecordStore(m, identity.table(m.name), clinical.table(m.name), pseudo));
    }
    // The flag is set only by a clean close: any other stop may have left orphans.
    const clean = identity.meta("clean_shutdown") === "1";
    identity.setMeta("clean_shutdown", "0");
    this.reconciled = clean ? 0 : [...this.records.values()].reduce((n, r) => n + r.reconcile(), 0);
  }

  static open(opts: StoreOptions): Stores {
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    const identity = IdentityStore.open(join(opts.dataDir, IDENTITY_FILE), opts.durability, opts.models);
    const clinical = ClinicalStore.open(join(opts.dataDir, CLINICAL_FILE), opts.durability, opts.models);
    try {
      const kcv = identity.meta("key_check");
      const hasData = kcv !== null || clinical.hasRows() || [...identity.tables.values()].some((t) => t.count() > 0);
      // A missing key is created only for brand-new stores; a lost key must never be replaced
      // silently, since the existing clinical halves would become unjoinable.
      const key = loadLinkKey(opts.keyFile, !hasData);
      if (kcv === null) {
        if (hasData) throw new KeyError("the stores hold data but no key check value; refusing to guess the link key");
        identity.setMeta("key_check", keyCheckValue(key));
      } else if (!sameCheckValue(kcv, keyCheckValue(key))) {
        throw new KeyError(`link key ${opts.keyFile} does not match these stores (key check value differs)`);
      }
      return new Stores(identity, clinical, new Pseudonymizer(key), opts.models);
    } catch (err) {
      identity.db.close();
      clinical.db.close();
      throw err;
    }
  }

  model(name: string): RecordStore {
    const r = this.records.get(name);
    if (!r) throw new Error(`no model ${name}`);
    return r;
  }

  /** Fold the WAL into the main files and truncate it (bounded WAL; erased values leave the WAL). */
  checkpoint(): void {
    checkpoint(this.clinical.db);
    checkpoint(this.identity.db);
  }

  /** Throws when a store cannot answer a trivial query. */
  ping(): void {
    this.identity.db.query("SELECT 1").get();
    this.clinical.db.query("SELECT 1").get();
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

  reset(): void {
    for (const r of this.records.values()) r.clear();
    this.checkpoint();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.checkpoint();
    this.identity.setMeta("clean_shutdown", "1");
    checkpoint(this.identity.db);
    this.identity.db.close();
    this.clinical.db.close();
  }
}
