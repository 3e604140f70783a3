import type { ModelDef } from "../models/types.ts";
import { withDefaults, type ApiRecord, type Fields } from "../models/schema.ts";
import { randomPseudonym, type Pseudonymizer } from "../crypto/pseudonym.ts";
import type { Filter, IdentityRow, IdentityTable } from "./identity.ts";
import type { ClinicalTable } from "./clinical.ts";
import { listAcross } from "./list.ts";
import { reconcile } from "./reconcile.ts";
import { ErasurePendingError, IncompleteRecordError } from "./errors.ts";
import { UNBATCHED, type WriteContext } from "./group-commit.ts";

export type Page = {
  ids: string[];
  next: string | null;
  /**
   * Reads one record of the page. A filter across both stores has already read every
   * candidate whole to filter it, so a cache miss is served from those rows instead of
   * reading both stores a second time.
   */
  record: (id: string) => ApiRecord | null;
};

/**
 * One model across both stores. The two files cannot commit atomically together, so every
 * write is ordered so that a crash between the two commits never leaves half a record
 * visible: the only possible leftover is a clinical half without identity, which is
 * invisible (reads start from identity) and removed by startup reconciliation.
 */
export class RecordStore {
  /**
   * Rows per store, kept in memory (for /stats, /metrics and to plan cross-store lists without
   * a count scan): moved only after a commit, and recounted when a failed step leaves them unsure.
   */
  private size: number;
  private clinicalRows: number;
  private deidentifiedRows: number;
  private countsUnsure = false;
  /** clinical halves of gdprCompliant deletes whose second step failed, to de-identify */
  private readonly pendingDeidentify: Uint8Array[] = [];

  constructor(
    readonly model: ModelDef,
    private readonly identity: IdentityTable,
    private readonly clinical: ClinicalTable,
    private readonly pseudo: Pseudonymizer,
    /** told when a failed second step may have left a clinical half without identity */
    private readonly onOrphan: () => void,
  ) {
    this.size = identity.count();
    ({ total: this.clinicalRows, deidentified: this.deidentifiedRows } = clinical.counts());
  }

  /** `ctx`: the group-commit batch the write runs in (see group-commit.ts), if any. */
  create(input: Fields, ctx: WriteContext = UNBATCHED): ApiRecord {
    const id = Bun.randomUUIDv7();
    const now = new Date().toISOString();
    const fields = withDefaults(this.model, input);
    const p = this.pseudo.pseudonym(id);
    // Order matters: clinical half first, identity half second, answer last.
    this.clinical.insert(p, fields);
    try {
      this.identity.insert({ id, createdAt: now, updatedAt: now, fields });
    } catch (err) {
      try {
        this.clinical.delete(p);
      } catch {
        this.countsUnsure = true;
        this.onOrphan(); // reconciliation removes it
      }
      throw err;
    }
    ctx.undo(() => this.clinical.delete(p));
    ctx.committed(() => {
      this.size++;
      this.clinicalRows++;
    });
    return this.toRecord({ id, createdAt: now, updatedAt: now, fields });
  }

  get(id: string): ApiRecord | null {
    return this.read(id)?.record ?? null;
  }

  /** The record and whether its processing is restricted (then only an admin may read it). */
  read(id: string): { record: ApiRecord; restricted: boolean } | null {
    const row = this.identity.get(id);
    return row ? { record: this.join(row, this.clinical.get(this.pseudo.pseudonym(id))), restricted: row.restricted === true } : null;
  }

  /**
   * Restrict processing, or lift it; false when there is no such record. Clinical first when
   * restricting, so research queries stop seeing the record before anything else does; a
   * crash between the two commits leaves the flags apart only for an unanswered request, and
   * repeating it converges.
   */
  restrict(id: string, on: boolean): boolean {
    if (!this.identity.get(id)) return false;
    const p = this.pseudo.pseudonym(id);
    if (on) {
      if (!this.clinical.setRestricted(p, true)) throw new IncompleteRecordError();
      this.identity.setRestricted(id, true);
    } else {
      this.identity.setRestricted(id, false);
      this.clinical.setRestricted(p, false);
    }
    return true;
  }

  /** A page of unrestricted clinical halves (linked and de-identified) for research queries. */
  research(filter: Filter, after: Uint8Array | null, limit: number) {
    return this.clinical.research(filter, after, limit);
  }

  /**
   * Partial update. An unacknowledged update may be partly applied; repeating it converges.
   * A restricted record is updated only when `allowRestricted` (an admin); otherwise null,
   * as for a record that does not exist.
   */
  update(id: string, patch: Fields, ctx: WriteContext = UNBATCHED, allowRestricted = true): { record: ApiRecord; restricted: boolean } | null {
    const found = this.read(id);
    if (!found || (found.restricted && !allowRestricted)) return null;
    const current = found.record;
    const fields: Fields = {};
    for (const name of Object.keys(this.model.fields)) fields[name] = patch[name] !== undefined ? patch[name]! : current[name]!;
    const touchesClinical = Object.keys(patch).some((k) => this.model.fields[k]?.class === "clinical");
    const p = this.pseudo.pseudonym(id);
    if (touchesClinical && !this.clinical.update(p, fields)) throw new IncompleteRecordError();
    const updated: IdentityRow = { id, createdAt: current.createdAt, updatedAt: new Date().toISOString(), fields };
    try {
      this.identity.update(updated);
    } catch (err) {
      // A failed (not crashed) update must not stay half applied: put the clinical half back.
      // Only if that fails too is the record left with the new clinical values.
      try {
        if (touchesClinical) this.clinical.update(p, current);
      } catch {
        // the store is still failing: repeating the update converges
      }
      throw err;
    }
    if (touchesClinical) ctx.undo(() => this.clinical.update(p, current));
    return { record: this.toRecord(updated), restricted: found.restricted };
  }

