import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MODELS } from "./registry.ts";
import { defineModel } from "./types.ts";
import { visits } from "../../test/fixtures/visits.ts";
import { makeApp, removeDir } from "../../test/helpers.ts";

describe("model registry", () => {
  test("ships the seed's users model", () => {
    expect(MODELS.map((m) => m.name)).toEqual(["users"]);
  });

  test("declarations reject names that would be unsafe as SQL identifiers", () => {
    expect(() => defineModel({ name: "x; DROP", fields: {} })).toThrow();
    expect(() => defineModel({ name: "ok", fields: { 'a"b': { class: "identity", type: "string", max: 1 } } })).toThrow();
    expect(() => defineModel({ name: "ok", fields: { id: { class: "identity", type: "string", max: 1 } } })).toThrow();
  });

  test("adding a model is adding one file: a second model gets its tables, routes and split", async () => {
    const t = makeApp({ models: [...MODELS, visits] });
    try {
      const created = await t.req("POST", "/api/visits", { clinicName: "Northside Clinic", reason: "Sprained ankle ZQX", procedures: ["x-ray"] });
      expect(created.status).toBe(201);
      const rec = (await created.json()) as Record<string, unknown>;
      expect(rec).toMatchObject({ clinicName: "Northside Clinic", channel: "in-person", reason: "Sprained ankle ZQX", procedures: ["x-ray"] });

      const read = await t.req("GET", `/api/visits/${rec.id}`);
      expect(await read.json()).toEqual(rec);
      const byReason = await t.req("GET", "/api/visits?reason=Sprained%20ankle%20ZQX&channel=in-person");
      expect(((await byReason.json()) as unknown[]).length).toBe(1);
      expect((await t.req("POST", "/api/visits", { clinicName: "A", bogus: 1 })).status).toBe(400);
      expect((await t.req("GET", "/api/visits?procedures=x")).status).toBe(400);

      // the users routes are untouched by the new model
      expect((await t.req("GET", "/api/users")).status).toBe(200);

      t.close();
      const identity = readFileSync(join(t.dataDir, "identity.db"));
      const clinical = readFileSync(join(t.dataDir, "clinical.db"));
      expect(clinical.includes("Sprained ankle ZQX")).toBe(true);
      expect(identity.includes("Sprained ankle ZQX")).toBe(false);
      expect(identity.includes("Northside Clinic")).toBe(true);
      expect(clinical.includes("Northside Clinic")).toBe(false);
    } finally {
      t.close();
      removeDir(t.dataDir);
    }
  });
});
