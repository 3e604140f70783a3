// Restriction (GDPR art. 18) at the store level: kept, out of every list and research page,
// still readable (the route decides who may), and a data dir from before the flag migrates.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { makeApp, removeDir, tempDir } from "../../test/helpers.ts";
import { Stores } from "./stores.ts";
import { MODELS } from "../models/registry.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

describe("a restricted record", () => {
  test("is kept, readable with its flag, and left out of lists, filtered lists and research pages", () => {
    const t = makeApp();
    dirs.push(t.dataDir);
    const users = t.stores.records.get("users")!;
    const ids = ["A", "B", "C"].map((n) => users.create({ firstName: n, lastName: "L", email: `${n}@x.org`, diagnosis: "Flu" }).id);
    expect(users.restrict(ids[1]!, true)).toBe(true);
    expect(users.read(ids[1]!)).toMatchObject({ restricted: true, record: { firstName: "B" } });
    expect(users.read(ids[0]!)?.restricted).toBe(false);
    expect(users.listIds({}, null, 10).ids).toEqual([ids[0]!, ids[2]!]);
    expect(users.listIds({ lastName: "L" }, null, 10).ids).toEqual([ids[0]!, ids[2]!]);
    expect(users.listIds({ diagnosis: "Flu" }, null, 10).ids).toEqual([ids[0]!, ids[2]!]);
    expect(users.research({ diagnosis: "Flu" }, null, 10)).toHaveLength(2);
    expect(users.restrict(ids[1]!, false)).toBe(true);
    expect(users.listIds({}, null, 10).ids).toEqual(ids);
    expect(users.research({}, null, 10)).toHaveLength(3);
    expect(users.restrict("01234567-89ab-7def-8123-456789abcdef", true)).toBe(false);
    t.close();
  });

  test("research pages include de-identified halves and page in pseudonym order", () => {
    const t = makeApp();
    dirs.push(t.dataDir);
    const users = t.stores.records.get("users")!;
    const ids = Array.from({ length: 5 }, (_, i) => users.create({ firstName: "F", lastName: "L", email: `${i}@x.org`, diagnosis: "Flu" }).id);
    users.delete(ids[0]!, true); // gdprCompliant: the clinical half stays, de-identified
    const first = users.research({}, null, 3);
    const rest = users.research({}, first.at(-1)!.pseudonym, 3);
    expect(first.length + rest.length).toBe(5);
    const hex = [...first, ...rest].map((r) => Buffer.from(r.pseudonym).toString("hex"));
    expect(hex).toEqual([...hex].sort());
    t.close();
  });
});

test("a data dir created before the flag existed gets the column and keeps its records", () => {
  const dir = tempDir();
  dirs.push(dir);
  const t = makeApp({ dataDir: dir });
  const id = t.stores.records.get("users")!.create({ firstName: "Old", lastName: "L", email: "o@x.org" }).id;
  t.close();
  for (const f of ["identity.db", "clinical.db"]) {
    const db = new Database(join(dir, f));
    db.run("ALTER TABLE users DROP COLUMN restricted"); // as written by the previous version
    db.close();
  }
  const again = Stores.open({ dataDir: dir, keyFile: join(dir, "link.key"), durability: "normal", models: MODELS });
  const users = again.records.get("users")!;
  expect(users.read(id)).toMatchObject({ restricted: false, record: { firstName: "Old" } });
  expect(users.restrict(id, true)).toBe(true);
  expect(users.listIds({}, null, 10).ids).toEqual([]);
  again.close();
});
