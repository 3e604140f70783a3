// Hardening: security headers and request ids on every answer, a per-key rate limit, TLS,
// and Bun's limit on the request head.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { makeApp, removeDir, tempDir, userBody } from "./helpers.ts";
import { killAll, runSync, startProcess } from "./process.ts";
import { generateKey, hashKey } from "../src/auth/keys.ts";
import { securityHeaders } from "../src/response-headers.ts";

const MAIN = join(import.meta.dir, "..", "src", "main.ts");
const dirs: string[] = [];
afterAll(async () => {
  await killAll();
  dirs.forEach(removeDir);
});
const NOW = "2026-11-27T00:00:00.000Z";

describe("every answer", () => {
  test("carries security headers and its own request id, errors included", async () => {
    const t = makeApp({ auth: true });
    dirs.push(t.dataDir);
    const ids = new Set<string>();
    for (const [path, status] of [["/health", 200], ["/api/users", 401], ["/nope", 404]] as const) {
      const res = await t.req("GET", path);
      expect(res.status).toBe(status);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
      expect(res.headers.get("strict-transport-security")).toBeNull(); // plain HTTP: never (RFC 6797 §7.2)
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      ids.add(res.headers.get("x-request-id")!);
    }
    expect(ids.size).toBe(3);
    t.close();
  });

  test("the record routes too (they build their headers once): every security header, no-store, the id the audit event names", async () => {
    const t = makeApp({ auth: true });
    dirs.push(t.dataDir);
    const key = generateKey();
    t.stores.keys.create("dr", "clinician", hashKey(key), NOW);
    const auth = { authorization: `Bearer ${key}` };
    const created = await t.req("POST", "/api/users", userBody(), auth);
    const id = ((await created.clone().json()) as { id: string }).id;
    const second = await t.req("POST", "/api/users", userBody(), auth); // so a page of one has a next link
    const answers = [
      created,
      await t.req("GET", `/api/users/${id}`, undefined, auth), // miss
      await t.req("GET", `/api/users/${id}`, undefined, auth), // hit
      await t.req("GET", "/api/users?limit=1", undefined, auth), // page built
      await t.req("GET", "/api/users?limit=1", undefined, auth), // page cached
      await t.req("PUT", `/api/users/${id}`, { diagnosis: "none" }, auth),
    ];
    expect(answers.map((r) => r.status)).toEqual([201, 200, 200, 200, 200, 200]);
    expect(answers.map((r) => r.headers.get("x-cache-hit"))).toEqual([null, "false", "true", "false", "true", null]);
    expect(created.headers.get("location")).toBe(`/api/users/${id}`);
    for (const page of answers.slice(3, 5)) expect(page.headers.get("link")).toContain("cursor=");
    for (const res of answers) {
      for (const [k, v] of Object.entries(securityHeaders(false))) expect(res.headers.get(k)).toBe(v);
      expect(res.headers.get("strict-transport-security")).toBeNull();
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("content-type")).toBe("application/json");
    }
    const ids = answers.map((r) => r.headers.get("x-request-id"));
    expect(new Set(ids).size).toBe(6);
    t.audit.log.flush();
    const logged = t.audit.store.page({ principal: "dr" }, 0, 10).rows.map((e) => e.requestId);
    expect(logged).toEqual([ids[0]!, second.headers.get("x-request-id")!, ...ids.slice(1)]);
    t.close();
  });
});

describe("the rate limit", () => {
  test("a key past its bucket gets 429 with Retry-After; another key is not affected; nothing is written", async () => {
    const t = makeApp({ auth: true, rateLimit: 2 }); // bursts of 4
    dirs.push(t.dataDir);
    const [a, b] = [generateKey(), generateKey()];
    t.stores.keys.create("a", "clinician", hashKey(a), NOW);
    t.stores.keys.create("b", "clinician", hashKey(b), NOW);
    const body = { firstName: "A", lastName: "B", email: "a@x.org" };
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await t.req("POST", "/api/users", body, { authorization: `Bearer ${a}` })).status);
    expect(statuses.slice(0, 4)).toEqual([201, 201, 201, 201]);
    const limited = await t.req("POST", "/api/users", body, { authorization: `Bearer ${a}` });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    expect(t.stores.counts().identity).toBe(statuses.filter((s) => s === 201).length);
    expect((await t.req("GET", "/api/users", undefined, { authorization: `Bearer ${b}` })).status).toBe(200);
    t.close();
  });
});

