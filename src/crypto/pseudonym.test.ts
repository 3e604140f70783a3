import { describe, expect, test } from "bun:test";
import { createCipheriv, randomBytes } from "node:crypto";
import { Pseudonymizer, randomPseudonym } from "./pseudonym.ts";

describe("Pseudonymizer", () => {
  const id = Bun.randomUUIDv7();

  test("is deterministic and invertible with the key", () => {
    const p = new Pseudonymizer(randomBytes(32));
    const a = p.pseudonym(id);
    expect(a.length).toBe(16);
    expect(p.pseudonym(id)).toEqual(a);
    expect(p.recordId(a)).toBe(id);
  });

  test("many at once (audit batches) are the same pseudonyms, null for what is not an id", () => {
    const p = new Pseudonymizer(randomBytes(32));
    const ids = [Bun.randomUUIDv7(), "not-an-id", Bun.randomUUIDv7(), "", Bun.randomUUIDv7()];
    const one = (x: string) => Buffer.from(p.pseudonym(x)).toString("hex");
    expect(p.pseudonymsHex(ids)).toEqual([one(ids[0]!), null, one(ids[2]!), null, one(ids[4]!)]);
    expect(p.pseudonymsHex([])).toEqual([]);
    expect(p.pseudonymsHex(["nope"])).toEqual([null]);
    // the shared cipher is left aligned: a single call afterwards still maps its own block
    expect(one(ids[0]!)).toBe(p.pseudonymsHex([ids[0]!])[0]!);
  });

  test("another key gives another pseudonym, and cannot invert the first", () => {
    const p1 = new Pseudonymizer(randomBytes(32));
    const p2 = new Pseudonymizer(randomBytes(32));
    expect(Buffer.from(p1.pseudonym(id)).equals(Buffer.from(p2.pseudonym(id)))).toBe(false);
    expect(p2.recordId(p1.pseudonym(id))).not.toBe(id);
  });

  test("does not contain the id bytes", () => {
    const p = new Pseudonymizer(randomBytes(32));
    const hex = Buffer.from(p.pseudonym(id)).toString("hex");
    expect(hex).not.toBe(id.replaceAll("-", ""));
  });

  test("ids created in sequence do not give ordered pseudonyms", () => {
    const p = new Pseudonymizer(randomBytes(32));
    const ids = Array.from({ length: 200 }, () => Bun.randomUUIDv7());
    const ps = ids.map((i) => Buffer.from(p.pseudonym(i)).toString("hex"));
    const sorted = [...ps].sort();
    expect(ps).not.toEqual(sorted);
  });

  test("rejects keys of the wrong size and non-uuid ids", () => {
    expect(() => new Pseudonymizer(randomBytes(16))).toThrow();
    expect(() => new Pseudonymizer(randomBytes(32)).pseudonym("not-a-uuid")).toThrow();
  });

  test("random pseudonyms are 16 fresh bytes", () => {
    const a = randomPseudonym();
    expect(a.length).toBe(16);
    expect(Buffer.from(a).equals(Buffer.from(randomPseudonym()))).toBe(false);
  });
  test("a long-lived cipher gives exactly single-block AES-256 for every id, in any order", () => {
    const key = randomBytes(32);
    const p = new Pseudonymizer(key);
    const oneShot = (i: string) => {
      const c = createCipheriv("aes-256-ecb", key, null).setAutoPadding(false);
      return Buffer.concat([c.update(Buffer.from(i.replaceAll("-", ""), "hex")), c.final()]).toString("hex");
    };
    const ids = Array.from({ length: 500 }, () => Bun.randomUUIDv7());
    const ps = ids.map((i) => p.pseudonym(i));
    for (let k = 0; k < ids.length; k++) expect(Buffer.from(ps[k]!).toString("hex")).toBe(oneShot(ids[k]!));
    // invert one, then many at once, then one again: no state carries over between calls
    expect(p.recordId(ps[7]!)).toBe(ids[7]!);
    expect(p.recordIds(ps)).toEqual(ids);
    expect(p.recordId(ps[0]!)).toBe(ids[0]!);
    expect(p.recordIds([])).toEqual([]);
  });

  test("known answer: FIPS-197 AES-256 test vector", () => {
    const key = Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex");
    const p = new Pseudonymizer(key);
    // plaintext 00112233-4455-6677-8899-aabbccddeeff -> 8ea2b7ca516745bfeafc49904b496089
    expect(Buffer.from(p.pseudonym("00112233-4455-6677-8899-aabbccddeeff")).toString("hex")).toBe("8ea2b7ca516745bfeafc49904b496089");
    expect(p.recordId(Buffer.from("8ea2b7ca516745bfeafc49904b496089", "hex"))).toBe("00112233-4455-6677-8899-aabbccddeeff");
  });
  test("a damaged pseudonym of the wrong length is refused and does not disturb later calls", () => {
    const p = new Pseudonymizer(randomBytes(32));
    const ids = [Bun.randomUUIDv7(), Bun.randomUUIDv7()];
    const ps = ids.map((i) => p.pseudonym(i));
    expect(() => p.recordIds([ps[0]!, new Uint8Array(15)])).toThrow();
    expect(p.recordIds(ps)).toEqual(ids);
    expect(() => p.recordId(new Uint8Array(17))).toThrow();
    expect(p.recordId(ps[1]!)).toBe(ids[1]!);
  });
});
