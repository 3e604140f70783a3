// The soak of scripts/soak.ts in 30 seconds (issue "Long-run stability"): the same runSoak,
// on `bun src/main.ts` instead of the compiled binary, the seed's mix open-loop at L3
// (500 req/s), with the same checks: zero errors, RSS growth after warm-up < 10 %, WAL
// bounded, cache at its cap. It writes nothing under docs/ (only scripts/soak.ts does).
// The checks themselves are first shown to fail on made-up samples that break each one.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { evaluate, walBoundBytes } from "../scripts/soak/checks.ts";
import { runLoad } from "../scripts/soak/load.ts";
import { Workload } from "../scripts/soak/ops.ts";
import { runSoak } from "../scripts/soak/run.ts";
import type { Sample } from "../scripts/soak/sampler.ts";

const ROOT = join(import.meta.dir, "..");
const CAP = 2000;

/** 60 one-second samples of a healthy run; `edit` breaks one thing. */
function samples(edit: (s: Sample) => void = () => {}): Sample[] {
  return Array.from({ length: 60 }, (_, t) => {
    const s: Sample = {
      t, rssMb: 100 + (t % 7) - 3, walIdentity: 3 << 20, walClinical: 1 << 20,
      cache: { size: t < 3 ? t * 700 : CAP, capacity: CAP, bytes: 700_000, maxBytes: 16 << 20 },
      checkpoints: { done: t, failed: 0 }, sent: t * 500, errors: 0,
    };
    edit(s);
    return s;
  });
}

const failing = (input: Partial<Parameters<typeof evaluate>[0]>) =>
  evaluate({ samples: samples(), warmupS: 12, rate: 500, errors: 0, statsFailures: 0, exitCode: 0, ...input }).checks.filter((c) => !c.ok).map((c) => c.name);

describe("soak checks", () => {
  test("a healthy run passes every check", () => {
    expect(failing({})).toEqual([]);
  });

  test("each broken property fails its own check, and only that one", () => {
    expect(failing({ errors: 1 })).toEqual(["zero errors"]);
    expect(failing({ statsFailures: 1 })).toEqual(["zero errors"]);
    expect(failing({ samples: samples((s) => s.t >= 40 && (s.rssMb! *= 1.15)) })).toEqual(["RSS growth after warm-up < 10.0 %"]);
    expect(failing({ samples: samples((s) => s.t === 30 && (s.walClinical = walBoundBytes(500) + 1)) })).toEqual(["WAL bounded (each file <= 16.00 MiB)"]);
    expect(failing({ samples: samples((s) => s.t === 50 && (s.cache!.size = CAP - 1)) })).toEqual(["cache at its cap after warm-up"]);
    expect(failing({ samples: samples((s) => s.t === 50 && (s.cache!.bytes = 17 << 20)) })).toEqual(["cache never above its cap"]);
    expect(failing({ exitCode: 1 })).toEqual(["clean stop after the run (exit 0)"]);
  });

  test("a run too short for two RSS windows fails instead of passing unmeasured", () => {
    expect(failing({ samples: samples().slice(0, 14) })).toContain("RSS growth after warm-up < 10.0 %");
  });
});

describe("soak load", () => {
  test("the mix draws the seed's shares (40/30/20/10) from its seeded PRNG", () => {
    const w = new Workload("http://127.0.0.1:1", ["01890000-0000-7000-8000-000000000000"]);
    const n = { read: 0, list: 0, create: 0, update: 0 };
    for (let i = 0; i < 20_000; i++) n[w.pickOp()]++;
    expect(Object.values(n).map((c) => Math.round((c / 20_000) * 100))).toEqual([40, 30, 20, 10]);
  });

  test("only loopback is ever loaded", async () => {
    const w = new Workload("http://192.0.2.1:3000", ["x"]);
    await expect(runLoad({ base: "http://192.0.2.1:3000", workload: w, rate: 1, durationS: 1, concurrency: 1 })).rejects.toThrow(/only loads loopback/);
  });
});

// Warm-up 10 s: the heap is still growing to its working size before that; the two 10 s
// windows after it each span a few GC cycles (RSS swings by about 20 % between them).
test("30 s at 500 req/s: zero errors, RSS growth < 10 % after warm-up, WAL bounded, cache at its cap", async () => {
  const r = await runSoak({
    server: [process.execPath, join(ROOT, "src", "main.ts")],
    records: 10_000, durationS: 30, rate: 500, concurrency: 64, warmupS: 10, cacheEntries: CAP, cacheBytes: 16 << 20,
  });
  const report = r.checks.map((c) => `${c.ok ? "PASS" : "FAIL"} ${c.name}: ${c.detail}`);
  expect(report.filter((l) => l.startsWith("FAIL"))).toEqual([]);
  expect(r.checks.map((c) => c.ok)).toEqual(Array(6).fill(true));
  // every due request is accounted for, and each sent one was answered without error
  expect(r.load.sent + r.load.unsent).toBe(30 * 500);
  expect(r.load.ok).toBe(r.load.sent);
  expect(r.load.byOp.create).toBeGreaterThan(0);
  expect(r.samples.length).toBeGreaterThanOrEqual(25);
  expect(r.figures.cacheCapacity).toBe(CAP);
}, 120_000);
