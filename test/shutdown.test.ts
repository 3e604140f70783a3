// Graceful shutdown under load (issue "Long-run stability"): SIGTERM while requests are in
// flight. Every request sent on a connection the server had accepted gets its whole 2xx answer
// (no reset), new connections are refused while the server drains, it exits 0, and a restart on
// the same data dir has every acknowledged create and update. Raw sockets, not fetch: fetch's
// pool hides which connection a request used, and "was the connection accepted" is the point.
import { afterAll, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { removeDir, tempDir, userBody } from "./helpers.ts";
import { killAll, runSync, startProcess } from "./process.ts";
import { Database } from "bun:sqlite";

const ROOT = join(import.meta.dir, "..");
const SERVE = [process.execPath, join(ROOT, "src", "main.ts"), "--port", "0"];
const PER_KIND = 50; // connections per kind of in-flight request

const dataDir = tempDir("privata-shutdown-");
afterAll(async () => {
  await killAll();
  removeDir(dataDir);
});

/** One keep-alive connection; `answer()` is the next complete response on it. */
interface Conn {
  sock: Socket;
  buf: Buffer;
  ended: boolean;
  error: string | null;
}

function open(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const c: Conn = { sock: connect(port, "127.0.0.1", () => resolve(c)), buf: Buffer.alloc(0), ended: false, error: null };
    c.sock.on("data", (d: Buffer) => (c.buf = Buffer.concat([c.buf, d])));
    c.sock.on("close", () => (c.ended = true));
    c.sock.on("error", (e: NodeJS.ErrnoException) => {
      c.error = e.code ?? e.name;
      reject(e);
    });
  });
}

/** The first complete response in the buffer (Content-Length framed), or null. */
function parse(c: Conn): { status: number; body: string } | null {
  const end = c.buf.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const head = c.buf.subarray(0, end).toString("latin1");
  const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? NaN);
  if (!(c.buf.length >= end + 4 + length)) return null;
  const body = c.buf.subarray(end + 4, end + 4 + length).toString("utf8");
  c.buf = c.buf.subarray(end + 4 + length);
  return { status: Number(head.split(" ")[1]), body };
}

/** Wait for the next response; a close or reset first is an outcome too (it fails the checks). */
async function answer(c: Conn, ms = 15_000): Promise<{ status: number; body: string }> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await Bun.sleep(2)) {
    const r = parse(c);
    if (r) return r;
    if (c.ended) return { status: 0, body: c.error ?? `closed after ${c.buf.length} bytes` };
  }
  return { status: 0, body: "no answer in time" };
}

function request(method: string, path: string, body: string): { head: string; body: string } {
  const head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return { head, body };
}

const json = (res: Response): Promise<any> => res.json();

