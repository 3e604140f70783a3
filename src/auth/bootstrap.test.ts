import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeApp, removeDir } from "../../test/helpers.ts";
import { ADMIN_KEY_FILE, ensureAdminKey } from "./bootstrap.ts";
import { Authenticator } from "./keys.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

test("a stale admin.key stops the first key before it is stored: never a key nobody was shown", () => {
  const t = makeApp();
  dirs.push(t.dataDir);
  const path = join(t.dataDir, ADMIN_KEY_FILE);
  writeFileSync(path, "an old key from another deployment\n");
  expect(() => ensureAdminKey(t.stores.keys, t.dataDir, undefined)).toThrow();
  expect(t.stores.keys.list()).toEqual([]);
  removeDir(path);
  expect(ensureAdminKey(t.stores.keys, t.dataDir, undefined)).toContain(path);
  const key = readFileSync(path, "utf8").trim();
  expect(new Authenticator(t.stores.keys).authenticate(`Bearer ${key}`)).toEqual({ name: "admin", role: "admin" });
  expect(ensureAdminKey(t.stores.keys, t.dataDir, undefined)).toBeNull(); // keys exist: nothing new
  expect(existsSync(path)).toBe(true);
  t.close();
});
