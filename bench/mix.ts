// The seed's mix: 40% read by id, 30% list, 20% create, 10% update, as four oha processes
// running in parallel, one per operation.
import { join } from "node:path";
import { type OhaRun, runOha } from "./oha.ts";
import type { WorkFiles } from "./seed.ts";

export const OPS = ["read", "list", "create", "update"] as const;
export type Op = (typeof OPS)[number];

export const SHARE: Record<Op, number> = { read: 0.4, list: 0.3, create: 0.2, update: 0.1 };
/** closed-loop mixed run: 50 connections split in the mix's proportions */
export const CLOSED_CONNECTIONS: Record<Op, number> = { read: 20, list: 15, create: 10, update: 5 };
/** connections of each process in the rate-limited levels (plenty: at 1000 req/s a read needs ~1) */
export const LEVEL_CONNECTIONS = 8;

export const LEVELS = [
  { name: "L1", rate: 100 },
  { name: "L2", rate: 200 },
  { name: "L3", rate: 500 },
  { name: "L4", rate: 1000 },
] as const;

/** The oha run of one operation (without duration/connections/rate/db). */
export function opTarget(op: Op, base: string, files: WorkFiles): Pick<OhaRun, "target" | "urlsFile" | "method" | "bodyLines"> {
  switch (op) {
    case "read":
      return { target: files.readUrls, urlsFile: true, method: "GET" };
    case "list":
      return { target: files.listUrls, urlsFile: true, method: "GET" };
    case "create":
      return { target: `${base}/api/users`, urlsFile: false, method: "POST", bodyLines: files.createBodies };
    case "update":
      return { target: files.updateUrls, urlsFile: true, method: "PUT", bodyLines: files.updateBodies };
  }
}

export interface MixRunOptions {
  ohaPath: string;
  base: string;
  files: WorkFiles;
  durationS: number;
  /** total req/s of the level; absent = closed loop */
  rate?: number;
  /** when set, each op writes its per-request db here as <prefix>-<op>.db */
  dbPrefix?: string;
  /** extra headers on every request (the API key) */
  headers?: readonly string[];
}

export interface MixRunOutput {
  json: Record<Op, string>;
  dbPaths: Partial<Record<Op, string>>;
}

/** Four oha processes at once; resolves when all are done, rejects when one fails. */
export async function runMix(o: MixRunOptions): Promise<MixRunOutput> {
  const dbPaths: Partial<Record<Op, string>> = {};
  const runs = OPS.map((op) => {
    const run: OhaRun = {
      ...opTarget(op, o.base, o.files),
      durationS: o.durationS,
      connections: o.rate === undefined ? CLOSED_CONNECTIONS[op] : LEVEL_CONNECTIONS,
      ...(o.headers ? { headers: o.headers } : {}),
    };
    if (o.rate !== undefined) run.rate = shareRate(o.rate, op);
    if (o.dbPrefix !== undefined) run.dbPath = dbPaths[op] = `${o.dbPrefix}-${op}.db`;
    return runOha(o.ohaPath, run);
  });
  const texts = await Promise.all(runs);
  const json = Object.fromEntries(OPS.map((op, i) => [op, texts[i]!])) as Record<Op, string>;
  return { json, dbPaths };
}

/** req/s of one operation at a level's total rate (never below 1). */
export function shareRate(total: number, op: Op): number {
  return Math.max(1, Math.round(total * SHARE[op] * 1000) / 1000);
}

export function dbPrefix(tmp: string, phase: string): string {
  return join(tmp, phase);
}
