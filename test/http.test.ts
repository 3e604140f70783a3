// Real HTTP over loopback sockets against `bun src/main.ts` running as a child process.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { removeDir, tempDir, userBody } from "./helpers.ts";
import { killAll, startProcess, type Started } from "./process.ts";

const ROOT = join(import.meta.dir, "..");
const SERVE = [process.execPath, join(ROOT, "src", "main.ts"), "--port", "0"];
const JSON_CT = { "content-type": "application/json" };

type ApiRecord = { id: string } & Record<string, unknown>;

const json = (res: Response): Promise<any> => res.json();

const dirs: string[] = [];
function dir(): string {
  const d = tempDir("privata-http-");
  dirs.push(d);
  return d;
}

const post = (url: string, body: unknown) =>
  fetch(`${url}/api/users`, { method: "POST", headers: JSON_CT, body: typeof body === "string" ? body : JSON.stringify(body) });

/** The one JSON error shape, with the given status and code. */
async function expectError(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
  const body = await json(res);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
}

let server: Started;

beforeAll(async () => {
  server = await startProcess([...SERVE, "--data-dir", dir()], { cwd: ROOT });
});

afterAll(async () => {
  await killAll();
  for (const d of dirs) removeDir(d);
});

describe("privata over real sockets", () => {
  test("200 concurrent creates: all 201, distinct ids, each GET returns what was acknowledged", async () => {
    const bodies = Array.from({ length: 200 }, () => userBody());
    const responses = await Promise.all(bodies.map((b) => post(server.url, b)));
    expect(responses.map((r) => r.status)).toEqual(Array(200).fill(201));
    const acked: ApiRecord[] = await Promise.all(responses.map(json));
    acked.forEach((rec, i) => expect(rec).toMatchObject(bodies[i]!));
    expect(new Set(acked.map((r) => r.id)).size).toBe(200);

    const fetched = await Promise.all(acked.map((r) => fetch(`${server.url}/api/users/${r.id}`)));
    expect(fetched.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(await Promise.all(fetched.map(json))).toEqual(acked);

    const listed: ApiRecord[] = await json(await fetch(`${server.url}/api/users?limit=500`));
    const ids = new Set(listed.map((r) => r.id));
    expect(acked.every((r) => ids.has(r.id))).toBe(true);
  });

  test("a body over the 64 KiB cap gets a JSON 413 (with Content-Length and chunked)", async () => {
    const big = userBody({ diagnosis: "x".repeat(100 * 1024) });
    await expectError(await post(server.url, big), 413, "payload_too_large");

    const bytes = new TextEncoder().encode(JSON.stringify(big));
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 8192) c.enqueue(bytes.subarray(i, i + 8192));
        c.close();
      },
    });
    await expectError(
      await fetch(`${server.url}/api/users`, { method: "POST", headers: JSON_CT, body: chunked }),
      413,
      "payload_too_large",
    );
    // A PATCH is capped too.
    const rec: ApiRecord = await json(await post(server.url, userBody()));
    await expectError(
      await fetch(`${server.url}/api/users/${rec.id}`, { method: "PATCH", headers: JSON_CT, body: JSON.stringify(big) }),
      413,
      "payload_too_large",
    );
  });

  // §4: "Errors are one JSON shape everywhere". A body above the transport backstop
  // (max(4 x cap, 1 MiB)) must get the same JSON 413 as one just above the cap.
  test("a 2 MiB body also gets the JSON 413", async () => {
    const huge = userBody({ diagnosis: "x".repeat(2 * 1024 * 1024) });
    await expectError(await post(server.url, huge), 413, "payload_too_large");
  });

  test("malformed JSON gets a JSON 400; a non-JSON body a JSON 415", async () => {
    await expectError(await post(server.url, '{"firstName": "Ann",'), 400, "malformed_json");
    const rec: ApiRecord = await json(await post(server.url, userBody()));
    await expectError(
      await fetch(`${server.url}/api/users/${rec.id}`, { method: "PATCH", headers: JSON_CT, body: "{nope" }),
      400,
      "malformed_json",
    );
    await expectError(
      await fetch(`${server.url}/api/users`, { method: "POST", headers: { "content-type": "text/plain" }, body: "hi" }),
      415,
      "unsupported_media_type",
    );
  });

  test("an unsupported method gets 405 with Allow", async () => {
    const onList = await fetch(`${server.url}/api/users`, { method: "DELETE" });
    expect(onList.headers.get("allow")).toBe("GET, HEAD, POST");
    await expectError(onList, 405, "method_not_allowed");
    const onItem = await fetch(`${server.url}/api/users/01890000-0000-7000-8000-000000000000`, { method: "POST", headers: JSON_CT, body: "{}" });
    expect(onItem.headers.get("allow")).toBe("GET, HEAD, PUT, PATCH, DELETE");
    await expectError(onItem, 405, "method_not_allowed");
  });

  test("graceful shutdown: no 5xx, exit 0, every acknowledged create survives a restart", async () => {
    const dataDir = dir();
    const acked: ApiRecord[] = [];
    const outcomes: string[] = [];
    // Two rounds: SIGTERM as soon as the requests are fired, and SIGTERM once the first
    // response is back (so the rest are in flight while the server drains).
    for (const when of ["immediately", "after-first-response"] as const) {
      const s = await startProcess([...SERVE, "--data-dir", dataDir], { cwd: ROOT });
      expect((await fetch(`${s.url}/health`)).status).toBe(200); // ready, keep-alive open
      let firstResponse!: () => void;
      const gotOne = new Promise<void>((r) => (firstResponse = r));
      const requests = Array.from({ length: 50 }, () =>
        post(s.url, userBody()).then(
          async (res) => {
            firstResponse();
            return { status: res.status, body: await res.text() };
          },
          (err: Error) => ({ status: 0, body: err.name }),
        ),
      );
      if (when === "after-first-response") await Promise.race([gotOne, Bun.sleep(5_000)]);
      s.proc.kill("SIGTERM");
      const results = await Promise.all(requests);
      expect(await s.stop()).toBe(0);
      for (const r of results) {
        outcomes.push(r.status === 0 ? `no response (${r.body})` : String(r.status));
        if (r.status !== 0) {
          expect(r.status).toBeGreaterThanOrEqual(200);
          expect(r.status).toBeLessThan(300);
          acked.push(JSON.parse(r.body));
        }
      }
      expect(s.stderr()).not.toContain("internal error");
    }
    // The second round waited for a response, so at least one create was acknowledged.
    expect(acked.length).toBeGreaterThan(0);
    expect(outcomes.every((o) => o === "201" || o.startsWith("no response"))).toBe(true);

    const s = await startProcess([...SERVE, "--data-dir", dataDir], { cwd: ROOT });
    expect(s.stderr()).not.toContain("orphaned");
    const again = await Promise.all(acked.map((r) => fetch(`${s.url}/api/users/${r.id}`)));
    expect(again.map((r) => r.status)).toEqual(Array(acked.length).fill(200));
    expect(await Promise.all(again.map(json))).toEqual(acked);
    const stats = await json(await fetch(`${s.url}/stats`));
    expect(stats.database.identity).toBeGreaterThanOrEqual(acked.length);
    expect(stats.database.identity).toBe(stats.database.clinical);
    expect(await s.stop()).toBe(0);
  });
});
