// A data dir that turns read-only. Linux refuses to remount a file system read-only while a
// file on it is open for writing (EBUSY), so a running server's disk goes read-only only when
// the file system itself fails: ext4 with errors=remount-ro aborts its journal, turns
// read-only under the open files, and drops whatever was written but not yet fsynced, as an OS
// crash would. That is the runtime fault here, in both durability modes. A data dir that is
// read-only before the server starts (a read-only mount) is the startup fault.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "./helpers.ts";
import { killAll, type Started } from "./process.ts";
import { integrityProblems } from "./crash/raw.ts";
import { call, Ledger } from "./faults/client.ts";
import { failExt4, mountExt4, mountTmpfs, remount, removeTree, repairExt4, requireRoot, run, unmount } from "./faults/mounts.ts";
import { flushFaults, ms, recordFault } from "./faults/report.ts";
import { HEALTH_WITHIN_MS, health, startOn, startRefused } from "./faults/server.ts";

const mounts: string[] = [];
const bases: string[] = [];
afterAll(async () => {
  await killAll(); // before unmounting: a server holding files would keep the mount busy
  for (const m of mounts) unmount(m);
  for (const b of bases) removeTree(b);
  flushFaults();
});

/** Wait until the checkpoint thread has completed one more checkpoint than it had. */
async function nextCheckpoint(url: string): Promise<void> {
  const done = async () => ((await (await fetch(`${url}/stats`)).json()) as { walCheckpoints: { done: number } }).walCheckpoints.done;
  const before = await done();
  for (let i = 0; i < 100 && (await done()) <= before; i++) await Bun.sleep(50);
  expect(await done()).toBeGreaterThan(before);
}

