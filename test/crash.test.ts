// kill -9 at random instants under concurrent write traffic (DESIGN §1 guarantee 4, §5):
// "Acknowledged means stored ... a crash at any instant loses no acknowledged write and leaves
// no half of a record visible." The compiled binary as a real process, real HTTP on loopback,
// real SIGKILL; the driver and checker are in test/crash/ (shared with scripts/crash-loop.ts,
// which runs the same cycles by the thousand).
//
// Each mode runs CYCLES rounds on one data dir and one key: start, check everything the model
// knows, drive 8 concurrent writers (create / PATCH / DELETE, some gdprCompliant), SIGKILL
// after a random delay, check the raw files while the server is down (integrity_check, no
// identity half without its clinical half), then everything again after the restart. A
// request that got no answer may or may not have been applied; the checker accepts both
// outcomes, learns which one happened, and continues from there.
// CRASH_SEED replays a run (the seed is printed when a check fails); CRASH_VERBOSE=1 prints
// per-cycle figures.
import { afterAll, describe, expect, test } from "bun:test";
import { killAll } from "./process.ts";
import { compiledBinary } from "./crash/binary.ts";
import { runCrashCycles } from "./crash/cycles.ts";
import { ackedTotal, inflightTotal } from "./crash/totals.ts";

/** per durability mode: 40 kills in all, about 25 s on the 2-core development machine */
const CYCLES = 20;
const VERBOSE = process.env.CRASH_VERBOSE === "1";

afterAll(async () => {
  await killAll();
});

describe("kill -9 under concurrent writes (dist/privata)", () => {
  for (const durability of ["normal", "full"] as const) {
    test(`durability ${durability}: ${CYCLES} SIGKILLs, no acknowledged write lost, no half record`, async () => {
      const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
      const r = await runCrashCycles({
        binary: compiledBinary(),
        durability,
        cycles: CYCLES,
        seed,
        onCycle: VERBOSE ? (c, t) => console.error(`[crash ${durability} seed ${seed}] cycle ${c}: ${JSON.stringify(t)}`) : undefined,
      });
      if (r.problems.length > 0) console.error(`crash test (${durability}) failed at cycle ${r.failedCycle}; replay with CRASH_SEED=${seed}; files kept in ${r.dataDir}`);
      expect(r.problems).toEqual([]);
      expect(r.failedCycle).toBeNull();
      expect(r.kills).toBe(CYCLES);
      expect(r.survived).toBe(CYCLES);
      // every cycle had acknowledged writes to check, and the kills really landed among
      // writes that had not been answered
      expect(ackedTotal(r)).toBeGreaterThan(CYCLES);
      expect(inflightTotal(r)).toBeGreaterThan(0);
      expect(r.recordsChecked).toBeGreaterThan(0);
    }, 60_000);
  }
});
