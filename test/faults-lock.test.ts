// A store locked by another process (a sqlite3 shell or a backup tool in a write transaction),
// at runtime and at startup, and a second server on the same data dir. No root needed.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { removeDir, tempDir } from "./helpers.ts";
import { killAll, type Started } from "./process.ts";
import { integrityProblems } from "./crash/raw.ts";
import { call, Ledger } from "./faults/client.ts";
import { holdWriteLock } from "./faults/holder.ts";
import { flushFaults, ms, recordFault } from "./faults/report.ts";
import { HEALTH_WITHIN_MS, health, healthyAgain, killHard, startOn, startRefused } from "./faults/server.ts";

const dirs: string[] = [];
afterAll(async () => {
  await killAll();
  for (const d of dirs) removeDir(d);
  flushFaults();
});

function dataDirs(): { dataDir: string; keyFile: string } {
  const base = tempDir("privata-fault-lock-");
  dirs.push(base);
  return { dataDir: join(base, "data"), keyFile: join(base, "link.key") };
}

async function stats(url: string): Promise<{ identity: number; clinical: number; deidentified: number }> {
  return ((await (await fetch(`${url}/stats`)).json()) as { database: { identity: number; clinical: number; deidentified: number } }).database;
}

describe("a store locked by another process at runtime", () => {
  for (const file of ["clinical.db", "identity.db"] as const) {
    test(`${file}: writes 503 after the busy timeout, reads and /health answer at once, recovers by itself`, async () => {
      const { dataDir, keyFile } = dataDirs();
      let server: Started = await startOn(dataDir, keyFile);
      const ledger = new Ledger(() => server.url);
      for (let i = 0; i < 20; i++) expect((await ledger.create()).status).toBe(201);

      const holder = await holdWriteLock(join(dataDir, file));
      const post = await ledger.create();
      const patch = await ledger.update(ledger.live(1), { diagnosis: "During the lock", lastName: "Locked" });
      for (const a of [post, patch]) {
        expect(a.status).toBe(503);
        expect(a.code).toBe("store_unavailable");
      }
      const victim = ledger.live(2);
      const del = await ledger.remove(victim);
      expect(del.status).toBe(503);
      // identity is erased first: with clinical.db locked the record is gone, its clinical half
      // waits for maintenance (README, erasure_incomplete); with identity.db locked nothing changed
      expect(del.code).toBe(file === "clinical.db" ? "erasure_incomplete" : "store_unavailable");
      expect((await call(server.url, "GET", `/api/users/${victim}`)).status).toBe(file === "clinical.db" ? 404 : 200);
      const id = ledger.live(3);
      const read = await call(server.url, "GET", `/api/users/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(ledger.acked.get(id)!);
      expect((await call(server.url, "GET", "/api/users?limit=500")).status).toBe(200);
      // the write waits for the lock off the event loop (LOCK_WAIT_MS): /health answers meanwhile
      const pending = ledger.create();
      const h = await health(server.url);
      const during = await pending;
      expect(h.status).toBe(503);
      expect(h.ms).toBeLessThan(HEALTH_WITHIN_MS);
      expect(during.status).toBe(503);
      const slowestWrite = Math.max(post.ms, patch.ms, del.ms, during.ms);
      expect(slowestWrite).toBeLessThan(1000); // bounded by the 500 ms lock wait (a delete: the 100 ms busy timeout), never a hang

      await holder.release();
      expect((await ledger.create()).status).toBe(201);
      expect((await ledger.retryRefused()).map((a) => a.status)).toEqual([200]);
      if (file === "identity.db") expect((await ledger.remove(victim)).status).toBe(204);
      // maintenance removes the clinical half the locked delete left behind
      let db = await stats(server.url);
      for (let i = 0; i < 40 && db.clinical - db.deidentified !== db.identity; i++) {
        await Bun.sleep(100);
        db = await stats(server.url);
      }
      expect(db.clinical - db.deidentified).toBe(db.identity);
      const recoveredMs = await healthyAgain(server.url);
      expect(await ledger.verify()).toEqual([]);

      await killHard(server);
      expect(integrityProblems(dataDir)).toEqual([]);
      server = await startOn(dataDir, keyFile);
      expect(await ledger.verify()).toEqual([]);
      expect(await server.stop()).toBe(0);

      recordFault({
        fault: `${file} locked by another process`,
        when: "runtime",
        result: `writes 503 after the 500 ms lock wait (deletes: the 100 ms busy timeout)${file === "clinical.db" ? " (a delete: `erasure_incomplete`, finished by maintenance)" : ""}, reads 200, recovered by itself, nothing acknowledged lost`,
        produced: `a separate process opens ${file} and holds \`BEGIN IMMEDIATE\` (the write lock), then exits`,
        observed: [
          `POST, PATCH: 503 \`store_unavailable\`; DELETE: 503 \`${del.code}\`${file === "clinical.db" ? " (record gone, its clinical half removed by maintenance once the lock went)" : ""}; slowest write ${ms(slowestWrite)} (lock wait 500 ms)`,
          `GET by id and the list: 200; /health 503 in ${ms(h.ms)} while a write waited for the lock`,
          `lock released: the next POST 201, the refused PATCH repeated: 200, /health 200 after ${ms(recoveredMs)}`,
          `SIGKILL, \`integrity_check\` ok, restart: all ${ledger.acked.size} acknowledged records as acknowledged`,
        ],
      });
    }, 60_000);
  }
});

