import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
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
});
