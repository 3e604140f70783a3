import { createCipheriv, createDecipheriv, createHmac, type Cipheriv, type Decipheriv } from "node:crypto";

/**
 * A researcher's id for a clinical half: the pseudonym encrypted under a key derived from
 * the link key AND the researcher's name. Stable for one researcher (records can be followed
 * across queries and pages), different for every other researcher, so two researchers cannot
 * join their extracts, and no researcher learns the pseudonym itself. Invertible by the server
 * only, which is what lets a research id serve as the page cursor.
 */
export class ResearchIds {
  private readonly enc: Cipheriv;
  private readonly dec: Decipheriv;

  constructor(linkKey: Buffer, researcher: string) {
    const key = createHmac("sha256", linkKey).update("privata research id v1\0").update(researcher).digest();
    // ECB, one block, no padding: a keyed permutation of 16 bytes (as for pseudonyms)
    this.enc = createCipheriv("aes-256-ecb", key, null).setAutoPadding(false);
    this.dec = createDecipheriv("aes-256-ecb", key, null).setAutoPadding(false);
  }

  of(pseudonym: Uint8Array): string {
    if (pseudonym.length !== 16) throw new Error("a pseudonym is one 16-byte block");
    return this.enc.update(pseudonym).toString("hex");
  }

  /** The pseudonym behind a research id, or null for anything that is not one. */
  pseudonym(researchId: string): Uint8Array | null {
    if (!/^[0-9a-f]{32}$/.test(researchId)) return null;
    return new Uint8Array(this.dec.update(Buffer.from(researchId, "hex")));
  }
}

/** One ResearchIds per researcher, made on first use (a cipher pair per request would cost more). */
export class ResearchIdRegistry {
  private readonly byName = new Map<string, ResearchIds>();
  constructor(private readonly linkKey: Buffer) {}

  for(researcher: string): ResearchIds {
    let r = this.byName.get(researcher);
    if (!r) this.byName.set(researcher, (r = new ResearchIds(this.linkKey, researcher)));
    return r;
  }
}
