// A damaged or truncated store at startup: refused with one clear line naming the file and a
// non-zero exit, nothing served, the files left exactly as found; the intact copy serves again.
// SQLite has no page checksums: bytes changed inside a stored value, with the page structure
// intact, cannot be seen by any check; what quick_check at startup sees is damaged structure.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, openSync, readFileSync, statSync, truncateSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { removeDir, tempDir } from "./helpers.ts";
import { killAll } from "./process.ts";
import { Ledger } from "./faults/client.ts";
import { flushFaults, recordFault } from "./faults/report.ts";
import { startOn, startRefused } from "./faults/server.ts";

const PAGE = 4096;
const base = tempDir("privata-fault-corrupt-");
const pristine = join(base, "pristine");
const keyFile = join(base, "link.key");
let ledger: Ledger;
let url = "";

beforeAll(async () => {
  const server = await startOn(pristine, keyFile);
  url = server.url;
  ledger = new Ledger(() => url);
  // enough records that each store spans many pages, so "a page in the middle" is a data page
  for (let i = 0; i < 25; i++) await Promise.all(Array.from({ length: 20 }, () => ledger.create()));
  expect(await server.stop()).toBe(0);
}, 60_000);

afterAll(async () => {
  await killAll();
  removeDir(base);
  flushFaults();
});

function overwrite(path: string, offset: number, length: number): void {
  const fd = openSync(path, "r+");
  writeSync(fd, Buffer.alloc(length, 0x5a), 0, length, offset);
  closeSync(fd);
}
const middlePage = (path: string) => Math.floor(statSync(path).size / PAGE / 2) * PAGE;

const cases: { name: string; how: string; file: "identity.db" | "clinical.db"; damage: (path: string) => void; says: RegExp }[] = [
  { name: "header overwritten", how: "its first 100 bytes (the header) overwritten with 0x5a", file: "clinical.db", damage: (p) => overwrite(p, 0, 100), says: /clinical\.db is damaged \(file is not a database\)/ },
  { name: "a page in the middle overwritten", how: "one 4 KiB page in the middle overwritten with 0x5a", file: "identity.db", damage: (p) => overwrite(p, middlePage(p), PAGE), says: /identity\.db is damaged/ },
  { name: "a page in the middle overwritten", how: "one 4 KiB page in the middle overwritten with 0x5a", file: "clinical.db", damage: (p) => overwrite(p, middlePage(p), PAGE), says: /clinical\.db is damaged/ },
  { name: "truncated to half", how: "truncated to half its size", file: "identity.db", damage: (p) => truncateSync(p, middlePage(p)), says: /identity\.db is damaged \(database disk image is malformed\)/ },
  { name: "truncated to a third", how: "truncated to a third of its size", file: "clinical.db", damage: (p) => truncateSync(p, Math.floor(statSync(p).size / 3 / PAGE) * PAGE), says: /clinical\.db is damaged/ },
  { name: "truncated to 0 bytes", how: "truncated to 0 bytes", file: "identity.db", damage: (p) => truncateSync(p, 0), says: /identity\.db holds no key check value but the stores hold data/ },
  { name: "truncated to 0 bytes", how: "truncated to 0 bytes", file: "clinical.db", damage: (p) => truncateSync(p, 0), says: /do not belong together/ },
];

describe("a damaged store at startup is refused", () => {
  for (const c of cases) {
    test(`${c.file}, ${c.name}: one line, exit 1, nothing served, no store with data written`, async () => {
      const dataDir = join(base, `${c.file}-${c.name.replaceAll(" ", "-")}`);
      cpSync(pristine, dataDir, { recursive: true });
      const path = join(dataDir, c.file);
      c.damage(path);
      const before = [readFileSync(join(dataDir, "identity.db")), readFileSync(join(dataDir, "clinical.db"))];

      const r = startRefused(dataDir, keyFile);
      expect(r.exitCode).toBe(1);
      expect(r.listened).toBe(false);
      expect(r.lines).toHaveLength(1);
      expect(r.lines[0]).toMatch(c.says);
      if (c.says.source.includes("damaged")) expect(r.lines[0]).toContain(path);
      // The refused start wrote nothing into a store that holds data. A 0-byte file is the one
      // exception: SQLite initializes it as an empty database before the pairing check refuses
      // it, which loses nothing, and every later start is refused the same way.
      const emptied = c.name === "truncated to 0 bytes";
      for (const [i, f] of (["identity.db", "clinical.db"] as const).entries()) {
        if (!(emptied && f === c.file)) expect(readFileSync(join(dataDir, f)).equals(before[i]!)).toBe(true);
      }
      if (emptied) expect(startRefused(dataDir, keyFile).lines).toEqual(r.lines);

      // the intact copy, put back, serves every acknowledged record
      cpSync(join(pristine, c.file), path);
      const server = await startOn(dataDir, keyFile);
      url = server.url;
      expect(await ledger.verify()).toEqual([]);
      expect(await server.stop()).toBe(0);

      recordFault({
        fault: `${c.file} ${c.name}`,
        when: "startup",
        result: "refused in one line naming the problem, exit 1; the intact file serves again",
        produced: `${c.file} of a cleanly stopped data dir (${ledger.acked.size} records): ${c.how}`,
        observed: [`start refused, exit ${r.exitCode}, nothing served, ${c.name === "truncated to 0 bytes" ? "the other file byte-identical afterwards (the 0-byte one is now an empty database; later starts are refused alike)" : "both files byte-identical afterwards"}: \`${r.lines[0]!.replace(base, "…")}\``, "the intact file put back: every record served"],
      });
    }, 30_000);
  }
});