test("SIGTERM under load: every accepted request answered, new connections refused, exit 0, nothing acknowledged lost", async () => {
  const acked = new Map<string, unknown>(); // id -> the record as last acknowledged
  // "at once" signals right after the requests are written (they may still be unread in the
  // socket buffers; twice, as that race is not hit every time); "after first answer" once the
  // first answer is back (writes are mid-commit).
  for (const round of ["at once", "after first answer", "at once"] as const) {
    const s = await startProcess([...SERVE, "--data-dir", dataDir], { cwd: ROOT });
    const seeded = await Promise.all(Array.from({ length: PER_KIND }, () =>
      fetch(`${s.url}/api/users`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(userBody()) }).then(json),
    ));
    for (const r of seeded) acked.set(r.id, r);

    // Every connection is proven accepted: it has had one full round trip.
    const conns = await Promise.all(Array.from({ length: PER_KIND * 4 }, () => open(s.port)));
    for (const c of conns) c.sock.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    for (const c of conns) expect((await answer(c)).status).toBe(200);

    const creates = conns.slice(0, PER_KIND);
    const updates = conns.slice(PER_KIND, 2 * PER_KIND);
    const slow = conns.slice(2 * PER_KIND, 3 * PER_KIND); // body still being sent at the signal
    const idle = conns.slice(3 * PER_KIND);
    creates.forEach((c) => {
      const r = request("POST", "/api/users", JSON.stringify(userBody()));
      c.sock.write(r.head + r.body);
    });
    updates.forEach((c, i) => {
      const r = request("PATCH", `/api/users/${seeded[i].id}`, JSON.stringify({ diagnosis: `Round ${round} ${i}` }));
      c.sock.write(r.head + r.body);
    });
    const rests = slow.map((c) => {
      const r = request("POST", "/api/users", JSON.stringify(userBody()));
      c.sock.write(r.head + r.body.slice(0, 25));
      return () => c.sock.write(r.body.slice(25));
    });
    const answers = [...creates, ...updates, ...slow].map((c) => answer(c));
    if (round === "after first answer") await Promise.race(answers);
    s.proc.kill("SIGTERM");

    // While the slow bodies are unfinished the server is still draining: a new connection
    // now must be refused (the listener is closed), not accepted and then dropped.
    await Bun.sleep(300);
    expect(s.proc.exitCode).toBeNull();
    const refused = await open(s.port).then((c) => (c.sock.destroy(), "accepted"), (e: NodeJS.ErrnoException) => e.code);
    expect(refused).toBe("ECONNREFUSED");
    for (const rest of rests) rest();

    const results = await Promise.all(answers);
    expect(results.map((r) => r.status)).toEqual([
      ...Array<number>(PER_KIND).fill(201), ...Array<number>(PER_KIND).fill(200), ...Array<number>(PER_KIND).fill(201),
    ]);
    for (const r of results) {
      const rec = JSON.parse(r.body) as { id: string };
      acked.set(rec.id, rec);
    }
    expect(await s.stop()).toBe(0);
    // An idle keep-alive connection is closed cleanly: end of stream, no bytes, no reset.
    for (const c of idle) expect({ ended: c.ended, bytes: c.buf.length, error: c.error }).toEqual({ ended: true, bytes: 0, error: null });
    expect(s.stderr()).not.toMatch(/internal error|error during shutdown/);
  }

  // Nothing acknowledged is lost: the restart has exactly the acknowledged records and values.
  const s = await startProcess([...SERVE, "--data-dir", dataDir], { cwd: ROOT });
  expect(s.stderr()).not.toContain("orphaned");
  const stats = await json(await fetch(`${s.url}/stats`));
  expect(stats.database).toMatchObject({ identity: acked.size, clinical: acked.size });
  for (const [id, rec] of acked) expect(await json(await fetch(`${s.url}/api/users/${id}`))).toEqual(rec);
  expect(await s.stop()).toBe(0);
});

test("SIGTERM right after a burst: every answered request has its audit event, and the chain verifies", async () => {
  const dir = tempDir("privata-shutdown-audit-");
  try {
    const s = await startProcess([...SERVE, "--data-dir", dir], { cwd: ROOT });
    const post = () => fetch(`${s.url}/api/users`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(userBody()) });
    const statuses = await Promise.all(Array.from({ length: 200 }, () => post().then((r) => r.status)));
    expect(statuses.filter((x) => x === 201)).toHaveLength(200);
    // at once: the last window's events are still queued, or with the writer thread
    expect(await s.stop()).toBe(0);
    const db = new Database(join(dir, "audit.db"), { readonly: true });
    const created = db.query<{ n: number }, []>("SELECT count(*) AS n FROM events WHERE action = 'create' AND outcome = 'ok'").get()!.n;
    db.close();
    expect(created).toBe(200);
    const verify = runSync([process.execPath, join(ROOT, "src", "main.ts"), "audit", "verify", "--data-dir", dir]);
    expect(verify.exitCode).toBe(0);
    expect(verify.stdout).toContain("ok, 200 events");
  } finally {
    removeDir(dir);
  }
});
