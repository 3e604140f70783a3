import { describe, expect, test } from "bun:test";
import { joinJsonArray } from "./json-array.ts";

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
