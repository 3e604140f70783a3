import { ApiError } from "../errors.ts";

type Bucket = { tokens: number; at: number };

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
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / this.rate;
  }
}

/** Right after authentication (authenticate): 429 with Retry-After (whole seconds, at least 1) past the limit. */
export function refuseOverLimit(limiter: RateLimiter, principal: string): void {
  const wait = limiter.take(principal);
  if (wait > 0) {
    const seconds = String(Math.max(1, Math.ceil(wait)));
    throw new ApiError(429, "rate_limited", `too many requests for this key; retry in ${seconds} s`, undefined, { "Retry-After": seconds });
  }
}
