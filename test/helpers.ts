import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hono } from "hono";
import { createApp } from "../src/app.ts";
import { Stores } from "../src/db/stores.ts";
import { LruCache } from "../src/cache/lru.ts";
import { MODELS } from "../src/models/registry.ts";
import type { ModelDef } from "../src/models/types.ts";
import type { AppEnv } from "../src/auth/env.ts";
import { Authenticator, generateKey, hashKey, ROLES, type Role } from "../src/auth/keys.ts";
import { openAuditTrail, type AuditTrail } from "../src/audit/open.ts";

export function tempDir(prefix = "privata-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestApp {
  app: Hono<AppEnv>;
  stores: Stores;
  audit: AuditTrail;
  cache: LruCache;
  dataDir: string;
  keyFile: string;
  /** app.request() with a JSON body when given */
  req: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Response>;
  /** done when it returns, unless the app writes its audit trail on a thread: then await it */
  close: () => Promise<void>;
}

/** A real app on real SQLite files in a fresh temp data dir; no sockets. */
/**
 * `auth`: false (the default) is --no-auth, every request an admin's, which the suites about
 * storage and HTTP behaviour use; true checks API keys (create them through `stores.keys`).
 */
export function makeApp(opts: { models?: readonly ModelDef[]; dataDir?: string; keyFile?: string; allowReset?: boolean; cacheEntries?: number; cacheBytes?: number; bodyLimit?: number; auth?: boolean; rateLimit?: number; authFailRate?: number; thread?: boolean; cachedLane?: boolean } = {}): TestApp {
  const dataDir = opts.dataDir ?? tempDir();
  const keyFile = opts.keyFile ?? join(dataDir, "link.key");
  const models = opts.models ?? MODELS;
  const stores = Stores.open({ dataDir, keyFile, durability: "normal", models });
  const cache = new LruCache(opts.cacheEntries ?? 1000, opts.cacheBytes);
  const audit = openAuditTrail(dataDir, join(dataDir, "audit.key"), "normal", stores.identity.meta, (ids) => stores.auditPseudonymsHex(ids));
  // the server's way: audit events written by the writer thread
  if (opts.thread) audit.startThread(stores.linkKey);
  const app = createApp({
    stores, cache, models,
    auth: opts.auth ? new Authenticator(stores.keys) : null,
    rateLimit: opts.rateLimit ?? 0,
    authFailRate: opts.authFailRate ?? 0,
    audit,
    bodyLimit: opts.bodyLimit ?? 64 * 1024,
    allowReset: opts.allowReset ?? false,
    durability: "normal",
    cachedLane: opts.cachedLane,
  });
  const req = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    Promise.resolve(
      app.request(path, {
        method,
        headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      }),
    );
  const close = () => {
    const closing = audit.close(); // without a thread, already done
    if (opts.thread) return closing.then(() => stores.close());
    stores.close();
    return closing;
  };
  return { app, stores, audit, cache, dataDir, keyFile, req, close };
}

/**
 * A key for each role (principal `the-<role>`) and a revoked admin key (`gone`), made in `stores`:
 * the callers of the suites that go through every kind of caller.
 */
export function keysPerRole(stores: Stores, now = "2026-11-27T00:00:00.000Z"): Map<Role | "revoked", string> {
  const keys = new Map<Role | "revoked", string>();
  for (const role of ROLES) {
    const k = generateKey();
    stores.keys.create(`the-${role}`, role, hashKey(k), now);
    keys.set(role, k);
  }
  const revoked = generateKey();
  stores.keys.create("gone", "admin", hashKey(revoked), now);
  stores.keys.revoke("gone", now);
  keys.set("revoked", revoked);
  return keys;
}

/** Polls `cond` every 20 ms until it holds or `ms` have passed; says whether it held. */
export async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(20)) if (cond()) return true;
  return cond();
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

let counter = 0;
/** A valid users body with distinctive values (unique per call). */
export function userBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  const n = `${Date.now().toString(36)}${(counter++).toString(36)}`;
  return {
    firstName: `Firstname${n}`,
    lastName: `Lastname${n}`,
    email: `person${n}@example.org`,
    accountType: "premium",
    diagnosis: `Diagnosis${n}`,
    medications: [`Medication${n}a`, `Medication${n}b`],
    ...over,
  };
}

/**
 * A users body of values to search raw files for: each a tag plus a fixed-length random token,
 * so no value is a prefix of another and no two tests share one.
 */
export function distinctBody(tag: string, medications = 2): Record<string, unknown> {
  const tok = () => randomBytes(6).toString("hex");
  return {
    firstName: `F${tag}${tok()}`,
    lastName: `L${tag}${tok()}`,
    email: `e${tag}${tok()}@example.org`,
    accountType: `A${tag}${tok()}`,
    diagnosis: `D${tag}${tok()}`,
    medications: Array.from({ length: medications }, () => `M${tag}${tok()}`),
  };
}

/** Every file of the data dir whose raw bytes contain the needle. */
export function filesContaining(dir: string, needle: string | Uint8Array, only?: RegExp): string[] {
  return readdirSync(dir)
    .filter((f) => !only || only.test(f))
    .filter((f) => readFileSync(join(dir, f)).indexOf(needle) !== -1);
}
