import { describe, expect, test } from "bun:test";
import type { Context } from "hono";
import type { AppEnv } from "./auth/env.ts";
import { preparedHeaders, respond, SECURITY_HEADERS } from "./response-headers.ts";

const ctx = (requestId: string) => ({ get: (k: string) => (k === "requestId" ? requestId : undefined) }) as unknown as Context<AppEnv>;

describe("respond: a hot route's answer with its prepared headers", () => {
  test("each answer gets its own request id and extras; the prepared headers stay as they were", () => {
    const prepared = preparedHeaders({ "Content-Type": "application/json" });
    const before = [...prepared.entries()];
    const a = respond(ctx("id-a"), "{}", 200, prepared, { Link: '</x?cursor=1>; rel="next"' });
    const b = respond(ctx("id-b"), "{}", 201, prepared);
    expect(a.headers.get("X-Request-Id")).toBe("id-a");
    expect(a.headers.get("Link")).toBe('</x?cursor=1>; rel="next"');
    expect(b.headers.get("X-Request-Id")).toBe("id-b");
    expect(b.headers.get("Link")).toBeNull(); // one answer's extras never reach the next
    expect(b.status).toBe(201);
    for (const res of [a, b]) {
      expect(res.headers.get("Content-Type")).toBe("application/json");
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(k)).toBe(v);
    }
    expect([...prepared.entries()]).toEqual(before);
  });
});
