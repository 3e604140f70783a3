import { randomBytes } from "node:crypto";
import type { KeyStore } from "../db/keys.ts";

export const ROLES = ["admin", "clinician", "registrar", "researcher"] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  name: string;
  role: Role;
}

const PREFIX = "prv_";
/** Ours are prv_ + 43 base64url chars; an operator-supplied key (PRIVATA_ADMIN_KEY) may be any long printable string. */
const KEY_SHAPE = /^[!-~]{32,256}$/;
export const NAME_SHAPE = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** "no-auth" (every request under --no-auth) and "cli" (`privata keys`) name no key. */
export const validKeyName = (name: string) => NAME_SHAPE.test(name) && name !== "no-auth" && name !== "cli";

/** A new key: 32 random bytes, base64url, with a prefix that makes a leaked key easy to grep for. */
export function generateKey(): string {
  return PREFIX + randomBytes(32).toString("base64url");
}

/** Keys are random, so a plain SHA-256 is enough (no salt or slow hash needed). */
export function hashKey(key: string): Uint8Array {
  return new Uint8Array(Bun.SHA256.hash(key) as Uint8Array);
}

type Known = { principal: Principal; hash: Uint8Array };

/** A number from a hash's first 6 bytes: the key table's index (a clash only adds a candidate). */
const bucketOf = (h: Uint8Array) => h[0]! * 2 ** 40 + h[1]! * 2 ** 32 + (((h[2]! << 24) | (h[3]! << 16) | (h[4]! << 8) | h[5]!) >>> 0);

/** Constant-time equality of two 32-byte hashes (no early exit on the first difference). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * How stale the key table in memory may be after another process (`privata keys`) changed
 * keys: it is re-read when PRAGMA data_version moved, checked at most once per this many ms.
 * That query was 1.5 µs of every request (a cached read is ~15); the CLI waits KEYS_SETTLE_MS
 * after its change before it reports it, so once it has said "revoked", the key fails.
 */
export const KEYS_RECHECK_MS = 1;
/** How long `privata keys` waits after a change before reporting it (well over KEYS_RECHECK_MS). */
export const KEYS_SETTLE_MS = 10 * KEYS_RECHECK_MS;

/**
 * Answers "whose key is this?" for every request. Live keys are held in memory, indexed by
 * hash, and reloaded whenever the keys table changed (see KEYS_RECHECK_MS), so a key revoked
 * by the CLI in another process fails as soon as the CLI says so.
 */
export class Authenticator {
  private known = new Map<number, Known[]>();
  private readonly digest = new Uint8Array(32);
  private version = -1;
  private checkedAt = -Infinity;

  constructor(
    private readonly store: KeyStore,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The principal for an `Authorization` header value, or null. */
  authenticate(header: string | undefined): Principal | null {
    if (header === undefined || !header.startsWith("Bearer ")) return null;
    const key = header.slice(7);
    if (!KEY_SHAPE.test(key)) return null;
    this.refresh();
    // Into a buffer kept for it, with no string or Buffer made per request (the hex digest, a
    // Buffer of it and timingSafeEqual were ~1 µs of every request, a 20 µs cached read's 5 %).
    Bun.SHA256.hash(key, this.digest);
    // The map finds candidates by the first 6 bytes; the comparison that decides is constant-time.
    for (const k of this.known.get(bucketOf(this.digest)) ?? []) if (sameBytes(k.hash, this.digest)) return k.principal;
    return null;
  }

  /** After the server changed keys itself: data_version only moves for other connections. */
  invalidate(): void {
    this.version = -1;
    this.checkedAt = -Infinity;
  }

  private refresh(): void {
    const t = this.now();
    if (t - this.checkedAt < KEYS_RECHECK_MS) return;
    const v = this.store.version();
    // Only once the table could be read: a read that throws (503 for the request) is tried
    // again by the next request, never answered from the old table for a millisecond.
    this.checkedAt = t;
    if (v === this.version) return;
    const known = new Map<number, Known[]>();
    for (const row of this.store.active()) {
      if (!(ROLES as readonly string[]).includes(row.role)) continue; // never guess a role
      const hash = new Uint8Array(row.hash);
      const bucket = bucketOf(hash);
      known.set(bucket, [...(known.get(bucket) ?? []), { principal: { name: row.name, role: row.role as Role }, hash }]);
    }
    this.known = known;
    this.version = v;
  }
}
