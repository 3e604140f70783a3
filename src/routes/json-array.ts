const OPEN = 0x5b; // [
const COMMA = 0x2c; // ,
const CLOSE = 0x5d; // ]

/**
 * A JSON array built from already-encoded JSON values by copying bytes: a list page is made
 * of the cached encodings of its records, never decoded and encoded again. Each value is
 * copied when pushed, so the page never depends on what the cache does next (a page's own
 * misses write to it).
 */
export class JsonArrayBuilder {
  private buf: Uint8Array<ArrayBuffer>;
  private at = 1;
  private count = 0;

  constructor(sizeHint = 16 * 1024) {
    this.buf = new Uint8Array(Math.max(2, sizeHint));
    this.buf[0] = OPEN;
  }

  push(value: Uint8Array): void {
    this.reserve(value.byteLength + 2);
    if (this.count++ > 0) this.buf[this.at++] = COMMA;
    this.buf.set(value, this.at);
    this.at += value.byteLength;
  }

  /** The array's bytes (a view of the builder's buffer; the builder is done). */
  finish(): Uint8Array<ArrayBuffer> {
    this.reserve(1);
    this.buf[this.at++] = CLOSE;
    return this.buf.subarray(0, this.at);
  }

  private reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
  }
}

/** Join encoded values at once (each is copied). */
export function joinJsonArray(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const b = new JsonArrayBuilder(parts.reduce((n, p) => n + p.byteLength + 1, 2));
  for (const p of parts) b.push(p);
  return b.finish();
}
