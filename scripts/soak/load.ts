// Open-loop load: request k is due at start + k/rate whatever happened to the ones before, so
// a stalling server meets a growing backlog instead of a client that politely waits (no
// coordinated omission). At most `concurrency` are in flight; a due request waits for a slot,
// and what is still waiting when the time is up is counted as unsent. Loopback only.
import type { Op, Workload } from "./ops.ts";

export interface LoadOptions {
  base: string;
  workload: Workload;
  rate: number;
  durationS: number;
  concurrency: number;
  /** a request without a complete answer by then is an error ("timeout") */
  timeoutMs?: number;
}

export interface LoadCounters {
  sent: number;
  /** answered 2xx/3xx with the body read */
  ok: number;
  /** every other status and every network error or timeout */
  errors: number;
  /** "create: status 503", "read: timeout", "list: ECONNRESET", … -> count */
  errorKinds: Record<string, number>;
  /** seconds since the load started of the first errors (up to 50), to line them up with the samples */
  errorTimes: number[];
  byOp: Record<Op, number>;
  /** due but never sent because the cap was full until the end */
  unsent: number;
  /** largest delay between a request's due time and its start, ms */
  maxLagMs: number;
  /** latencies (ms) of answered requests, per operation, for p50/p99 */
  latencies: Record<Op, number[]>;
}

export function assertLoopback(base: string): void {
  const host = new URL(base).hostname;
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]") throw new Error(`the soak only loads loopback servers, not ${host}`);
}

export function emptyCounters(): LoadCounters {
  return {
    sent: 0, ok: 0, errors: 0, errorKinds: {}, errorTimes: [], unsent: 0, maxLagMs: 0,
    byOp: { read: 0, list: 0, create: 0, update: 0 },
    latencies: { read: [], list: [], create: [], update: [] },
  };
}

/** Run the load; `counters` is updated live (the sampler reads it) and resolves when all answered. */
export async function runLoad(o: LoadOptions, counters: LoadCounters = emptyCounters()): Promise<LoadCounters> {
  assertLoopback(o.base);
  const c = counters;
  const timeoutMs = o.timeoutMs ?? 10_000;
  let start = performance.now();
  const fail = (op: Op, kind: string) => {
    c.errors++;
    c.errorKinds[`${op}: ${kind}`] = (c.errorKinds[`${op}: ${kind}`] ?? 0) + 1;
    if (c.errorTimes.length < 50) c.errorTimes.push((performance.now() - start) / 1000);
  };
  let inFlight = 0;
  const pending = new Set<Promise<void>>();

  async function one(): Promise<void> {
    const req = o.workload.next();
    c.byOp[req.op]++;
    const t0 = performance.now();
    try {
      const res = await fetch(req.url, { ...req.init, signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      if (res.status < 200 || res.status >= 400) return fail(req.op, `status ${res.status}`);
      c.ok++;
      c.latencies[req.op].push(performance.now() - t0);
      if (req.op === "create") o.workload.created((JSON.parse(text) as { id: string }).id);
    } catch (err) {
      const e = err as { name?: string; code?: string };
      fail(req.op, e.name === "TimeoutError" ? "timeout" : (e.code ?? e.name ?? "network error"));
    }
  }

  start = performance.now();
  const endAt = start + o.durationS * 1000;
  const total = Math.floor(o.durationS * o.rate);
  for (let now = start; now < endAt; now = performance.now()) {
    const due = Math.min(total, Math.floor(((now - start) * o.rate) / 1000) + 1);
    while (c.sent < due && inFlight < o.concurrency) {
      c.maxLagMs = Math.max(c.maxLagMs, now - (start + (c.sent * 1000) / o.rate));
      c.sent++;
      inFlight++;
      const p: Promise<void> = one().finally(() => {
        inFlight--;
        pending.delete(p);
      });
      pending.add(p);
    }
    await Bun.sleep(2);
  }
  c.unsent = total - c.sent;
  await Promise.all(pending);
  return c;
}
