// Requests no well-behaved client sends, written byte by byte on a real socket: a missing or
// empty Host (Bun then hands over a relative URL), a client that hangs up mid-body.
import { afterAll, beforeAll, expect, spyOn, test } from "bun:test";
import { connect } from "node:net";
import { parseConfig } from "../src/config.ts";
import { startServer, type Running } from "../src/server.ts";
import { removeDir, tempDir, userBody } from "./helpers.ts";

const dir = tempDir();
let server: Running;
let port: number;
let id: string;

beforeAll(async () => {
  const parsed = parseConfig(["--port", "0", "--data-dir", dir, "--no-auth"], {});
  if (parsed.help) throw new Error("unexpected help");
  server = startServer(parsed.config);
  port = Number(new URL(server.url).port);
  const res = await fetch(`${server.url}/api/users`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(userBody()) });
  id = ((await res.json()) as { id: string }).id;
});
afterAll(async () => {
  await server.shutdown();
  removeDir(dir);
});

/** Send raw bytes, read until the server closes; `hangUp` closes our side right after sending. */
function raw(bytes: string, hangUp = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1", () => {
      sock.write(bytes);
      if (hangUp) sock.destroy();
    });
    let data = "";
    sock.on("data", (d) => (data += d.toString("utf8")));
    sock.on("error", reject);
    sock.on("close", () => resolve({ status: Number(data.split(" ")[1] ?? 0), body: data.split("\r\n\r\n")[1] ?? "" }));
  });
}

test.each([
  ["HTTP/1.0 without Host", (path: string) => `GET ${path} HTTP/1.0\r\n\r\n`],
  ["HTTP/1.1 with an empty Host", (path: string) => `GET ${path} HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n`],
])("%s is routed like any request, never a 500", async (_name, req) => {
  expect((await raw(req("/health"))).status).toBe(200);
  const rec = await raw(req(`/api/users/${id}`));
  expect(rec.status).toBe(200);
  expect(JSON.parse(rec.body).id).toBe(id);
  const withQuery = await raw(req(`/api/users/${id}?q=1`));
  expect(withQuery.status).toBe(400);
  expect(JSON.parse(withQuery.body).error.code).toBe("validation_failed");
  const odd = await raw(req(`/a:bcd/api/users/${id}?q=1`));
  expect(odd.status).toBe(404);
  const list = await raw(req("/api/users?limit=1"));
  expect(list.status).toBe(200);
});

test("a client that hangs up mid-body is not logged as a server error, and nothing is stored", async () => {
  const logged = spyOn(console, "error");
  try {
    const body = JSON.stringify(userBody());
    await raw(`POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 50}\r\n\r\n${body.slice(0, 20)}`, true);
    await Bun.sleep(200);
    expect(logged.mock.calls.map((c) => String(c[0]))).not.toContainEqual(expect.stringContaining("internal error"));
    const stats = (await (await fetch(`${server.url}/stats`)).json()) as { database: { identity: number } };
    expect(stats.database.identity).toBe(1);
  } finally {
    logged.mockRestore();
  }
});