describe("locks at startup", () => {
  test("a store write-locked by another process: refused with one clear line; starts once released", async () => {
    const { dataDir, keyFile } = dataDirs();
    let server = await startOn(dataDir, keyFile);
    const ledger = new Ledger(() => server.url);
    for (let i = 0; i < 5; i++) expect((await ledger.create()).status).toBe(201);
    expect(await server.stop()).toBe(0);

    const holder = await holdWriteLock(join(dataDir, "identity.db"));
    const r = startRefused(dataDir, keyFile);
    await holder.release();
    expect(r.exitCode).toBe(1);
    expect(r.listened).toBe(false);
    expect(r.lines).toEqual([`privata: ${join(dataDir, "identity.db")} is locked by another process (database is locked); stop that process and start again`]);
    server = await startOn(dataDir, keyFile);
    expect(await ledger.verify()).toEqual([]);
    expect(await server.stop()).toBe(0);
    recordFault({
      fault: "a store locked by another process",
      when: "startup",
      result: "refused in one line, exit 1; starts once released",
      produced: "a separate process holds `BEGIN IMMEDIATE` on identity.db while the server starts",
      observed: [`start refused, exit ${r.exitCode}, nothing served: \`${r.lines[0]}\``, "lock released: the next start serves every record"],
    });
  });

  test("a second server on a data dir in use: refused, the first one keeps serving", async () => {
    const { dataDir, keyFile } = dataDirs();
    const first = await startOn(dataDir, keyFile);
    const ledger = new Ledger(() => first.url);
    expect((await ledger.create()).status).toBe(201);
    const r = startRefused(dataDir, keyFile);
    expect(r.exitCode).toBe(1);
    expect(r.listened).toBe(false);
    expect(r.lines).toEqual([`privata: data dir ${dataDir} is in use by another privata process`]);
    expect((await ledger.create()).status).toBe(201);
    expect(await ledger.verify()).toEqual([]);
    expect(await first.stop()).toBe(0);
    recordFault({
      fault: "a second server on the same data dir",
      when: "startup",
      result: "the second refused in one line, exit 1; the first serves on",
      produced: "the binary started twice on one data dir (the first holds `flock` on privata.lock)",
      observed: [`second start refused, exit ${r.exitCode}: \`${r.lines[0]}\``, "the first server kept serving reads and writes"],
    });
  });
});
