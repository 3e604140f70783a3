const OPEN = 0x5b; // [
const COMMA = 0x2c; // ,
const CLOSE = 0x5d; // ]

/**
 * A JSON array from already-encoded JSON values, by copying bytes: a list page is built
 * from the cached encodings of its records, never by decoding and re-encoding them.
 */
export function joinJsonArray(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 2 + Math.max(0, parts.length - 1);
  for (const p of parts) size += p.byteLength;
  const out = new Uint8Array(size);
  out[0] = OPEN;
  let at = 1;
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) out[at++] = COMMA;
    const p = parts[i]!;
    out.set(p, at);
    at += p.byteLength;
  }
  out[at] = CLOSE;
  return out;
}

/** Where each part ends in joinJsonArray(parts): part i is bytes [ends[i-1] + 1 (or 1), ends[i]). */
export function jsonArrayEnds(parts: readonly Uint8Array[]): Uint32Array {
  const ends = new Uint32Array(parts.length);
  let at = 1;
  for (let i = 0; i < parts.length; i++) {
    at += parts[i]!.byteLength;
    ends[i] = at;
    at++; // the comma
  }
  return ends;
}

/**
 * A new array with part `at` of `bytes` (a joinJsonArray, whose part ends are `ends`) replaced
 * by `part`; `ends` is moved along in place. `bytes` itself is never written: answers already
 * handed out may still be sending it.
 */
export function replaceJsonArrayPart(bytes: Uint8Array, ends: Uint32Array, at: number, part: Uint8Array): Uint8Array<ArrayBuffer> {
  const start = at === 0 ? 1 : ends[at - 1]! + 1;
  const end = ends[at]!;
  const delta = part.byteLength - (end - start);
  const out = new Uint8Array(bytes.byteLength + delta);
  out.set(bytes.subarray(0, start));
  out.set(part, start);
  out.set(bytes.subarray(end), start + part.byteLength);
  for (let i = at; i < ends.length; i++) ends[i] = ends[i]! + delta;
  return out;
}
