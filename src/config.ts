import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { z } from "zod";

/** Raised for a bad flag or env value; main prints its message as one line and exits 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const boolText = z
  .union([z.boolean(), z.enum(["1", "0", "true", "false", "yes", "no"])])
  .transform((v) => v === true || v === "1" || v === "true" || v === "yes");

// Decimal digits only: " " or "0x50" must not quietly become a port.
const intText = (min: number, max: number) =>
  z.string().regex(/^\d+$/, "expected a whole number").transform(Number).pipe(z.number().int().min(min).max(max));

export const configSchema = z.strictObject({
  // a host name, an IPv4 or an IPv6 address (no spaces, no scheme, no port)
  host: z.string().regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/, "expected a host name or IP address").default("127.0.0.1"),
  port: intText(0, 65535).default(3000),
  dataDir: z.string().min(1).default("./data"),
  keyFile: z.string().min(1).optional(),
  cacheEntries: intText(0, 10_000_000).default(100_000),
  cacheBytes: intText(0, 64 * 1024 ** 3).default(96 * 1024 * 1024),
  durability: z.enum(["normal", "full"]).default("normal"),
  allowReset: boolText.default(false),
  bodyLimit: intText(1024, 16 * 1024 * 1024).default(64 * 1024),
  checkpointSeconds: intText(1, 86_400).default(1),
  auditKeyFile: z.string().min(1).optional(),
  noAuth: boolText.default(false),
  rateLimit: intText(0, 1_000_000).default(200),
  authFailRate: intText(0, 1_000_000).default(1),
  tlsCert: z.string().min(1).optional(),
  tlsKey: z.string().min(1).optional(),
  insecureHttp: boolText.default(false),
});

export type Config = Omit<z.output<typeof configSchema>, "keyFile" | "auditKeyFile"> & {
  keyFile: string;
  auditKeyFile: string;
  /** PRIVATA_ADMIN_KEY: the first admin key, when the operator supplies it (env only: never a flag, which `ps` would show) */
  adminKey?: string;
};

/** flag name -> [config key, env var]; one table so --help, flags and env never drift apart. */
const OPTIONS = {
  host: ["host", "PRIVATA_HOST", "address to listen on (loopback by default)"],
  port: ["port", "PRIVATA_PORT", "TCP port, 0 picks a free one"],
  "data-dir": ["dataDir", "PRIVATA_DATA_DIR", "directory holding identity.db and clinical.db"],
  "key-file": ["keyFile", "PRIVATA_LINK_KEY_FILE", "link key file (default <data-dir>/link.key)"],
  "cache-entries": ["cacheEntries", "PRIVATA_CACHE_ENTRIES", "max records in the response cache (0 disables)"],
  "cache-bytes": ["cacheBytes", "PRIVATA_CACHE_BYTES", "max bytes of the response cache: records and, in a third of it, whole list pages (default 96 MiB)"],
  durability: ["durability", "PRIVATA_DURABILITY", "normal | full (synchronous=NORMAL or FULL)"],
  "allow-reset": ["allowReset", "PRIVATA_ALLOW_RESET", "enable POST /reset (empties everything)"],
  "body-limit": ["bodyLimit", "PRIVATA_BODY_LIMIT", "max request body in bytes (default 65536)"],
  "checkpoint-seconds": ["checkpointSeconds", "PRIVATA_CHECKPOINT_SECONDS", "WAL checkpoint interval (default 1)"],
  "audit-key-file": ["auditKeyFile", "PRIVATA_AUDIT_KEY_FILE", "audit chain key file (default <data-dir>/audit.key)"],
  "no-auth": ["noAuth", "PRIVATA_NO_AUTH", "no API keys: everyone is admin (loopback only, for local load tests)"],
  "rate-limit": ["rateLimit", "PRIVATA_RATE_LIMIT", "requests/s per API key, bursts of twice that (default 200, 0 = off)"],
  "auth-fail-rate": ["authFailRate", "PRIVATA_AUTH_FAIL_RATE", "failed authentications/s per client address, bursts of 20 times that; past it 429, not audited one by one (default 1, 0 = off)"],
  "tls-cert": ["tlsCert", "PRIVATA_TLS_CERT", "PEM certificate: serve HTTPS (with --tls-key)"],
  "tls-key": ["tlsKey", "PRIVATA_TLS_KEY", "PEM private key of --tls-cert"],
  "insecure-http": ["insecureHttp", "PRIVATA_INSECURE_HTTP", "allow plain HTTP on a non-loopback address"],
} as const;