  /**
   * Identity half first: once it is gone the record is gone for every reader, and a crash
   * before the clinical step leaves only an orphan that reconciliation removes (erring on
   * the side of erasure). With `deidentify` the clinical half is kept under a random
   * pseudonym that nothing, not even the link key, maps back to the id.
   */
  delete(id: string, deidentify: boolean, allowRestricted = true): boolean {
    if (!allowRestricted && this.identity.get(id)?.restricted) return false;
    if (!this.identity.delete(id)) return false;
    this.size--;
    const p = this.pseudo.pseudonym(id);
    try {
      if (!deidentify) this.clinicalRows -= Number(this.clinical.delete(p));
      else this.deidentifiedRows += Number(this.clinical.deidentify(p, randomPseudonym()));
    } catch {
      this.countsUnsure = true;
      // The record is already gone for every reader (a later DELETE finds a 404); its clinical
      // half is left to maintenance: de-identified if asked, else removed as an orphan.
      if (deidentify) this.pendingDeidentify.push(p);
      this.onOrphan();
      throw new ErasurePendingError();
    }
    return true;
  }

  /**
   * Maintenance: de-identify the halves whose gdprCompliant delete could not finish, then
   * remove any other orphan. If the server stops before this runs, startup reconciliation
   * removes those halves instead of keeping them (erring on the side of erasure).
   */
  finishPending(): number {
    this.countsUnsure = true;
    while (this.pendingDeidentify.length > 0) {
      this.clinical.deidentify(this.pendingDeidentify[0]!, randomPseudonym());
      this.pendingDeidentify.shift();
    }
    return this.reconcile();
  }

  /**
   * The ids of one page in id (creation) order; filters may name indexed fields of either
   * store. Ids only: the route serves each record from its cached encoding, and reads the
   * stores (get) only for the records not in the cache.
   */
  listIds(filter: Filter, cursor: string | null, limit: number): Page {
    const idFilter: Filter = {};
    const clinFilter: Filter = {};
    for (const [k, v] of Object.entries(filter)) {
      (this.model.fields[k]?.class === "clinical" ? clinFilter : idFilter)[k] = v;
    }
    // one more than the page, to know whether there is a next page
    let ids: string[];
    let record = (id: string) => this.get(id);
    if (Object.keys(clinFilter).length === 0) {
      ids = this.identity.listIds(idFilter, cursor, limit + 1);
    } else {
      const rows = listAcross({ identity: this.identity, clinical: this.clinical, pseudo: this.pseudo, size: this.size }, idFilter, clinFilter, cursor, limit + 1);
      ids = rows.map((r) => r.row.id);
      const read = new Map(rows.map((r) => [r.row.id, r]));
      record = (id) => {
        const r = read.get(id);
        return r ? this.join(r.row, r.clinical) : this.get(id);
      };
    }
    const more = ids.length > limit;
    if (more) ids.length = limit;
    return { ids, next: more ? (ids[ids.length - 1] ?? null) : null, record };
  }

  counts(): { identity: number; clinical: number; deidentified: number } {
    if (this.countsUnsure) {
      this.countsUnsure = false;
      this.size = this.identity.count();
      ({ total: this.clinicalRows, deidentified: this.deidentifiedRows } = this.clinical.counts());
    }
    return { identity: this.size, clinical: this.clinicalRows, deidentified: this.deidentifiedRows };
  }

  /** Remove clinical halves whose identity half never committed. Returns how many. */
  reconcile(chunk?: number): number {
    const removed = reconcile(this.identity, this.clinical, this.pseudo, chunk);
    if (removed > 0) this.countsUnsure = true; // rare (after a failure or crash): recount
    return removed;
  }

  clear(): void {
    this.identity.clear();
    this.clinical.clear();
    this.size = this.clinicalRows = this.deidentifiedRows = 0;
    this.countsUnsure = false;
    this.pendingDeidentify.length = 0;
  }

  /** Never fill a missing clinical half with defaults: that would serve values nobody wrote. */
  private join(row: IdentityRow, clinical: Fields | null): ApiRecord {
    if (!clinical) throw new IncompleteRecordError();
    return this.toRecord({ ...row, fields: { ...clinical, ...row.fields } });
  }

  /** The response shape: id, declared fields in declaration order, then timestamps. */
  private toRecord(row: IdentityRow): ApiRecord {
    const out: Record<string, unknown> = { id: row.id };
    for (const name of Object.keys(this.model.fields)) out[name] = row.fields[name] ?? null;
    out.createdAt = row.createdAt;
    out.updatedAt = row.updatedAt;
    return out as ApiRecord;
  }
}
