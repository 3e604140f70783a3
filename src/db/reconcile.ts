import { hexToUuid, type Pseudonymizer } from "../crypto/pseudonym.ts";
import type { ClinicalTable } from "./clinical.ts";
import type { IdentityTable } from "./identity.ts";

/**
 * Remove clinical halves whose identity half never committed. Returns how many. A merge of
 * two sorted id lists (linked halves decrypted in batches; identity ids scanned in key
 * order), so it reads each store once, sequentially, instead of one lookup per record.
 */
export function reconcile(identity: IdentityTable, clinical: ClinicalTable, pseudo: Pseudonymizer, chunk = 20_000): number {
  // ids as dashless hex: one compact string each, and the same order as the ids
  const linked: string[] = [];
  for (let after: Uint8Array | null = null; ; ) {
    const ps = clinical.linked(after, chunk);
    for (const hex of pseudo.recordHexes(ps)) linked.push(hex);
    if (ps.length < chunk) break;
    after = ps[ps.length - 1]!;
  }
  linked.sort();
  const orphans: string[] = [];
  let j = 0;
  for (let after = ""; ; ) {
    const have = identity.ids(after, chunk);
    for (const id of have) {
      const hex = id.replaceAll("-", "");
      while (j < linked.length && linked[j]! < hex) orphans.push(linked[j++]!);
      if (linked[j] === hex) j++;
    }
    if (have.length < chunk) break;
    after = have[have.length - 1]!;
  }
  while (j < linked.length) orphans.push(linked[j++]!);
  for (const hex of orphans) clinical.delete(pseudo.pseudonym(hexToUuid(hex)));
  return orphans.length;
}
