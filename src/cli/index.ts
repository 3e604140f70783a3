import { UsageError, type Command, type Env } from "./args.ts";
import { backupCommand } from "./backup.ts";
import { restoreCommand } from "./restore.ts";
import { keysCommand } from "./keys.ts";
import { auditCommand } from "./audit.ts";

/**
 * The binary's subcommands (`privata <command> [options]`); without one it is the server.
 * Adding a command is one file exporting a Command and one entry here.
 */
export const COMMANDS: readonly Command[] = [backupCommand, restoreCommand, keysCommand, auditCommand];

/** Appended to `privata --help`. */
export const COMMANDS_HELP = `
Commands (privata <command> --help shows a command's options):
${COMMANDS.map((c) => `  ${c.name.padEnd(22)} ${c.summary}`).join("\n")}
`;

/** A first argument that is not a flag names a command (server flags all start with "--"). */
export function isCommand(argv: readonly string[]): boolean {
  const first = argv[0];
  return first !== undefined && !first.startsWith("-");
}

/**
 * Run the command `argv[0]` and return the process exit code: 0 done, 2 bad input (one line,
 * like a bad server flag), 1 the command could not do its work (one line, never a stack).
 */
export function runCommand(argv: readonly string[], env: Env): number {
  const [name = "", ...rest] = argv;
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`privata: unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(", ")}; see privata --help)`);
    return 2;
  }
  try {
    return command.run(rest, env);
  } catch (err) {
    const message = (err as Error)?.message?.split("\n")[0] || String(err);
    console.error(`privata ${name}: ${message}`);
    return err instanceof UsageError ? 2 : 1;
  }
}
