import { describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { ConfigError, parseConfig } from "./config.ts";

function config(argv: string[], env: Record<string, string> = {}) {
  const r = parseConfig(argv, env);
  if (r.help) throw new Error("unexpected help");
  return r.config;
}

describe("parseConfig", () => {
  test("defaults", () => {
    const c = config([]);
    expect(c).toMatchObject({ host: "127.0.0.1", port: 3000, cacheEntries: 100_000, durability: "normal", allowReset: false, bodyLimit: 65536 });
    expect(c.dataDir).toBe(resolve("./data"));
    expect(c.keyFile).toBe(join(resolve("./data"), "link.key"));
  });

  test("env vars configure, flags win over env", () => {
    const env = { PRIVATA_PORT: "4000", PRIVATA_DATA_DIR: "/tmp/a", PRIVATA_DURABILITY: "full", PRIVATA_ALLOW_RESET: "true", PRIVATA_LINK_KEY_FILE: "/tmp/k.key" };
    expect(config([], env)).toMatchObject({ port: 4000, dataDir: "/tmp/a", durability: "full", allowReset: true, keyFile: "/tmp/k.key" });
    expect(config(["--port", "5000", "--data-dir", "/tmp/b", "--durability", "normal"], env)).toMatchObject({ port: 5000, dataDir: "/tmp/b", durability: "normal" });
  });

  test("flags", () => {
    const c = config(["--host", "::1", "--key-file", "/k", "--cache-entries", "0", "--allow-reset", "--body-limit", "2048"]);
    expect(c).toMatchObject({ host: "::1", keyFile: "/k", cacheEntries: 0, allowReset: true, bodyLimit: 2048 });
  });

  test("--help", () => {
    expect(parseConfig(["--help"], {})).toEqual({ help: true });
  });

  test.each([
    [["--port", "abc"], "--port"],
    [["--port", "70000"], "--port"],
    [["--durability", "fast"], "--durability"],
    [["--cache-entries", "-1"], "--cache-entries"],
    [["--bogus"], "bogus"],
    [["positional"], "positional"],
  ])("bad value %p is one clear ConfigError", (argv, mention) => {
    expect(() => parseConfig(argv, {})).toThrow(ConfigError);
    try {
      parseConfig(argv, {});
    } catch (err) {
      expect((err as Error).message).toContain(mention);
      expect((err as Error).message).not.toContain("\n");
    }
  });

  test.each([[["--port", " "]], [["--port="]], [["--port", "0x50"]], [["--cache-entries", "\t"]], [["--port", "80.5"]]])(
    "blank or non-decimal %p is refused, never a silent default",
    (argv) => {
      expect(() => parseConfig(argv, { PRIVATA_PORT: "4000" })).toThrow(ConfigError);
    },
  );

  test("a bad env value names the env var, a bad flag names the flag", () => {
    expect(() => parseConfig([], { PRIVATA_PORT: "x" })).toThrow(/PRIVATA_PORT/);
    expect(() => parseConfig(["--port", "x"], { PRIVATA_PORT: "1" })).toThrow(/--port/);
  });

  test.each(["a b", "::1x", "http://x", "-x", ""])("host %p is refused", (host) => {
    expect(() => parseConfig(["--host", host], {})).toThrow(ConfigError);
  });

  test.each(["127.0.0.1", "::1", "localhost", "db-1.internal", "0.0.0.0", "fe80::1"])("host %p is accepted", (host) => {
    // (plain HTTP off loopback only when asked for, see below)
    expect(config(["--host", host, "--insecure-http"]).host).toBe(host);
  });

  test("plain HTTP off loopback is refused unless --insecure-http or TLS", () => {
    expect(() => parseConfig(["--host", "0.0.0.0"], {})).toThrow(/refusing plain HTTP/);
    expect(config(["--host", "0.0.0.0", "--tls-cert", "/c.pem", "--tls-key", "/k.pem"])).toMatchObject({ tlsCert: "/c.pem", tlsKey: "/k.pem" });
    expect(config(["--host", "10.0.0.5"], { PRIVATA_INSECURE_HTTP: "1" }).insecureHttp).toBe(true);
    expect(() => parseConfig(["--tls-cert", "/c.pem"], {})).toThrow(/go together/);
  });

  test("--no-auth only on a loopback address", () => {
    expect(config(["--no-auth"]).noAuth).toBe(true);
    expect(config(["--no-auth", "--host", "::1"]).noAuth).toBe(true);
    expect(() => parseConfig(["--no-auth", "--host", "0.0.0.0", "--insecure-http"], {})).toThrow(/loopback/);
    expect(() => parseConfig(["--host", "192.168.1.2", "--insecure-http"], { PRIVATA_NO_AUTH: "1" })).toThrow(/PRIVATA_NO_AUTH/);
  });

  test("PRIVATA_ADMIN_KEY is read from the environment only", () => {
    expect(config([], { PRIVATA_ADMIN_KEY: "k".repeat(40) }).adminKey).toBe("k".repeat(40));
    expect(() => parseConfig(["--admin-key", "x"], {})).toThrow(ConfigError);
    expect(() => parseConfig([], { PRIVATA_ADMIN_KEY: "hunter2" })).toThrow(/PRIVATA_ADMIN_KEY/); // could never authenticate
  });

    test("an empty env var counts as unset", () => {
    expect(config([], { PRIVATA_PORT: "" }).port).toBe(3000);
  });

  test("bad env values are refused too", () => {
    expect(() => parseConfig([], { PRIVATA_PORT: "x" })).toThrow(ConfigError);
    expect(() => parseConfig([], { PRIVATA_ALLOW_RESET: "maybe" })).toThrow(ConfigError);
  });
});