export const HELP = `privata — a records server for health data

Usage: privata [options]

Options (flags win over environment variables):
${Object.entries(OPTIONS)
  .map(([flag, [, env, text]]) => `  --${flag.padEnd(20)} ${env.padEnd(28)} ${text}`)
  .join("\n")}
  --${"help".padEnd(20)} ${"".padEnd(28)} show this text
`;

const BOOLEAN_FLAGS = new Set(["allow-reset", "no-auth", "insecure-http"]);

/** --no-auth only where nobody but this machine can connect. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127(?:\.\d{1,3}){3}$/.test(host);
}

export type ParsedArgs = { help: true } | { help: false; config: Config };

export function parseConfig(argv: string[], env: Record<string, string | undefined>): ParsedArgs {
  const options = Object.fromEntries([
    ...Object.keys(OPTIONS).map((flag) => [flag, { type: BOOLEAN_FLAGS.has(flag) ? "boolean" : "string" }]),
    ["help", { type: "boolean" }],
  ]) as Record<string, { type: "string" | "boolean" }>;
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigError((err as Error).message.split("\n")[0] ?? "bad arguments");
  }
  if (values.help) return { help: true };

  const raw: Record<string, unknown> = {};
  const source: Record<string, string> = {};
  for (const [flag, [key, envName]] of Object.entries(OPTIONS)) {
    // An empty env var counts as unset; an empty flag (--port=) is a mistake and is refused.
    const fromEnv = env[envName] === "" ? undefined : env[envName];
    const value = values[flag] ?? fromEnv;
    if (value !== undefined) raw[key] = value;
    source[key] = values[flag] !== undefined ? `--${flag}` : envName;
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? "");
    throw new ConfigError(`invalid ${source[key] ?? key}: ${issue?.message ?? "bad value"}`);
  }
  if (parsed.data.noAuth && !isLoopback(parsed.data.host)) {
    throw new ConfigError(`invalid ${source.noAuth}: authentication can be switched off only on a loopback address, not ${parsed.data.host}`);
  }
  const { tlsCert, tlsKey } = parsed.data;
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new ConfigError("--tls-cert and --tls-key go together");
  // Keys and health data in clear text over a network: only when the operator says so.
  if (tlsCert === undefined && !isLoopback(parsed.data.host) && !parsed.data.insecureHttp) {
    throw new ConfigError(`refusing plain HTTP on ${parsed.data.host}: give --tls-cert and --tls-key, or --insecure-http (e.g. behind a TLS proxy)`);
  }
  const dataDir = resolve(parsed.data.dataDir);
  const keyFile = resolve(parsed.data.keyFile ?? join(dataDir, "link.key"));
  const auditKeyFile = resolve(parsed.data.auditKeyFile ?? join(dataDir, "audit.key"));
  const adminKey = env.PRIVATA_ADMIN_KEY === "" ? undefined : env.PRIVATA_ADMIN_KEY;
  // the shape keys must have to be accepted (auth/keys.ts): never store one nobody can use
  if (adminKey !== undefined && !/^[!-~]{32,256}$/.test(adminKey)) {
    throw new ConfigError("invalid PRIVATA_ADMIN_KEY: 32 to 256 printable characters, no spaces");
  }
  return { help: false, config: { ...parsed.data, dataDir, keyFile, auditKeyFile, ...(adminKey ? { adminKey } : {}) } };
}
