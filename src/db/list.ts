import type { Fields } from "../models/schema.ts";
import type { Pseudonymizer } from "../crypto/pseudonym.ts";
import type { Filter, IdentityRow, IdentityTable } from "./identity.ts";
import type { ClinicalTable } from "./clinical.ts";

export type JoinedRow = { row: IdentityRow; clinical: Fields | null };

interface Sources {
  identity: IdentityTable;
  clinical: ClinicalTable;
  pseudo: Pseudonymizer;
  /** records in the model (approximate is fine: it only steers the plan) */
  size: number;
}

/**
 * Up to `take` records in id order after `cursor` matching filters on both stores. The
 * clinical store has no ids, so the join goes through the link key in memory, by whichever
 * of two plans touches fewer rows:
 * - from the clinical index: all m matching pseudonyms, decrypted to ids and sorted (cost m);
 * - from identity in id order, checking each record's clinical half by point lookup (cost
 *   about take × size / m when matches are spread evenly).
 * The worse case of the better plan is about sqrt(take × size) rows, never a table scan.
 */
export function listAcross(src: Sources, idFilter: Filter, clinFilter: Filter, cursor: string | null, take: number): JoinedRow[] {
  const matches = src.clinical.countMatching(clinFilter);
  if (matches === 0) return [];
  const walkCost = (take * src.size) / matches;
  return matches <= walkCost
    ? fromClinicalIndex(src, idFilter, clinFilter, cursor, take)
    : fromIdentityOrder(src, idFilter, clinFilter, cursor, take);
}

function fromClinicalIndex(src: Sources, idFilter: Filter, clinFilter: Filter, cursor: string | null, take: number): JoinedRow[] {
  const ids = src.pseudo
    .recordIds(src.clinical.matching(clinFilter))
    .filter((id) => cursor === null || id > cursor)
    .sort();
  const out: JoinedRow[] = [];
  for (const id of ids) {
    if (out.length >= take) break;
    const row = src.identity.get(id);
    if (row && Object.entries(idFilter).every(([k, v]) => row.fields[k] === v)) {
      out.push({ row, clinical: src.clinical.get(src.pseudo.pseudonym(id)) });
    }
  }
  return out;
}

function fromIdentityOrder(src: Sources, idFilter: Filter, clinFilter: Filter, cursor: string | null, take: number): JoinedRow[] {
  const out: JoinedRow[] = [];
  const batch = Math.max(64, take * 4);
  let after = cursor;
  for (;;) {
    const rows = src.identity.list(idFilter, after, batch);
    for (const row of rows) {
      const clinical = src.clinical.getMatching(src.pseudo.pseudonym(row.id), clinFilter);
      if (clinical) out.push({ row, clinical });
      if (out.length >= take) return out;
    }
    if (rows.length < batch) return out;
    after = rows[rows.length - 1]!.id;
  }
}
