import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { KeyError, keyCheckValue, loadLinkKey, sameCheckValue } from "../crypto/link-key.ts";
import type { ClinicalStore } from "./clinical.ts";
import type { IdentityStore } from "./identity.ts";

/**
 * Load the link key for these stores, refusing any key that does not match them. A missing
 * key is created only for brand-new stores: a lost key must never be replaced silently, since
 * the existing clinical halves would become unjoinable.
 */
export function openLinkKey(identity: IdentityStore, clinical: ClinicalStore, keyFile: string, empty: boolean): Buffer {
  const kcv = identity.meta.get("key_check");
  const hasData = kcv !== null || clinical.meta.get("pair_id") !== null || !empty;
  const key = loadLinkKey(keyFile, !hasData);
  if (kcv === null) {
    if (hasData) throw new KeyError("identity.db holds no key check value but the stores hold data (was identity.db lost, emptied or replaced?); refusing to guess the link key");
    identity.meta.set("key_check", keyCheckValue(key));
  } else if (!sameCheckValue(kcv, keyCheckValue(key))) {
    throw new KeyError(`link key ${keyFile} does not match these stores (key check value differs)`);
  }
  // Not fatal (secret mounts are often 0644), but worth saying: the key unlocks every record.
  if ((statSync(keyFile).mode & 0o077) !== 0) {
    console.error(`privata: warning: link key ${keyFile} is readable by other users; chmod 600 it`);
  }
  return key;
}

/**
 * Both files carry the same random pair id, written when they are created together. A
 * clinical.db that was lost, replaced, or restored from another deployment is refused at
 * start instead of serving records whose clinical half silently went missing.
 */
export function pairStores(identity: IdentityStore, clinical: ClinicalStore, empty: boolean): void {
  const a = identity.meta.get("pair_id");
  const b = clinical.meta.get("pair_id");
  if ((a === null || b === null) && empty) {
    // brand-new pair (or a first start that stopped between the two writes below)
    const id = a ?? b ?? randomBytes(16).toString("hex");
    clinical.meta.set("pair_id", id);
    identity.meta.set("pair_id", id);
  } else if (a !== b) {
    throw new Error("identity.db and clinical.db do not belong together (store pair id differs); restore them from the same backup");
  }
}
