import { spend, tooMany, type Bucket } from "./token-bucket.ts";

/**
 * A token bucket per principal: `rate` requests a second on average, bursts up to `burst`.
 * One key that runs away (a script in a loop, a stolen key) slows down alone, with 429 and
 * Retry-After, instead of taking the server's capacity from every other user.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** 0 when the request may go ahead, else the seconds until a token is there. */
  take(principal: string): number {
    const t = this.now();
    let b = this.buckets.get(principal);
    if (!b) this.buckets.set(principal, (b = { tokens: this.burst, at: t }));
    return spend(b, t, this.rate, this.burst);
  }
}

/** Right after authentication (authenticate): 429 with Retry-After (whole seconds, at least 1) past the limit. */
export function refuseOverLimit(limiter: RateLimiter, principal: string): void {
  const wait = limiter.take(principal);
  if (wait > 0) throw tooMany("rate_limited", "too many requests for this key", wait);
}