describe("the file system turns read-only under the server (ext4 errors=remount-ro)", () => {
  for (const durability of ["full", "normal"] as const) {
    test(`durability ${durability}: writes 503, reads served, no stall; after repair and restart the stores are sound`, async () => {
      requireRoot("read-only");
      const base = tempDir("privata-fault-ro-");
      bases.push(base);
      const { img, dir } = mountExt4(base);
      mounts.push(dir);
      const dataDir = join(dir, "data");
      const keyFile = join(base, "link.key");
      let server: Started = await startOn(dataDir, keyFile, ["--durability", durability]);
      const ledger = new Ledger(() => server.url);
      // 40 records that a checkpoint has copied and synced into the main files...
      for (let i = 0; i < 40; i++) expect((await ledger.create()).status).toBe(201);
      await nextCheckpoint(server.url);
      const synced = new Map(ledger.acked);
      // ...and 20 acknowledged just before the failure: only fsynced commits (full) keep them.
      for (let i = 0; i < 20; i++) expect((await ledger.create()).status).toBe(201);
      failExt4(dir);
      expect(run(["findmnt", "-no", "OPTIONS", dir]).out).toMatch(/(^|,)(ro|emergency_ro)(,|$)/);

      const post = await ledger.create();
      const patch = await ledger.update(ledger.live(1), { diagnosis: "During the fault" });
      const del = await call(server.url, "DELETE", `/api/users/${ledger.live(2)}`);
      for (const a of [post, patch, del]) {
        expect(a.status).toBe(503);
        expect(a.code).toBe("store_unavailable");
      }
      const id = ledger.live(3);
      const read = await call(server.url, "GET", `/api/users/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(ledger.acked.get(id)!);
      expect((await call(server.url, "GET", "/api/users?limit=500")).status).toBe(200);
      const [h, during] = await Promise.all([health(server.url), ledger.create()]);
      expect(during.status).toBe(503);
      expect(h.status).toBe(503);
      expect(h.ms).toBeLessThan(HEALTH_WITHIN_MS);
      await Bun.sleep(1200); // a checkpoint tick fails on the read-only files: the server lives on
      expect(server.proc.exitCode).toBeNull();
      expect((await call(server.url, "GET", `/api/users/${id}`)).status).toBe(200);

      // A read-only ext4 cannot be made writable while mounted: stop, e2fsck, mount, restart.
      const stopCode = await server.stop("SIGTERM");
      const stopLine = server.stderr().trim().split("\n").at(-1) ?? "";
      repairExt4(img, dir);
      expect(integrityProblems(dataDir)).toEqual([]);
      server = await startOn(dataDir, keyFile, ["--durability", durability]);
      // What came back: each record as acknowledged, or (normal only) gone with its write.
      let kept = 0;
      for (const [rid, want] of ledger.acked) {
        const a = await call(server.url, "GET", `/api/users/${rid}`);
        if (a.status === 200 && Bun.deepEquals(a.body, want, true)) kept++;
        else if (durability === "full" || synced.has(rid)) expect(`${rid}: ${a.status} ${JSON.stringify(a.body)}`).toBe(`${rid}: 200 ${JSON.stringify(want)}`);
        else expect([404, 503]).toContain(a.status); // never other values than acknowledged
      }
      const acked = ledger.acked.size;
      if (durability === "full") expect(kept).toBe(acked);
      expect((await ledger.create()).status).toBe(201);
      expect((await health(server.url)).status).toBe(200);
      expect(await server.stop()).toBe(0);

      recordFault({
        fault: `file system turns read-only (durability ${durability})`,
        when: "runtime",
        result: `writes 503 \`store_unavailable\`, reads 200; after umount, e2fsck, mount, restart: ${durability === "full" ? "nothing acknowledged lost" : `${acked - kept} unsynced acknowledged writes lost (as in an OS crash)`}`,
        produced: "data dir on a loop-mounted 32 MiB ext4 image (`errors=remount-ro`); `echo … > /sys/fs/ext4/loopN/trigger_fs_error` makes ext4 abort its journal and go read-only under the running server, dropping unsynced writes",
        observed: [
          `POST, PATCH, DELETE: 503 \`store_unavailable\` (slowest ${ms(Math.max(post.ms, patch.ms, del.ms))}); GET by id and the list: 200; /health 503 in ${ms(h.ms)}; the failing checkpoint thread did not stop the server`,
          `SIGTERM: exit ${stopCode} (\`${stopLine}\`): the clean-stop mark cannot be written, so the next start reconciles`,
          `recovery needs the operator (the kernel keeps the file system read-only until it is unmounted): umount, \`e2fsck -fy\`, mount, restart; \`integrity_check\` ok on both stores`,
          `acknowledged records back after the restart: ${kept} of ${acked} (${synced.size} had been checkpointed before the failure, ${acked - synced.size} not)${durability === "normal" ? "; the lost ones are the acknowledged writes not yet fsynced, which only `--durability full` keeps" : ""}`,
        ],
      });
    }, 60_000);
  }
});

describe("a read-only data dir at startup", () => {
  test("is refused with one clear line and a non-zero exit; served again once writable", async () => {
    requireRoot("read-only");
    const base = tempDir("privata-fault-rostart-");
    bases.push(base);
    const mnt = mountTmpfs(base, 4096);
    mounts.push(mnt);
    const dataDir = join(mnt, "data");
    const keyFile = join(base, "link.key");
    let server = await startOn(dataDir, keyFile);
    const ledger = new Ledger(() => server.url);
    for (let i = 0; i < 10; i++) expect((await ledger.create()).status).toBe(201);
    expect(await server.stop()).toBe(0);

    remount(mnt, "ro");
    const r = startRefused(dataDir, keyFile);
    expect(r.exitCode).toBe(1);
    expect(r.listened).toBe(false);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toContain(`data dir ${dataDir} cannot be written`);
    expect(r.lines[0]).toContain("read-only file system");

    remount(mnt, "rw");
    server = await startOn(dataDir, keyFile);
    expect(await ledger.verify()).toEqual([]);
    expect(await server.stop()).toBe(0);

    recordFault({
      fault: "read-only data dir",
      when: "startup",
      result: "refused in one line, exit 1; starts once writable",
      produced: "data dir on a tmpfs remounted read-only (`mount -o remount,ro`) while no server ran",
      observed: [
        `start refused, exit ${r.exitCode}, nothing served: \`${r.lines[0]}\``,
        `remounted read-write: the next start serves all ${ledger.acked.size} records`,
      ],
    });
  });
});
