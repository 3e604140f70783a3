// The checkpoint thread and the event loop: WAL files emptied without the event loop doing it,
// erasures and closes that need their own checkpoint never race it, and a write that finds
// the write lock taken waits without blocking the event loop.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { WORKER, FREE } from "../src/db/checkpointer.ts";
import { distinctBody, filesContaining, makeApp, removeDir, until, userBody, type TestApp } from "./helpers.ts";

const apps: TestApp[] = [];
afterAll(() => apps.forEach((t) => removeDir(t.dataDir)));
function fresh(): TestApp {
  const t = makeApp();
  apps.push(t);
  return t;
}
const walSize = (t: TestApp, f: string) => statSync(join(t.dataDir, `${f}-wal`), { throwIfNoEntry: false })?.size ?? 0;
const create = async (t: TestApp) => ((await (await t.req("POST", "/api/users", userBody())).json()) as { id: string }).id;

describe("the checkpoint thread", () => {
  test("empties both WAL files while the event loop never checkpoints", async () => {
    const t = fresh();
    t.stores.startCheckpoints(100, "normal");
    for (let i = 0; i < 20; i++) await create(t);
    expect(walSize(t, "identity.db") + walSize(t, "clinical.db")).toBeGreaterThan(0);
    // maintain() is not called here: only the thread can empty them
    expect(await until(() => walSize(t, "identity.db") === 0 && walSize(t, "clinical.db") === 0)).toBe(true);
    const s = t.stores.checkpointStats();
    expect(s.thread).toBe(true);
    expect(s.done).toBeGreaterThan(0);
    t.close();
  });

  test("a reader outside holding the WAL makes checkpoints fail, never writes; they recover after", async () => {
    const t = fresh();
    t.stores.startCheckpoints(50, "normal");
    await create(t);
    const reader = new Database(join(t.dataDir, "clinical.db"), { readonly: true });
    reader.run("BEGIN");
    reader.query("SELECT count(*) FROM users").get();
    const failedBefore = t.stores.checkpointStats().failed;
    for (let i = 0; i < 5; i++) expect((await t.req("POST", "/api/users", userBody())).status).toBe(201);
    expect(await until(() => t.stores.checkpointStats().failed > failedBefore)).toBe(true);
    reader.run("COMMIT");
    reader.close();
    expect(await until(() => walSize(t, "clinical.db") === 0)).toBe(true);
    t.close();
  });

  test("erasures checkpoint on the event loop without racing the thread: every DELETE under write load is 204 and purged", async () => {
    const t = fresh();
    t.stores.startCheckpoints(1, "normal"); // the thread checkpoints as often as it can
    const bodies = Array.from({ length: 40 }, () => distinctBody("ck"));
    const ids = await Promise.all(bodies.map(async (b) => ((await (await t.req("POST", "/api/users", b)).json()) as { id: string }).id));
    for (const [i, id] of ids.entries()) {
      const [del] = await Promise.all([t.req("DELETE", `/api/users/${id}`), t.req("POST", "/api/users", userBody())]);
      expect(del.status).toBe(204);
      // right after the 204: none of its values in any file of the data dir, -wal and -shm included
      const b = bodies[i]!;
      for (const v of [b.firstName, b.email, b.diagnosis, ...(b.medications as string[])] as string[]) expect(filesContaining(t.dataDir, v)).toEqual([]);
    }
    t.close();
  });

  test("a background checkpoint that runs long: a DELETE answers 503 erasure_incomplete, never a 500, and is purged after", async () => {
    const t = fresh();
    t.stores.startCheckpoints(60_000, "normal"); // one tick at start, then none during the test
    expect(await until(() => t.stores.checkpointStats().done > 0)).toBe(true);
    const b = distinctBody("long");
    const id = ((await (await t.req("POST", "/api/users", b)).json()) as { id: string }).id;
    const mutex = t.stores.checkpoints!.mutex;
    Atomics.store(mutex, 0, WORKER); // play the thread in the middle of a long checkpoint
    const res = await t.req("DELETE", `/api/users/${id}`);
    Atomics.store(mutex, 0, FREE);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("erasure_incomplete");
    expect((await t.req("GET", `/api/users/${id}`)).status).toBe(404);
    expect(t.stores.checkpoint()).toBe(true); // what the next checkpoint does
    expect(filesContaining(t.dataDir, b.email as string)).toEqual([]);
    t.close();
  });

  test("/health stays 200 while the thread checkpoints as often as it can under writes", async () => {
    const t = fresh();
    t.stores.startCheckpoints(1, "normal");
    expect(await until(() => t.stores.checkpointStats().done > 0)).toBe(true); // the thread is up
    // keep probing until the thread has completed several more checkpoints meanwhile
    const target = t.stores.checkpointStats().done + 5;
    let probes = 0;
    for (const end = Date.now() + 10_000; t.stores.checkpointStats().done < target && Date.now() < end; probes++) {
      const [health] = await Promise.all([t.req("GET", "/health"), t.req("POST", "/api/users", userBody())]);
      expect(health.status).toBe(200);
    }
    expect(t.stores.checkpointStats().done).toBeGreaterThanOrEqual(target);
    expect(probes).toBeGreaterThan(0);
    t.close();
  });

  test("close() stops the thread and leaves no -wal or -shm file", async () => {
    const t = fresh();
    t.stores.startCheckpoints(1, "normal");
    await Promise.all(Array.from({ length: 50 }, () => create(t)));
    t.close();
    expect(readdirSync(t.dataDir).filter((f) => f.endsWith("-wal") || f.endsWith("-shm"))).toEqual([]);
  });
});

describe("a write that finds the write lock taken", () => {
  test("is retried once the lock is released (by a timer on this same loop), and reads are not held behind it", async () => {
    const t = fresh();
    const id = await create(t);
    const other = new Database(join(t.dataDir, "identity.db"));
    other.run("BEGIN IMMEDIATE");
    // released by this event loop a moment later: the write is queued again until it can begin
    setTimeout(() => (other.run("ROLLBACK"), other.close()), 5);
    const retriesBefore = t.stores.commits.retries;
    const order: string[] = [];
    const write = t.req("POST", "/api/users", userBody()).then((r) => (order.push("write"), r.status));
    const read = t.req("GET", `/api/users/${id}`).then((r) => (order.push("read"), r.status));
    expect(await Promise.all([write, read])).toEqual([201, 200]);
    expect(order).toEqual(["read", "write"]); // the read was not held up behind the waiting write
    expect(t.stores.commits.retries).toBeGreaterThan(retriesBefore); // it did find the lock taken
    t.close();
  });

  test("still fails with 503 when the lock is held past the busy timeout", async () => {
    const t = fresh();
    const other = new Database(join(t.dataDir, "clinical.db"));
    other.run("BEGIN IMMEDIATE");
    const res = await t.req("POST", "/api/users", userBody());
    other.run("ROLLBACK");
    other.close();
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("store_unavailable");
    expect(t.stores.counts().identity).toBe(0);
    t.close();
  });
});
