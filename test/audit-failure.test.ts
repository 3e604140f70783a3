// When audit.db cannot be written: events wait in memory and requests go on while there is
// room (/health says 503), then every /api request is refused (503 audit_unavailable) rather
// than done without a trace; it all recovers by itself, and no waiting event is lost.
import { afterAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { makeApp, removeDir, until } from "./helpers.ts";
import { securityHeaders } from "../src/response-headers.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

for (const thread of [false, true]) {
test(`a failing audit.db: requests go on while the backlog has room, then 503 audit_unavailable; recovery keeps every event (${thread ? "writer thread, as the server" : "written on the event loop"})`, async () => {
  const t = makeApp({ thread });
  dirs.push(t.dataDir);
  t.audit.log.maxBacklog = 3;
  const holder = new Database(join(t.dataDir, "audit.db"));
  holder.run("BEGIN IMMEDIATE"); // another process holds the write lock for long
  expect((await t.req("GET", "/api/users")).status).toBe(200);
  expect(await until(() => t.audit.log.failing, 3000)).toBe(true);
  expect((await t.req("GET", "/health")).status).toBe(503); // the operator is told
  expect((await t.req("GET", "/api/users")).status).toBe(200); // room left: served, event kept
  expect((await t.req("GET", "/api/users")).status).toBe(200);
  const refused = await t.req("POST", "/api/users", { firstName: "A", lastName: "B", email: "a@x.org" });
  expect(refused.status).toBe(503);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("audit_unavailable");
  // answered by the request frame itself: still with a request id and every security header
  expect(refused.headers.get("x-request-id")).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
  for (const [k, v] of Object.entries(securityHeaders(false))) expect(refused.headers.get(k)).toBe(v);
  expect(t.stores.counts().identity).toBe(0); // refused before any work
  holder.run("ROLLBACK");
  holder.close();
  expect(await until(() => !t.audit.log.failing, 3000)).toBe(true);
  expect((await t.req("GET", "/health")).status).toBe(200);
  expect((await t.req("GET", "/api/users")).status).toBe(200);
  await t.audit.log.settle();
  expect(t.audit.store.page({}, 0, 100).rows.map((e) => e.action)).toEqual(["list", "list", "list", "list"]);
  await t.close();
});
}

test("a wiped audit.db cannot pass for a first one: the new chain starts with audit.restart", async () => {
  const t = makeApp();
  dirs.push(t.dataDir);
  await t.req("GET", "/api/users");
  const { dataDir, keyFile } = t;
  t.close();
  for (const f of ["audit.db", "audit.db-wal", "audit.db-shm"]) removeDir(join(dataDir, f)); // the trail wiped
  const again = makeApp({ dataDir, keyFile });
  const first = again.audit.store.page({}, 0, 10).rows;
  expect(first.map((e) => e.action)).toEqual(["audit.restart"]);
  expect(JSON.parse(first[0]!.fields)[0]).toMatch(/^previous_key_check:[0-9a-f]{32}$/);
  again.close();
  // an untouched trail reopens without one
  const third = makeApp({ dataDir, keyFile });
  expect(third.audit.store.page({ action: "audit.restart" }, 0, 10).rows).toHaveLength(1);
  third.close();
});
