import type { ApiError } from "../errors.ts";
import { spend, tooMany, type Bucket as TokenBucket } from "./token-bucket.ts";

/** `suppressed`: failures answered 429 since the address's last recorded one */
type Bucket = TokenBucket & { suppressed: number };

/** A bucket holds this many seconds of the rate: 20 failures at once at the default 1/s. */
export const FAILED_AUTH_BURST = 20;
/**
 * All addresses together record at most this many times one address's rate (bursts likewise):
 * many addresses (a /48 holds 65 536 /64s) must not add up to an unbounded trail either.
 */
export const ALL_ADDRESSES_FACTOR = 100;
/** Addresses tracked at once; past it, new addresses share one bucket (OVERFLOW). */
const MAX_ADDRESSES = 10_000;
const OVERFLOW = "(overflow)";
/** A request whose peer address is not known (no socket: tests, a rewritten request). */
export const UNKNOWN_ADDRESS = "(unknown)";

/**
 * A token bucket of failed authentications per client address. Every failed authentication
 * appends an audit event and costs a write, so without a bound anyone who can reach the port,
 * with no key at all, could grow audit.db without end (a few KB/s per connection) until the
 * disk is full and the server, failing closed, refuses everyone. Past the budget a failure is
 * answered 429 and not recorded one by one: the trail keeps `burst` events and then `rate`
 * a second per address, and ALL_ADDRESSES_FACTOR times that for all addresses together, and
 * each recorded one carries the count of those left out before it (take()).
 *
 * Only failures count, and only after the key was checked: a valid key from the same address
 * (a shared NAT) is never refused by this. The keys are 256-bit random, so this bounds cost,
 * not guessing.
 */
export class FailedAuthLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = -Infinity;
  /** the budget of all addresses together */
  private readonly all: Bucket;

  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly maxAddresses = MAX_ADDRESSES,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.all = { tokens: ALL_ADDRESSES_FACTOR * burst, at: this.now(), suppressed: 0 };
  }

  /**
   * One more failure from `address`. `wait` 0: it may be answered (401) and recorded, and
   * `suppressed` says how many of this address's failures were answered 429 without an event
   * since its last recorded one (the event carries that count, so none goes untold). Else the
   * seconds to wait.
   */
  take(address: string): { wait: number; suppressed: number } {
    const t = this.now();
    let key = addressKey(address);
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxAddresses) this.forgetRefilled(t);
      if (this.buckets.size >= this.maxAddresses) key = OVERFLOW;
      b = this.buckets.get(key);
      if (!b) this.buckets.set(key, (b = { tokens: this.burst, at: t, suppressed: 0 }));
    }
    let wait = spend(b, t, this.rate, this.burst);
    if (wait === 0) wait = spend(this.all, t, ALL_ADDRESSES_FACTOR * this.rate, ALL_ADDRESSES_FACTOR * this.burst);
    if (wait > 0) {
      b.suppressed++;
      return { wait, suppressed: 0 };
    }
    // a shared bucket (overflow, unknown address) would tell one address of another's 429s
    const suppressed = key === OVERFLOW || key === UNKNOWN_ADDRESS ? 0 : b.suppressed;
    b.suppressed = 0;
    return { wait: 0, suppressed };
  }

  get addresses(): number {
    return this.buckets.size;
  }

  /**
   * Buckets that have refilled are the same as none: drop them to make room. At most once a
   * second: with the table full of live buckets, a scan per new address would let many
   * addresses make every failure cost a pass over the whole table.
   */
  private forgetRefilled(t: number): void {
    if (t - this.lastSweep < 1000) return;
    this.lastSweep = t;
    for (const [key, b] of this.buckets) {
      // Forgotten with any untold count (the 429s stay in /metrics): keeping such buckets would
      // let ~21 failures from each of many addresses hold the table full for as long.
      if (key !== OVERFLOW && b.tokens + ((t - b.at) / 1000) * this.rate >= this.burst) this.buckets.delete(key);
    }
  }
}

/**
 * The bucket an address counts in: an IPv4 address as it is, an IPv6 address by its /64 (one
 * host usually holds a whole /64, so counting single addresses would not bound it), and an
 * IPv4 address mapped into IPv6 as the IPv4 address.
 */
export function addressKey(address: string): string {
  if (!address.includes(":")) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  const [head = "", tail = ""] = address.toLowerCase().split("%")[0]!.split("::");
  const left = head ? head.split(":") : [];
  const right = address.includes("::") ? (tail ? tail.split(":") : []) : [];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":") + "::/64";
}

/** 429 for a failed authentication past the address's budget (not recorded, see FailedAuthLimiter). */
export function tooManyFailures(wait: number): ApiError {
  return tooMany("too_many_failed_authentications", "too many failed authentications from this address", wait);
}
