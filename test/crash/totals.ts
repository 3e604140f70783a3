// Running figures of a crash run: what was killed, what was checked, what the kills cut off.
import type { CycleStats } from "./model.ts";

export interface CrashTotals {
  /** SIGKILLs sent */
  kills: number;
  /** restarts after a kill whose every check passed */
  survived: number;
  /** acknowledged writes, each checked after the restart that followed */
  acked: { creates: number; updates: number; deletes: number };
  /** requests cut off by a kill; their outcomes (applied or not) are in `outcomes` */
  inflight: { create: number; update: number; delete: number };
  outcomes: Record<string, number>;
  /** orphaned clinical halves found while down and removed by the next start */
  orphansReconciled: number;
  /** records read back by id over all restarts (acknowledged, deleted and cut-off ones) */
  recordsChecked: number;
  /** most live records at one restart */
  peakLive: number;
}

export function emptyTotals(): CrashTotals {
  return {
    kills: 0, survived: 0,
    acked: { creates: 0, updates: 0, deletes: 0 },
    inflight: { create: 0, update: 0, delete: 0 },
    outcomes: {}, orphansReconciled: 0, recordsChecked: 0, peakLive: 0,
  };
}

/** Count one cycle whose restart passed every check. */
export function addCycle(t: CrashTotals, s: CycleStats, checked: number, live: number): void {
  t.survived++;
  t.acked.creates += s.creates;
  t.acked.updates += s.updates;
  t.acked.deletes += s.deletes;
  t.inflight.create += s.inflight.create;
  t.inflight.update += s.inflight.update;
  t.inflight.delete += s.inflight.delete;
  for (const [k, v] of Object.entries(s.outcomes)) t.outcomes[k] = (t.outcomes[k] ?? 0) + v;
  t.orphansReconciled += s.orphansBeforeRestart;
  t.recordsChecked += checked;
  t.peakLive = Math.max(t.peakLive, live);
}

export const ackedTotal = (t: CrashTotals) => t.acked.creates + t.acked.updates + t.acked.deletes;
export const inflightTotal = (t: CrashTotals) => t.inflight.create + t.inflight.update + t.inflight.delete;
