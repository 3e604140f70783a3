import { describe, expect, test } from "bun:test";
import { joinJsonArray, jsonArrayEnds, replaceJsonArrayPart } from "./json-array.ts";

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("joinJsonArray", () => {
  test("an empty page is []", () => {
    expect(text(joinJsonArray([]))).toBe("[]");
  });

  test("joins encoded values into the same bytes JSON.stringify gives the array", () => {
    const values = [{ a: 1 }, { b: "é\u2028\"x" }, [1, 2], "s", null];
    expect(text(joinJsonArray(values.map(enc)))).toBe(JSON.stringify(values));
    expect(JSON.parse(text(joinJsonArray(values.map(enc))))).toEqual(values);
  });
});

describe("replaceJsonArrayPart", () => {
  test("under random replacements (longer, shorter, first, last) it gives the join of the new parts, and never writes the old bytes", () => {
    let seed = 7;
    const r = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const value = () => ({ v: "x".repeat(Math.floor(r() * 40)), n: Math.floor(r() * 1000) });
    for (let round = 0; round < 200; round++) {
      const values = Array.from({ length: 1 + Math.floor(r() * 6) }, value);
      let bytes = joinJsonArray(values.map(enc));
      const ends = jsonArrayEnds(values.map(enc));
      for (let step = 0; step < 5; step++) {
        const at = Math.floor(r() * values.length);
        values[at] = value();
        const before = bytes.slice();
        const next = replaceJsonArrayPart(bytes, ends, at, enc(values[at]));
        expect(bytes).toEqual(before);
        bytes = next;
        expect(text(bytes)).toBe(JSON.stringify(values));
        expect([...ends]).toEqual([...jsonArrayEnds(values.map(enc))]);
      }
    }
  });
});
