import { COMMANDS_HELP, isCommand, runCommand } from "./cli/index.ts";
import { ConfigError, HELP, parseConfig } from "./config.ts";
import { startServer } from "./server.ts";

function fail(message: string, code: number): never {
  // One line, no stack: a start-up failure must be readable and must never dump internals.
  console.error(`privata: ${message}`);
  process.exit(code);
}

const argv = process.argv.slice(2);
// `privata <command> ...` (backup, restore, ...): src/cli/. Without one, this is the server.
if (isCommand(argv)) process.exit(runCommand(argv, process.env));

let parsed;
try {
  parsed = parseConfig(argv, process.env);
} catch (err) {
  if (err instanceof ConfigError) fail(err.message, 2);
  throw err;
}
if (parsed.help) {
  process.stdout.write(HELP + COMMANDS_HELP);
  process.exit(0);
}

let running: ReturnType<typeof startServer> | undefined;
// Handlers go in before the server starts (and before the "listening" line a supervisor may
// wait for): a signal that arrives early must still get the clean shutdown, not the default kill.
// SIGHUP too: closing the terminal a server runs in must not skip the clean close.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (!running) process.exit(0);
    running.shutdown().then(
      () => process.exit(0),
      () => fail("error during shutdown", 1),
    );
  });
}

try {
  running = startServer(parsed.config);
} catch (err) {
  fail((err as Error).message.split("\n")[0] ?? "cannot start", 1);
}
const { config } = parsed;
if (running.reconciled > 0) console.error(`privata: removed ${running.reconciled} orphaned clinical half(s) left by an unclean stop`);
console.error(`privata: listening on ${running.url} (data dir ${config.dataDir}, durability ${config.durability})`);

