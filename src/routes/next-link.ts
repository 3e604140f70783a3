/**
 * The `Link: <…>; rel="next"` header of a paged answer: this request's own path and query,
 * with `cursor` set to where the next page starts (the path only: a client follows it on the
 * origin it already talks to).
 */
export function nextLink(requestUrl: string, cursor: string): string {
  const url = new URL(requestUrl);
  url.searchParams.set("cursor", cursor);
  return `<${url.pathname}${url.search}>; rel="next"`;
}