describe("failed authentications per client address", () => {
  test("each address has its own bucket: one client past it does not lock out another", async () => {
    const t = makeApp({ auth: true, authFailRate: 1 }); // bursts of 20
    dirs.push(t.dataDir);
    const from = (address: string) => ({ requestIP: () => ({ address }) });
    const get = (address: string) => t.app.request("/api/users", { headers: { authorization: "Bearer nope" } }, from(address));
    for (let i = 0; i < 20; i++) expect((await get("192.0.2.1")).status).toBe(401);
    expect((await get("192.0.2.1")).status).toBe(429);
    expect((await get("192.0.2.2")).status).toBe(401);
    expect((await get("2001:db8::1")).status).toBe(401);
    await t.close();
  });

  test("over real sockets: past the burst a keyless client gets 429 and is not recorded one by one; a valid key from the same address is not affected", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const data = join(dir, "data");
    const s = await startProcess([process.execPath, MAIN, "--port", "0", "--data-dir", data, "--auth-fail-rate", "1"], { env: { PRIVATA_NO_AUTH: "0" } });
    const admin = { authorization: `Bearer ${readFileSync(join(data, "admin.key"), "utf8").trim()}` };
    const bad = { authorization: `Bearer ${generateKey()}` };
    const t0 = performance.now();
    const statuses: number[] = [];
    let limited: Response | null = null;
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${s.url}/api/users`, { headers: bad });
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
      else await res.arrayBuffer();
    }
    const seconds = (performance.now() - t0) / 1000;
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401)); // the burst: 20 at 1/s
    const failures = statuses.filter((x) => x === 401).length;
    expect(failures).toBeLessThanOrEqual(20 + Math.ceil(seconds)); // then one a second at most
    expect(statuses.filter((x) => x !== 401 && x !== 429)).toEqual([]);
    expect(limited).not.toBeNull();
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await limited!.json()) as { error: { code: string } }).error.code).toBe("too_many_failed_authentications");
    // a request Bun hands over with a relative URL (HTTP/1.0, no Host) counts for its address too
    const rawStatus = await new Promise<number>((resolve, reject) => {
      const sock = connect(s.port, "127.0.0.1", () => sock.write(`GET /api/users HTTP/1.0\r\nAuthorization: ${bad.authorization}\r\n\r\n`));
      let data = "";
      sock.on("data", (d) => (data += d.toString("utf8")));
      sock.on("error", reject);
      sock.on("close", () => resolve(Number(data.split(" ")[1] ?? 0)));
    });
    expect(rawStatus).toBe(429);
    expect((await fetch(`${s.url}/api/users`, { headers: admin })).status).toBe(200); // same address, valid key
    // a second later there is a token again: the next failure is recorded, telling the 429s before it
    await Bun.sleep(1100);
    expect((await fetch(`${s.url}/api/users`, { headers: bad })).status).toBe(401);
    expect(await s.stop()).toBe(0);
    // a clean stop has written every event: one per 401, none for the 429s, whose count the last one carries
    const db = new Database(join(data, "audit.db"), { readonly: true });
    const events = db.query("SELECT fields FROM events WHERE action = 'auth.fail' ORDER BY seq").all() as { fields: string }[];
    db.close();
    // each recorded failure names the 429s since the one before it (the HTTP/1.0 one included)
    const expected: string[] = [];
    let untold = 0;
    for (const x of [...statuses, 429, 401]) {
      if (x === 429) untold++;
      else expected.push(JSON.stringify(untold ? [`suppressed_before:${untold}`] : [])), (untold = 0);
    }
    expect(events.map((e) => e.fields)).toEqual(expected);
    expect(expected.at(-1)).toMatch(/suppressed_before:\d+/);
  });
});

describe("over real sockets", () => {
  test("TLS with --tls-cert/--tls-key, every answer with HSTS; a request head over 16 KiB gets 431", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const [cert, key] = [join(dir, "cert.pem"), join(dir, "key.pem")];
    const made = runSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", key, "-out", cert]);
    expect(made.exitCode).toBe(0);
    const data = join(dir, "data");
    const s = await startProcess([process.execPath, MAIN, "--port", "0", "--data-dir", data, "--tls-cert", cert, "--tls-key", key, "--no-auth"], { listening: /privata: listening on https:\/\/([^:/\s]+):(\d+)/ });
    const base = `https://127.0.0.1:${s.port}`;
    const tls = { tls: { rejectUnauthorized: false } };
    const res = await fetch(`${base}/api/users`, tls);
    expect(res.status).toBe(200);
    const created = await fetch(`${base}/api/users`, { ...tls, method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(userBody()) });
    const read = await fetch(`${base}${created.headers.get("location")}`, tls);
    const missing = await fetch(`${base}/nope`, tls);
    expect([created.status, read.status, missing.status]).toEqual([201, 200, 404]);
    for (const r of [res, created, read, missing]) {
      for (const [k, v] of Object.entries(securityHeaders(true))) expect(r.headers.get(k)).toBe(v);
      expect(r.headers.get("strict-transport-security")).toBe("max-age=15552000; includeSubDomains");
    }
    const plain = await fetch(`http://127.0.0.1:${s.port}/health`).then((r) => r.status, () => "refused");
    expect(plain).not.toBe(200); // no clear-text answer on the TLS port
    const big = await fetch(`${base}/health`, { headers: { "x-big": "a".repeat(17_000) }, tls: { rejectUnauthorized: false } });
    expect(big.status).toBe(431);
    expect(await s.stop()).toBe(0);
  });
});
