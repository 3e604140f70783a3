// The compiled executable (dist/privata) as a real process over real HTTP on loopback.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeDir, tempDir, userBody } from "./helpers.ts";
import { killAll, runSync, startProcess } from "./process.ts";

const ROOT = join(import.meta.dir, "..");
const BIN = join(ROOT, "dist", "privata");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const json = (res: Response): Promise<any> => res.json();

const dirs: string[] = [];
function dir(): string {
  const d = realpathSync(tempDir("privata-bin-"));
  dirs.push(d);
  return d;
}

function send(url: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(url + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** After a clean stop the WAL has been checkpointed: the file is gone or empty. */
function expectNoWal(dataDir: string): void {
  for (const f of ["identity.db-wal", "clinical.db-wal"]) {
    const p = join(dataDir, f);
    expect(existsSync(p) ? statSync(p).size : 0).toBe(0);
  }
}

beforeAll(() => {
  const r = Bun.spawnSync([process.execPath, "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  if (r.exitCode !== 0) console.error(r.stderr.toString());
  expect(r.exitCode).toBe(0);
  expect(existsSync(BIN)).toBe(true);
}, 60_000);

afterAll(async () => {
  await killAll();
  for (const d of dirs) removeDir(d);
});

describe("dist/privata", () => {
  test("CRUD round, clean SIGTERM, restart on the same data dir and key", async () => {
    const dataDir = dir();
    const keyFile = join(dir(), "link.key");
    const args = [BIN, "--port", "0", "--data-dir", dataDir, "--key-file", keyFile];
    let s = await startProcess(args);
    expect(s.stderr()).toContain(`data dir ${dataDir}, durability normal`);

    const body = userBody();
    const created = await send(s.url, "POST", "/api/users", body);
    expect(created.status).toBe(201);
    const rec = await json(created);
    expect(rec).toMatchObject(body);
    expect(rec.id).toMatch(UUID);
    expect(created.headers.get("location")).toBe(`/api/users/${rec.id}`);

    const got = await send(s.url, "GET", `/api/users/${rec.id}`);
    expect(got.status).toBe(200);
    expect(["true", "false"]).toContain(got.headers.get("x-cache-hit")!);
    expect(await json(got)).toEqual(rec);

    const patched = await send(s.url, "PATCH", `/api/users/${rec.id}`, { diagnosis: "Updated diagnosis", accountType: "basic" });
    expect(patched.status).toBe(200);
    const updated = await json(patched);
    expect(updated).toEqual({ ...rec, diagnosis: "Updated diagnosis", accountType: "basic", updatedAt: updated.updatedAt });
    expect(updated.updatedAt >= rec.updatedAt).toBe(true);

    const second = await json(await send(s.url, "POST", "/api/users", userBody({ accountType: "basic" })));
    const filtered = await send(s.url, "GET", `/api/users?lastName=${encodeURIComponent(second.lastName)}`);
    expect(filtered.status).toBe(200);
    expect((await json(filtered)).map((r: { id: string }) => r.id)).toEqual([second.id]);
    const paged = await send(s.url, "GET", "/api/users?accountType=basic&limit=1");
    expect(await json(paged)).toHaveLength(1);
    expect(paged.headers.get("link")).toMatch(/rel="next"/);

    const del = await send(s.url, "DELETE", `/api/users/${second.id}`);
    expect(del.status).toBe(204);
    expect(await del.text()).toBe("");
    expect((await send(s.url, "GET", `/api/users/${second.id}`)).status).toBe(404);

    const health = await send(s.url, "GET", "/health");
    expect(health.status).toBe(200);
    expect((await json(health)).status).toBe("ok");
    const stats = await json(await send(s.url, "GET", "/stats"));
    expect(stats.database).toMatchObject({ identity: 1, clinical: 1 });
    expect(stats.cache.hits + stats.cache.misses).toBeGreaterThan(0);
    // the default --cache-bytes (96 MiB) split: two thirds for records, a third for list pages
    expect([stats.cache.maxBytes, stats.cache.pages.maxBytes]).toEqual([64 * 2 ** 20, 32 * 2 ** 20]);
    // the checkpoint worker is embedded in the binary and runs (not the main-thread fallback)
    for (let i = 0; i < 100 && (await json(await send(s.url, "GET", "/stats"))).walCheckpoints.done === 0; i++) await Bun.sleep(50);
    expect((await json(await send(s.url, "GET", "/stats"))).walCheckpoints).toMatchObject({ thread: true, done: expect.any(Number) });
    expect((await json(await send(s.url, "GET", "/stats"))).walCheckpoints.done).toBeGreaterThan(0);
    expect(s.stderr()).not.toContain("checkpoint thread failed");
    // so is the audit writer thread: GET /api/audit waits for it to write what came before
    const trail = await json(await send(s.url, "GET", "/api/audit?action=create"));
    expect(trail.map((e: { outcome: string }) => e.outcome)).toEqual(["ok", "ok"]);
    expect(s.stderr()).not.toContain("audit writer thread failed");

    expect(await s.stop("SIGTERM")).toBe(0);
    expectNoWal(dataDir);
    expect(existsSync(keyFile)).toBe(true);
    expect(existsSync(join(dataDir, "link.key"))).toBe(false);

    s = await startProcess(args);
    const again = await send(s.url, "GET", `/api/users/${rec.id}`);
    expect(again.status).toBe(200);
    expect(again.headers.get("x-cache-hit")).toBe("false");
    expect(await json(again)).toEqual(updated);
    expect((await send(s.url, "GET", `/api/users/${second.id}`)).status).toBe(404);
    expect(s.stderr()).not.toContain("orphaned");
    expect(await s.stop()).toBe(0);
  });

  test("--help prints usage on stdout and exits 0", () => {
    const r = runSync([BIN, "--help"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("Usage: privata [options]");
    for (const word of ["--port", "--data-dir", "--key-file", "PRIVATA_DATA_DIR", "--help"]) expect(r.stdout).toContain(word);
    expect(r.stderr).toBe("");
  });

  test("bad values print one line on stderr and exit 2", () => {
    const cases: { args: string[]; env?: Record<string, string>; match: RegExp }[] = [
      { args: ["--port", "nope"], match: /^privata: invalid --port/ },
      { args: ["--port", "70000"], match: /^privata: invalid --port/ },
      { args: ["--durability", "fast"], match: /^privata: invalid --durability/ },
      { args: ["--no-such-flag"], match: /^privata: / },
      { args: [], env: { PRIVATA_PORT: "nope" }, match: /^privata: invalid PRIVATA_PORT/ }, // names its source
    ];
    for (const c of cases) {
      const r = runSync([BIN, ...c.args], { env: c.env ?? {}, cwd: dir() });
      expect(r.exitCode).toBe(2);
      const lines = r.stderr.trimEnd().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(c.match);
      expect(r.stdout).toBe("");
    }
  });

  test("env vars configure the server and flags beat them", async () => {
    const cwd = dir();
    const dirA = join(dir(), "a");
    let s = await startProcess([BIN], { cwd, env: { PRIVATA_PORT: "0", PRIVATA_DATA_DIR: dirA, PRIVATA_ALLOW_RESET: "1" } });
    expect(s.stderr()).toContain(`data dir ${dirA},`);
    expect((await send(s.url, "POST", "/api/users", userBody())).status).toBe(201);
    expect((await send(s.url, "POST", "/reset")).status).toBe(200);
    expect(await s.stop()).toBe(0);
    expect(existsSync(join(dirA, "identity.db"))).toBe(true);
    expect(existsSync(join(cwd, "data"))).toBe(false);

    const envDir = join(dir(), "env");
    const flagDir = join(dir(), "flag");
    s = await startProcess([BIN, "--port", "0", "--data-dir", flagDir], {
      cwd,
      env: { PRIVATA_PORT: "nope", PRIVATA_DATA_DIR: envDir },
    });
    expect(s.stderr()).toContain(`data dir ${flagDir},`);
    expect((await send(s.url, "POST", "/api/users", userBody())).status).toBe(201);
    expect(await s.stop()).toBe(0);
    expect(existsSync(join(flagDir, "identity.db"))).toBe(true);
    expect(existsSync(envDir)).toBe(false);
  });

  test(".env and bunfig.toml in the working directory are ignored", async () => {
    const cwd = dir();
    const envDir = join(dir(), "from-dotenv");
    const marker = join(cwd, "preload-ran");
    writeFileSync(join(cwd, ".env"), `PRIVATA_DATA_DIR=${envDir}\nPRIVATA_ALLOW_RESET=1\nPRIVATA_DURABILITY=full\n`);
    writeFileSync(join(cwd, "preload.ts"), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran");\n`);
    writeFileSync(join(cwd, "bunfig.toml"), `preload = ["./preload.ts"]\n`);

    // Control: plain `bun` in this directory does honour both files, so the fixture is live.
    const control = await startProcess([process.execPath, join(ROOT, "src", "main.ts"), "--port", "0"], { cwd });
    expect(control.stderr()).toContain(`data dir ${envDir}, durability full`);
    expect((await send(control.url, "POST", "/reset")).status).toBe(200); // (also: ready for a signal)
    expect(await control.stop()).toBe(0);
    expect(existsSync(marker)).toBe(true);
    removeDir(envDir);
    removeDir(marker);

    const s = await startProcess([BIN, "--port", "0"], { cwd });
    expect(s.stderr()).toContain(`data dir ${join(cwd, "data")}, durability normal`);
    expect((await send(s.url, "POST", "/api/users", userBody())).status).toBe(201);
    expect((await send(s.url, "POST", "/reset")).status).toBe(404);
    expect(await s.stop()).toBe(0);
    expect(existsSync(join(cwd, "data", "identity.db"))).toBe(true);
    expect(existsSync(envDir)).toBe(false);
    expect(existsSync(marker)).toBe(false);
  });

  test.each(["SIGINT", "SIGHUP"] as const)("%s also shuts down cleanly with exit 0", async (signal) => {
    const dataDir = dir();
    const s = await startProcess([BIN, "--port", "0", "--data-dir", dataDir]);
    expect((await send(s.url, "POST", "/api/users", userBody())).status).toBe(201);
    expect(await s.stop(signal)).toBe(0);
    expect(s.stderr()).not.toContain("error");
    expectNoWal(dataDir);
  });

  // The "listening on" line is the readiness signal a supervisor waits for; a SIGTERM sent
  // right after it must still be a clean shutdown, never the default kill-by-signal.
  test("SIGTERM right after the listening line always exits 0", async () => {
    const dataDir = dir();
    const codes: (number | string | null)[] = [];
    for (let i = 0; i < 20; i++) {
      const s = await startProcess([BIN, "--port", "0", "--data-dir", dataDir]);
      const code = await s.stop("SIGTERM");
      codes.push(code ?? s.proc.signalCode); // "SIGTERM" here means killed by the default action
    }
    expect(codes).toEqual(Array(20).fill(0));
  });

  test("POST /reset is 404 without --allow-reset and 200 with it", async () => {
    const dataDir = dir();
    let s = await startProcess([BIN, "--port", "0", "--data-dir", dataDir]);
    const rec = await json(await send(s.url, "POST", "/api/users", userBody()));
    const refused = await send(s.url, "POST", "/reset");
    expect(refused.status).toBe(404);
    expect((await json(refused)).error.code).toBe("not_found");
    expect((await send(s.url, "GET", `/api/users/${rec.id}`)).status).toBe(200);
    expect(await s.stop()).toBe(0);

    s = await startProcess([BIN, "--port", "0", "--data-dir", dataDir, "--allow-reset"]);
    const reset = await send(s.url, "POST", "/reset");
    expect(reset.status).toBe(200);
    expect(await json(reset)).toEqual({ status: "reset" });
    expect((await send(s.url, "GET", `/api/users/${rec.id}`)).status).toBe(404);
    const stats = await json(await send(s.url, "GET", "/stats"));
    expect(stats.database).toMatchObject({ identity: 0, clinical: 0 });
    expect(await s.stop()).toBe(0);
  });
});
