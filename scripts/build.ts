// Build dist/privata: one self-contained executable. .env and bunfig.toml autoload are
// switched off so the working directory can never reconfigure a health-data server.
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const outfile = join(root, "dist", "privata");
mkdirSync(join(root, "dist"), { recursive: true });
const cmd = [
  process.execPath, "build", "--compile", "--minify", "--sourcemap=none",
  "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
  // the two workers are entrypoints too: a Worker must be embedded to be found
  join(root, "src", "main.ts"), join(root, "src", "db", "checkpoint-worker.ts"), join(root, "src", "audit", "writer-thread.ts"), "--outfile", outfile,
];
const proc = Bun.spawnSync(cmd, { cwd: root, stdout: "inherit", stderr: "inherit" });
if (proc.exitCode !== 0) process.exit(proc.exitCode ?? 1);
console.error(`built ${outfile}`);
