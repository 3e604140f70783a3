import { createCipheriv, createDecipheriv, createHmac, randomBytes, type Cipheriv, type Decipheriv } from "node:crypto";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function uuidToBytes(id: string): Buffer {
  return Buffer.from(id.replaceAll("-", ""), "hex");
}

export function hexToUuid(h: string): string {
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * pseudonym = AES-256 of the 16 id bytes as one block: a keyed permutation, so it is
 * deterministic and invertible with the link key and random-looking without it.
 * The clinical store sees only pseudonyms; record ids never reach clinical.db.
 */
export class Pseudonymizer {
  // One cipher each way for the life of the key: in ECB without padding every whole block
  // is mapped by update() on its own (no chaining, nothing held back), so final() is never
  // needed and a cipher per call (measured as one of the larger costs of a create) is saved.
  private readonly enc: Cipheriv;
  private readonly dec: Decipheriv;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error("link key must be 32 bytes");
    this.enc = createCipheriv("aes-256-ecb", key, null).setAutoPadding(false);
    this.dec = createDecipheriv("aes-256-ecb", key, null).setAutoPadding(false);
  }

  pseudonym(id: string): Uint8Array {
    if (!UUID_RE.test(id)) throw new Error("not a uuid");
    const out = this.enc.update(uuidToBytes(id));
    if (out.length !== 16) throw new Error("cipher did not map one block to one block");
    return new Uint8Array(out);
  }

  /**
   * The pseudonyms of many ids as hex (null for what is not an id), with one cipher call: ECB
   * maps each block on its own, so this is the same as pseudonym() per id, for less.
   */
  pseudonymsHex(ids: readonly string[]): (string | null)[] {
    const valid = ids.map((id) => UUID_RE.test(id));
    const plain = Buffer.allocUnsafe(16 * valid.filter(Boolean).length);
    let n = 0;
    ids.forEach((id, i) => valid[i] && plain.write(id.replaceAll("-", ""), 16 * n++, "hex"));
    const out = this.enc.update(plain);
    if (out.length !== plain.length) throw new Error("cipher did not map every block");
    n = 0;
    return valid.map((ok) => (ok ? out.toString("hex", 16 * n, 16 * ++n) : null));
  }

  recordId(pseudonym: Uint8Array): string {
    return this.recordIds([pseudonym])[0]!;
  }

  /** Many at once: ECB blocks are independent, so one decipher call maps the whole batch. */
  recordIds(pseudonyms: readonly Uint8Array[]): string[] {
    return this.recordHexes(pseudonyms).map(hexToUuid);
  }

  /** Ids as 32 hex digits (no dashes; same sort order as the ids), one string per id. */
  recordHexes(pseudonyms: readonly Uint8Array[]): string[] {
    // Check before update(): a partial block would stay buffered in the shared decipher and
    // shift every later call (a stored pseudonym of the wrong length is a damaged row).
    for (const p of pseudonyms) if (p.length !== 16) throw new Error("a pseudonym is not one 16-byte block");
    const plain = this.dec.update(Buffer.concat(pseudonyms));
    if (plain.length !== pseudonyms.length * 16) throw new Error("decipher did not map every block");
    return pseudonyms.map((_, i) => plain.toString("hex", i * 16, i * 16 + 16));
  }
}

/**
 * The key of the pseudonyms audit events name records by: derived from the link key, so the
 * trail's pseudonym of a record is not its clinical pseudonym. The trail pairs pseudonyms with
 * times and identity.db pairs ids with createdAt: with the clinical pseudonym in the trail,
 * whoever held the three files could pair ids and clinical rows by time without the link key
 * (DESIGN §1.2). With this one they can follow a record through the trail, never into clinical.db.
 */
export function auditPseudonymKey(linkKey: Buffer): Buffer {
  return createHmac("sha256", linkKey).update("privata audit pseudonym v1").digest();
}

/**
 * A de-identified clinical half gets a fresh random pseudonym: unlike the keyed one it is
 * derived from nothing, so not even the link key ties it back to the erased record.
 */
export function randomPseudonym(): Uint8Array {
  return new Uint8Array(randomBytes(16));
}
