import type { ApiRecord, Fields } from "../models/schema.ts";
import type { GroupCommit } from "./group-commit.ts";
import type { RecordStore } from "./records.ts";

/**
 * The writes of one model that are group-committed: what a route asks for, as data, not a job
 * over the store. Each settles only after both stores committed (group-commit.ts). Named
 * operations rather than closures are also what a writer on another thread would need.
 */
export interface RecordWrites {
  create(input: Fields): Promise<ApiRecord>;
  /** null: no such record, or a restricted one and `allowRestricted` is false (see RecordStore.update) */
  update(id: string, patch: Fields, allowRestricted: boolean): Promise<{ record: ApiRecord; restricted: boolean } | null>;
}

/** The writes of `records`, each in the next batch of `commits` (looked up per call: tests wrap commits.run). */
export function groupCommitted(records: RecordStore, commits: GroupCommit): RecordWrites {
  return {
    create: (input) => commits.run((ctx) => records.create(input, ctx)),
    update: (id, patch, allowRestricted) => commits.run((ctx) => records.update(id, patch, ctx, allowRestricted)),
  };
}
