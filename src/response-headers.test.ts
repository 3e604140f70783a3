import { describe, expect, test } from "bun:test";
import type { Context } from "hono";
import type { AppEnv } from "./auth/env.ts";
import { AnswerHeaders, respond, securityHeaders } from "./response-headers.ts";

const ctx = (requestId: string) => ({ get: (k: string) => (k === "requestId" ? requestId : undefined) }) as unknown as Context<AppEnv>;

describe("respond: a hot route's answer with its prepared headers", () => {
  test("each answer gets its own request id and extras; the prepared headers stay as they were", () => {
    const prepared = new AnswerHeaders(true).prepared({ "Content-Type": "application/json" });
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
      for (const [k, v] of Object.entries(securityHeaders(true))) expect(res.headers.get(k)).toBe(v);
    }
    expect([...prepared.entries()]).toEqual(before);
  });
});

describe("the security headers", () => {
  test("hono/secure-headers' defaults; Strict-Transport-Security only over TLS", () => {
    const tls = securityHeaders(true);
    const plain = securityHeaders(false);
    expect(Object.keys(tls)).toHaveLength(11);
    expect(tls["Strict-Transport-Security"]).toBe("max-age=15552000; includeSubDomains");
    expect(plain["Strict-Transport-Security"]).toBeUndefined();
    const { "Strict-Transport-Security": _, ...rest } = tls;
    expect(plain).toEqual(rest);
    for (const [tlsOn, expected] of [[true, tls], [false, plain]] as const) {
      const answers = new AnswerHeaders(tlsOn);
      const res = new Response("{}");
      answers.finish(res, "id-x");
      expect(Object.fromEntries([...res.headers].filter(([k]) => k !== "content-type" && k !== "x-request-id"))).toEqual(Object.fromEntries(Object.entries(expected).map(([k, v]) => [k.toLowerCase(), v])));
      expect(res.headers.get("x-request-id")).toBe("id-x");
    }
  });
});
