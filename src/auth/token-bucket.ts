import { ApiError } from "../errors.ts";

/** A token bucket's state: `tokens` as of `at` (performance.now() ms). */
export type Bucket = { tokens: number; at: number };

/**
 * One token from `b`, refilled at `rate` a second up to `burst` since it was last used: 0
 * when there was one, else the seconds until there is. Shared by the per-key rate limit and
 * the per-address limit of failed authentications.
 */
export function spend(b: Bucket, t: number, rate: number, burst: number): number {
  b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * rate);
  b.at = t;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return (1 - b.tokens) / rate;
}

/** 429 with Retry-After in whole seconds (at least 1), and the wait named in the message. */
export function tooMany(code: string, what: string, wait: number): ApiError {
  const seconds = String(Math.max(1, Math.ceil(wait)));
  return new ApiError(429, code, `${what}; retry in ${seconds} s`, undefined, { "Retry-After": seconds });
}
