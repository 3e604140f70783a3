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
