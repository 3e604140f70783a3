import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export class KeyError extends Error {
  override name = "KeyError";
}

const KEY_BYTES = 32;

/**
 * Read the link key (64 hex chars) or, when `create` is true and the file is absent, make one.
 * The key never goes into either database: only its check value does (see keyCheckValue).
 */
export function loadLinkKey(path: string, create: boolean): Buffer {
  if (!existsSync(path)) {
    if (!create) throw new KeyError(`link key file ${path} is missing but the stores already hold data; restore the key or point --key-file at it`);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const key = randomBytes(KEY_BYTES);
    // wx: never overwrite a key another process just wrote.
    writeFileSync(path, key.toString("hex") + "\n", { mode: 0o600, flag: "wx" });
    chmodSync(path, 0o600);
    return key;
  }
  const text = readFileSync(path, "utf8").trim();
  if (!/^[0-9a-f]{64}$/i.test(text)) throw new KeyError(`link key file ${path} is not 64 hex characters`);
  return Buffer.from(text, "hex");
}

/** A one-way check value of the key, kept in identity.db to detect a wrong or replaced key. */
export function keyCheckValue(key: Buffer): string {
  return createHmac("sha256", key).update("privata link key check v1").digest("hex").slice(0, 32);
}

export function sameCheckValue(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
