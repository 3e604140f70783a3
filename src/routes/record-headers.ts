import type { AnswerHeaders } from "../response-headers.ts";

// Health data must not be kept by browsers or proxies along the way.
export const JSON_HEADERS = { "Content-Type": "application/json", "Cache-Control": "no-store" };

/**
 * The record routes' answer headers, with the security headers, built once per app: each
 * answer copies one (response-headers.ts). The routes and the cached lane share them.
 */
export interface RecordHeaders {
  json: Headers;
  hit: Headers;
  miss: Headers;
}

export function recordHeaders(answers: AnswerHeaders): RecordHeaders {
  return {
    json: answers.prepared(JSON_HEADERS),
    hit: answers.prepared({ ...JSON_HEADERS, "X-Cache-Hit": "true" }),
    miss: answers.prepared({ ...JSON_HEADERS, "X-Cache-Hit": "false" }),
  };
}
