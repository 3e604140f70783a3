// openStore sets every PRAGMA explicitly (DESIGN §5) and makes the file owner-only.
import { afterAll, describe, expect, test } from "bun:test";
import type { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, type Durability } from "./sqlite.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function open(durability: Durability): { db: Database; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "privata-sqlite-"));
  dirs.push(dir);
  const path = join(dir, "store.db");
  return { db: openStore(path, durability), path };
}

function pragma(db: Database, name: string): unknown {
  const row = db.query<Record<string, unknown>, []>(`PRAGMA ${name}`).get();
  return row ? Object.values(row)[0] : undefined;
}

describe("openStore", () => {
  for (const [durability, synchronous] of [["normal", 1], ["full", 2]] as const) {
    test(`durability ${durability}: synchronous=${synchronous}, WAL, secure_delete, foreign keys, memory temp store, mode 0600`, () => {
      const { db, path } = open(durability);
      try {
        expect(pragma(db, "synchronous")).toBe(synchronous);
        expect(pragma(db, "journal_mode")).toBe("wal");
        expect(pragma(db, "secure_delete")).toBe(1);
        expect(pragma(db, "foreign_keys")).toBe(1);
        expect(pragma(db, "temp_store")).toBe(2);
        expect(pragma(db, "cache_size")).toBe(-8192);
        expect(statSync(path).mode & 0o777).toBe(0o600);
        // A write creates the -wal and -shm files: SQLite gives them the main file's mode.
        db.run("CREATE TABLE t (x INTEGER)");
        db.run("INSERT INTO t VALUES (1)");
        for (const f of [`${path}-wal`, `${path}-shm`]) {
          expect(existsSync(f)).toBe(true);
          expect(statSync(f).mode & 0o777).toBe(0o600);
        }
      } finally {
        db.close();
      }
    });
  }

  test("reopening an existing file keeps WAL and the per-connection PRAGMAs", () => {
    const { db, path } = open("full");
    db.run("CREATE TABLE t (x INTEGER)");
    db.close();
    const again = openStore(path, "normal");
    try {
      expect(pragma(again, "journal_mode")).toBe("wal");
      expect(pragma(again, "synchronous")).toBe(1);
      expect(pragma(again, "secure_delete")).toBe(1);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    } finally {
      again.close();
    }
  });
});
