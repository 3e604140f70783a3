import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { createDurably } from "./durable-file.ts";

export class KeyError extends Error {
  override name = "KeyError";
}

const KEY_BYTES = 32;

/**
 * Read a 32-byte key kept in a file (64 hex chars) or, when `create` is true and the file is
 * absent, make one (mode 0600). Used for the link key and the audit key: neither ever goes
 * into a database, only a check value of it does (see keyCheckValue).
 */
export function loadKeyFile(path: string, create: boolean, what: string, flag: string): Buffer {
  if (!existsSync(path)) {
    if (!create) throw new KeyError(`${what} file ${path} is missing but the stores already hold data; restore the key or point ${flag} at it`);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const key = randomBytes(KEY_BYTES);
    createDurably(path, key.toString("hex") + "\n");
    return key;
  }
  const text = readFileSync(path, "utf8").trim();
  if (!/^[0-9a-f]{64}$/i.test(text)) throw new KeyError(`${what} file ${path} is not 64 hex characters`);
  return Buffer.from(text, "hex");
}

export function loadLinkKey(path: string, create: boolean): Buffer {
  return loadKeyFile(path, create, "link key", "--key-file");
}

/** A one-way check value of the key, kept in identity.db to detect a wrong or replaced key. */
export function keyCheckValue(key: Buffer, label = "privata link key check v1"): string {
  return createHmac("sha256", key).update(label).digest("hex").slice(0, 32);
}

export function sameCheckValue(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
