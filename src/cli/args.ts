import { parseArgs } from "node:util";

/** Bad command-line input: printed as one line, exit code 2 (like a bad server flag). */
export class UsageError extends Error {
  override name = "UsageError";
}

export type Env = Record<string, string | undefined>;

export interface OptionSpec {
  type: "string" | "boolean";
  /** environment variable read when the flag is absent (an empty value counts as unset) */
  env?: string;
  /** placeholder shown in the usage text, e.g. DIR */
  arg?: string;
  help: string;
}

export type Values<K extends string> = Partial<Record<K, string | true>>;

/**
 * Parse a command's flags strictly (unknown flags and stray arguments are errors), with the
 * same rules as the server's: flags win over env, an empty flag value is refused.
 * Returns null for --help.
 */
export function parseOptions<K extends string>(spec: Record<K, OptionSpec>, argv: string[], env: Env): Values<K> | null {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const [flag, s] of Object.entries<OptionSpec>(spec)) options[flag] = { type: s.type };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError((err as Error).message.split("\n")[0] ?? "bad arguments");
  }
  if (values.help) return null;
  const out: Values<K> = {};
  for (const [flag, s] of Object.entries<OptionSpec>(spec)) {
    const v = values[flag];
    if (v === "") throw new UsageError(`--${flag} needs a value`);
    const fromEnv = s.env && env[s.env] !== "" ? env[s.env] : undefined;
    if (v === true || (typeof v === "string" && s.type === "string")) out[flag as K] = v;
    else if (fromEnv !== undefined && s.type === "string") out[flag as K] = fromEnv;
  }
  return out;
}

/** The usage text of one command, from the same table the parser reads. */
export function usage(synopsis: string, about: string, spec: Record<string, OptionSpec>): string {
  const rows = Object.entries(spec).map(([flag, s]) => {
    const left = `--${flag}${s.arg ? ` ${s.arg}` : ""}`;
    return `  ${left.padEnd(24)} ${(s.env ?? "").padEnd(24)} ${s.help}`;
  });
  return `Usage: ${synopsis}\n\n${about}\n\nOptions (flags win over environment variables):\n${rows.join("\n")}\n  ${"--help".padEnd(24)} ${"".padEnd(24)} show this text\n`;
}

/** One subcommand of the binary (`privata <name> ...`); see src/cli/index.ts. */
export interface Command {
  name: string;
  /** one line for `privata --help` */
  summary: string;
  /** returns the exit code; throws UsageError for bad input (exit 2), anything else exits 1 */
  run(argv: string[], env: Env): number;
}
