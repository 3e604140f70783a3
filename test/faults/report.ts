// What each fault test observed, for the "faults" section of docs/RELIABILITY.md: written to
// the JSON file named by FAULTS_REPORT (scripts/faults-report.ts sets it), else kept nowhere.
// The tests assert; this only records what they saw, so the report is the tests' own figures.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export interface FaultRecord {
  /** e.g. "disk full (durability normal)" */
  fault: string;
  when: "runtime" | "startup";
  /** the outcome in a few words, for the summary table */
  result: string;
  /** how the fault was produced on this machine */
  produced: string;
  /** what the server did, one line per observation */
  observed: string[];
}

const recorded: FaultRecord[] = [];

export function recordFault(r: FaultRecord): void {
  recorded.push(r);
}

/** Append this file's records to FAULTS_REPORT (afterAll; several test files share it). */
export function flushFaults(): void {
  const file = process.env.FAULTS_REPORT;
  if (!file || recorded.length === 0) return;
  const all = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as FaultRecord[]) : [];
  writeFileSync(file, JSON.stringify([...all, ...recorded.splice(0)], null, 2));
}

export const ms = (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;
