// Disk full at runtime: the data dir is a 2 MiB tmpfs that a filler file fills to the last
// byte while the server runs. Writes must answer 503 store_unavailable at once, reads keep
// working, /health says 503 without stalling, nothing is corrupted, and once the filler is
// removed the server writes again by itself, having lost nothing it acknowledged.
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, openSync, rmSync, statfsSync, writeSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./helpers.ts";
import { killAll, type Started } from "./process.ts";
import { integrityProblems } from "./crash/raw.ts";
import { Ledger } from "./faults/client.ts";
import { mountTmpfs, removeTree, requireRoot, unmount } from "./faults/mounts.ts";
import { flushFaults, ms, recordFault } from "./faults/report.ts";
import { HEALTH_WITHIN_MS, health, healthyAgain, killHard, startOn } from "./faults/server.ts";

const bases: string[] = [];
afterAll(async () => {
  await killAll(); // before unmounting: a server holding files would keep the mount busy
  for (const b of bases) {
    unmount(join(b, "mnt"));
    removeTree(b);
  }
  flushFaults();
});

/** Write `path` until the file system has no byte left; the bytes written. */
function fill(path: string): number {
  const fd = openSync(path, "a");
  let total = 0;
  try {
    for (const size of [65536, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x7a);
      try {
        for (;;) total += writeSync(fd, chunk);
      } catch (err) {
        if ((err as { code?: string }).code !== "ENOSPC") throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
  return total;
}

describe("disk full at runtime (tmpfs filled under the server)", () => {
  for (const durability of ["normal", "full"] as const) {
    test(`durability ${durability}: writes 503, reads served, no stall, recovers by itself, nothing lost`, async () => {
      requireRoot("disk-full");
      const base = tempDir("privata-fault-disk-");
      bases.push(base);
      const mnt = mountTmpfs(base, 2048);
      const dataDir = join(mnt, "data");
      const keyFile = join(base, "link.key");
      let server: Started = await startOn(dataDir, keyFile, ["--durability", durability]);
      const ledger = new Ledger(() => server.url);
      for (let i = 0; i < 40; i++) expect((await ledger.create()).status).toBe(201);
      expect((await ledger.update(ledger.live(1), { diagnosis: "Before the fault" })).status).toBe(200);
      expect((await ledger.remove(ledger.live(2))).status).toBe(204);

      // Fill, let a checkpoint tick truncate the WAL (which frees its pages), fill again.
      const filler = join(mnt, "filler");
      let filled = fill(filler);
      await Bun.sleep(1300);
      filled += fill(filler);
      expect(statfsSync(mnt).bavail).toBe(0);

      const post = await ledger.create();
      const patch = await ledger.update(ledger.live(3), { diagnosis: "During the fault", firstName: "During" });
      const del = await ledger.remove(ledger.live(4));
      for (const a of [post, patch, del]) {
        expect(a.status).toBe(503);
        expect(a.code).toBe("store_unavailable");
      }
      // reads keep working: from the cache and from the files
      const read = await fetch(`${server.url}/api/users/${ledger.live(5)}`);
      expect(read.status).toBe(200);
      expect(await read.json()).toEqual(ledger.acked.get(ledger.live(5))!);
      const list = await fetch(`${server.url}/api/users?limit=500`);
      expect(list.status).toBe(200);
      // the event loop is free: /health answers at once, also while a write is failing
      const [h, during] = await Promise.all([health(server.url), ledger.create()]);
      expect(h.status).toBe(503);
      expect(h.code).toBe("store_unavailable");
      expect(h.ms).toBeLessThan(HEALTH_WITHIN_MS);
      expect(during.status).toBe(503);
      const slowestWrite = Math.max(post.ms, patch.ms, del.ms, during.ms);

      // The fault goes away: the server writes again without a restart.
      rmSync(filler);
      const after = await ledger.create();
      expect(after.status).toBe(201);
      const retried = await ledger.retryRefused();
      expect(retried.map((a) => a.status)).toEqual([200]);
      expect((await ledger.remove(ledger.live(4))).status).toBe(204);
      const recoveredMs = await healthyAgain(server.url);
      expect(await ledger.verify()).toEqual([]);

      // Nothing acknowledged was lost and no store was damaged, even across a SIGKILL.
      await killHard(server);
      expect(integrityProblems(dataDir)).toEqual([]);
      server = await startOn(dataDir, keyFile, ["--durability", durability]);
      expect(await ledger.verify()).toEqual([]);
      expect((await health(server.url)).status).toBe(200);
      expect(await server.stop()).toBe(0);

      recordFault({
        fault: `disk full (durability ${durability})`,
        when: "runtime",
        result: "writes 503 `store_unavailable`, reads 200, recovered by itself, nothing acknowledged lost",
        produced: `data dir on a 2 MiB tmpfs (\`mount -t tmpfs -o size=2048k\`), filled to 0 bytes free by a ${Math.round(filled / 1024)} KiB filler file while the server ran`,
        observed: [
          `POST, PATCH, DELETE: 503 \`store_unavailable\` (slowest ${ms(slowestWrite)}); GET by id and the list: 200 with the acknowledged values`,
          `/health: 503 in ${ms(h.ms)} while a write was failing`,
          `filler removed: the next POST 201 at once, the refused PATCH repeated: 200, /health 200 again after ${ms(recoveredMs)} (a failure is reported for 5 s)`,
          `SIGKILL, \`integrity_check\` ok on both stores, restart: all ${ledger.acked.size} acknowledged records as acknowledged, none of the ${ledger.refusedCreates.length} refused creates stored`,
        ],
      });
    }, 60_000);
  }
});
