import type { Context } from "hono";
import { randomBytes } from "node:crypto";
import type { AppEnv } from "./auth/env.ts";

/**
 * On every answer: the headers hono/secure-headers sends by default, Strict-Transport-Security
 * only over TLS (securityHeaders).
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Origin-Agent-Cluster": "?1",
  "Referrer-Policy": "no-referrer",
  "Strict-Transport-Security": "max-age=15552000; includeSubDomains",
  "X-Content-Type-Options": "nosniff",
  "X-DNS-Prefetch-Control": "off",
  "X-Download-Options": "noopen",
  "X-Frame-Options": "SAMEORIGIN",
  "X-Permitted-Cross-Domain-Policies": "none",
  "X-XSS-Protection": "0",
};

/**
 * The security headers of a server with or without TLS. HSTS tells a browser to use only
 * HTTPS for this host; RFC 6797 §7.2 says a server must not send it over plain HTTP, where a
 * browser ignores it anyway (behind a TLS proxy, --insecure-http, the proxy is the one to send it).
 */
export function securityHeaders(tls: boolean): Readonly<Record<string, string>> {
  if (tls) return SECURITY_HEADERS;
  const { "Strict-Transport-Security": _hsts, ...plain } = SECURITY_HEADERS;
  return plain;
}

/** An app's answer headers: the security headers for its transport, set once per answer. */
export class AnswerHeaders {
  readonly security: Readonly<Record<string, string>>;
  private readonly entries: [string, string][];

  constructor(tls: boolean) {
    this.security = securityHeaders(tls);
    this.entries = Object.entries(this.security);
  }

  /**
   * A route's constant headers with the security headers, as a Headers object built once.
   * Per request the Response copies it and then gets the request id (respond): about 0.6 µs,
   * against 1.0–1.2 for copying it ourselves first (new Headers(prepared), then new Response
   * copies that copy again) and 1.5–2.2 for building it from a plain object, as
   * hono/secure-headers and this middleware once did (scratch micro-benchmark).
   */
  prepared(h: Readonly<Record<string, string>>): Headers {
    return new Headers({ ...h, ...this.security });
  }

  /** Every other answer (errors, system routes, rarer routes) gets its headers set here. */
  finish(res: Response, id: string): void {
    if ((res as Marked)[COMPLETE]) return;
    const h = res.headers;
    h.set("X-Request-Id", id);
    for (const [k, v] of this.entries) h.set(k, v);
  }
}

/**
 * Marks an answer that left respond() with every header on it: finish() leaves it be. A
 * property of the answer, not a WeakSet entry: an add and a lookup were ~45 ns against ~3
 * (micro-benchmark), and every collection has to sweep a weak set's entries.
 */
const COMPLETE = Symbol("privata.complete");
type Marked = Response & { [COMPLETE]?: true };

/** The answer of a hot route, built in one step with all its headers. */
export function respond(c: Context<AppEnv>, body: Uint8Array<ArrayBuffer> | string | null, status: number, prepared: Headers, extra?: Readonly<Record<string, string>>): Response {
  return answer(c.get("requestId"), body, status, prepared, extra);
}

/** respond() for a request that has no Hono context (the cached lane). */
export function answer(requestId: string, body: Uint8Array<ArrayBuffer> | string | null, status: number, prepared: Headers, extra?: Readonly<Record<string, string>>): Response {
  const res = new Response(body, { status, headers: prepared }); // a copy: prepared stays as it is
  const headers = res.headers;
  headers.set("X-Request-Id", requestId);
  if (extra) for (const k in extra) headers.set(k, extra[k]!);
  (res as Marked)[COMPLETE] = true;
  return res;
}

// Request ids: unique within a process run (random prefix per start, then a counter); no
// per-request randomness needed, and never derived from the request.
const PREFIX = randomBytes(4).toString("hex");
let counter = 0;

/** A new request id (requestFrame sets it on the context first thing). */
export function nextRequestId(): string {
  return `${PREFIX}-${(++counter).toString(36)}`;
}
