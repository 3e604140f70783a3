// Live progress on stderr: one line rewritten about once a second on a TTY, a plain line every
// 5 s otherwise (so logs of long runs stay readable).
const tty = process.stderr.isTTY === true;

let current: Timer | undefined;
let lineOpen = false;

function clearLine(): void {
  if (tty && lineOpen) process.stderr.write("\r\x1b[2K");
  lineOpen = false;
}

export function log(msg: string): void {
  clearLine();
  process.stderr.write(`bench: ${msg}\n`);
}

function status(msg: string): void {
  if (tty) {
    process.stderr.write(`\r\x1b[2Kbench: ${msg}`);
    lineOpen = true;
  } else process.stderr.write(`bench: ${msg}\n`);
}

/** Show "<label>: N s left" until stop() is called. */
export function countdown(label: string, seconds: number): () => void {
  stop();
  const t0 = Date.now();
  let last = -1;
  const tick = () => {
    const elapsed = (Date.now() - t0) / 1000;
    const left = Math.max(0, Math.ceil(seconds - elapsed));
    const every = tty ? 1 : 5;
    if (last === -1 || Math.floor(elapsed / every) !== Math.floor(last / every)) {
      status(left > 0 ? `${label}: ${left} s left` : `${label}: finishing in-flight requests`);
      last = elapsed;
    }
  };
  tick();
  current = setInterval(tick, 250);
  return stop;
}

/** Show a counter (e.g. seeding), updated by the caller; throttled to about once a second. */
export function counter(label: string, total: number): { update(done: number): void; stop(): void } {
  stop();
  const t0 = Date.now();
  let lastShown = 0;
  return {
    update(done: number) {
      const now = Date.now();
      const every = tty ? 1000 : 5000;
      if (now - lastShown < every && done < total) return;
      lastShown = now;
      const rate = done / Math.max(0.001, (now - t0) / 1000);
      const left = rate > 0 ? Math.ceil((total - done) / rate) : 0;
      status(`${label}: ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")} (${Math.round(rate)}/s, ~${left} s left)`);
    },
    stop,
  };
}

export function stop(): void {
  if (current) clearInterval(current);
  current = undefined;
  clearLine();
}
