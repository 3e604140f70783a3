// Start a Privata server as a real child process and find its URL from the stderr
// "listening on" line. Not a test file: imported by the process-level tests.
import type { Subprocess } from "bun";

export interface Started {
  /** base URL, always http://127.0.0.1:<port> */
  url: string;
  port: number;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** everything the process wrote to stderr so far */
  stderr: () => string;
  /** send a signal (SIGTERM by default) and wait for the exit code (SIGKILL after 15 s) */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export interface StartOptions {
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  /** the stderr line that says the server is up (default: the plain-HTTP "listening on") */
  listening?: RegExp;
}

const LISTENING_HTTP = /privata: listening on http:\/\/([^:/\s]+):(\d+)/;
const live = new Set<Subprocess>();

/**
 * The environment for a child: the test runner's own, minus any PRIVATA_* variable
 * (so a developer's shell can never change what a test exercises), plus `extra`.
 * Child servers run with PRIVATA_NO_AUTH=1 (loopback only): the suites about storage, HTTP
 * and crashes play keyless clients; the suites about keys pass PRIVATA_NO_AUTH=0.
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("PRIVATA_")) env[k] = v;
  }
  return { ...env, PRIVATA_NO_AUTH: "1", ...extra };
}

/** Wait for a process to exit, SIGKILL it after `ms`. */
async function exitWithin(proc: Subprocess, ms: number): Promise<number | null> {
  let timer: Timer | undefined;
  const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ms)));
  const result = await Promise.race([proc.exited, timedOut]);
  clearTimeout(timer);
  if (result === "timeout") {
    proc.kill("SIGKILL");
    await proc.exited;
    throw new Error(`process ${proc.pid} did not exit within ${ms} ms; killed`);
  }
  return proc.exitCode;
}

export async function startProcess(cmd: string[], opts: StartOptions = {}): Promise<Started> {
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd,
    env: childEnv(opts.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));

  let captured = "";
  const decoder = new TextDecoder();
  const watch: { onChunk: (() => void) | null } = { onChunk: null };
  // Keep draining stderr for the whole life of the process, so the pipe never fills up.
  const drain = (async () => {
    for await (const chunk of proc.stderr) {
      captured += decoder.decode(chunk, { stream: true });
      watch.onChunk?.();
    }
  })();
  void (async () => {
    for await (const _ of proc.stdout) void _;
  })();

  const timeoutMs = opts.timeoutMs ?? 15_000;
  const LISTENING = opts.listening ?? LISTENING_HTTP;
  const match = await new Promise<RegExpMatchArray | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    const check = () => {
      const m = LISTENING.exec(captured);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    watch.onChunk = check;
    check();
    // Exited before listening: give the last stderr bytes a moment, then report.
    void proc.exited.then(() => drain.then(() => {
      check();
      clearTimeout(timer);
      resolve(LISTENING.exec(captured));
    }));
  });
  watch.onChunk = null;

  if (!match) {
    proc.kill("SIGKILL");
    await proc.exited;
    await drain.catch(() => {});
    throw new Error(`server did not start (exit ${proc.exitCode}): ${cmd.join(" ")}\n--- stderr ---\n${captured}`);
  }
  const [, host, portText] = match;
  if (host !== "127.0.0.1") {
    proc.kill("SIGKILL");
    throw new Error(`server listens on ${host}, tests only use loopback 127.0.0.1`);
  }
  const port = Number(portText);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    stderr: () => captured,
    stop: async (signal: NodeJS.Signals = "SIGTERM") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const code = await exitWithin(proc, 15_000);
      await drain.catch(() => {});
      return code;
    },
  };
}

/** SIGKILL every child still running; for afterAll, so a failed test leaves nothing behind. */
export async function killAll(): Promise<void> {
  const procs = [...live];
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
}

/** Run a command to completion (for --help and bad-flag checks). */
export function runSync(cmd: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) {
  const r = Bun.spawnSync(cmd, { cwd: opts.cwd, env: childEnv(opts.env), stdout: "pipe", stderr: "pipe", timeout: 15_000 });
  return { exitCode: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}
