import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { ResearchIdRegistry } from "./research-id.ts";

describe("research ids", () => {
  const reg = new ResearchIdRegistry(randomBytes(32));
  const p = new Uint8Array(randomBytes(16));

  test("stable for one researcher, invertible by the server, different per researcher", () => {
    const a = reg.for("res-a");
    const id = a.of(p);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(a.of(p)).toBe(id);
    expect(a.pseudonym(id)).toEqual(p);
    expect(reg.for("res-b").of(p)).not.toBe(id);
    expect(id).not.toBe(Buffer.from(p).toString("hex"));
  });

  test("anything that is not a research id maps to nothing", () => {
    const a = reg.for("res-a");
    for (const bad of ["", "xyz", "00".repeat(15), "00".repeat(17), "G".repeat(32)]) expect(a.pseudonym(bad)).toBeNull();
  });

  test("a different link key gives different ids", () => {
    expect(new ResearchIdRegistry(randomBytes(32)).for("res-a").of(p)).not.toBe(reg.for("res-a").of(p));
  });
});
