import type { Fields } from "../models/schema.ts";
import type { Pseudonymizer } from "../crypto/pseudonym.ts";
import type { Filter, IdentityRow, IdentityTable } from "./identity.ts";
import type { ClinicalTable } from "./clinical.ts";
import { IncompleteRecordError } from "./errors.ts";

export type JoinedRow = { row: IdentityRow; clinical: Fields };

interface Sources {
  identity: IdentityTable;
  clinical: ClinicalTable;
  pseudo: Pseudonymizer;
  /** records in the model (approximate is fine: it only steers the plan) */
  size: number;
}

const matchesAll = (fields: Fields, filter: Filter) => Object.entries(filter).every(([k, v]) => fields[k] === v);

/**
 * Up to `take` records in id order after `cursor` matching filters on both stores. The
 * clinical store has no ids, so the join goes through the link key in memory:
 * - from the clinical index: the m matching pseudonyms, decrypted to ids and sorted (cost m);
 * - from identity in id order, checking each record's clinical half by point lookup (cost
 *   about take × size / m when matches are spread evenly).
 * The walk gets a budget of m rows; past it (matches clustered, or filters that never meet)
 * it hands over to the index plan from where it stopped. Worst case about 2m rows.
 */
export function listAcross(src: Sources, idFilter: Filter, clinFilter: Filter, cursor: string | null, take: number): JoinedRow[] {
  const matches = src.clinical.countMatching(clinFilter);
  if (matches === 0) return [];
  if (matches <= (take * src.size) / matches) return fromClinicalIndex(src, idFilter, clinFilter, cursor, take);
  const walked = fromIdentityOrder(src, idFilter, clinFilter, cursor, take, matches);
  if (walked.done) return walked.rows;
  return [...walked.rows, ...fromClinicalIndex(src, idFilter, clinFilter, walked.last, take - walked.rows.length)];
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
    if (!row || row.restricted || !matchesAll(row.fields, idFilter)) continue;
    const clinical = src.clinical.get(src.pseudo.pseudonym(id));
    if (!clinical) throw new IncompleteRecordError();
    out.push({ row, clinical });
  }
  return out;
}

type Walk = { rows: JoinedRow[]; done: boolean; last: string | null };

function fromIdentityOrder(src: Sources, idFilter: Filter, clinFilter: Filter, cursor: string | null, take: number, budget: number): Walk {
  const rows: JoinedRow[] = [];
  const batch = Math.max(64, take * 4);
  let last = cursor;
  for (let scanned = 0; scanned < budget; ) {
    const want = Math.min(batch, budget - scanned);
    const page = src.identity.list(idFilter, last, want);
    for (const row of page) {
      const clinical = src.clinical.get(src.pseudo.pseudonym(row.id));
      if (!clinical) throw new IncompleteRecordError();
      if (matchesAll(clinical, clinFilter)) rows.push({ row, clinical });
      last = row.id;
      if (rows.length >= take) return { rows, done: true, last };
    }
    scanned += page.length;
    if (page.length < want) return { rows, done: true, last }; // identity exhausted
  }
  return { rows, done: false, last };
}
