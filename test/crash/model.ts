// What the crash checker knows: every record the server acknowledged, and every request that
// got no complete answer before the kill (which may or may not have been applied).
export type ApiRecord = { id: string; updatedAt: string } & Record<string, unknown>;
export type Body = Record<string, unknown>;

export const same = (a: unknown, b: unknown) => Bun.deepEquals(a, b, true);
export const show = (v: unknown) => JSON.stringify(v);

export function pick(obj: Body, keys: readonly string[]): Body {
  return Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, obj[k]]));
}

/** One record the test has seen acknowledged (or adopted after an unanswered create landed). */
export interface Entry {
  id: string;
  /** last known state; null = acknowledged (or observed) deleted */
  rec: ApiRecord | null;
  /** a request sent for this record that got no complete answer */
  pending: { kind: "update"; patch: Body; acked: boolean } | { kind: "delete"; gdpr: boolean } | null;
}

export interface CycleStats {
  /** acknowledged (2xx) requests of the cycle: each is checked after the restart */
  creates: number;
  updates: number;
  deletes: number;
  /** requests the kill cut off, by kind */
  inflight: { create: number; update: number; delete: number };
  /** what became of the cut-off requests, learned after the restart */
  outcomes: Record<string, number>;
  /** clinical halves without identity found in the files while the server was down */
  orphansBeforeRestart: number;
}

export class Model {
  readonly entries = new Map<string, Entry>();
  /** live records with no request in flight: at most one request per record at a time */
  readonly idle: string[] = [];
  /** create bodies sent without a complete answer; mustExist when a 201 status arrived */
  pendingCreates: { body: Body; mustExist: boolean }[] = [];
  /** de-identified clinical halves expected in clinical.db: [lo, hi] */
  deidentified: [number, number] = [0, 0];
  readonly problems: string[] = [];
  stats = Model.freshStats();

  static freshStats(): CycleStats {
    return {
      creates: 0, updates: 0, deletes: 0,
      inflight: { create: 0, update: 0, delete: 0 },
      outcomes: {}, orphansBeforeRestart: 0,
    };
  }

  live(): Entry[] {
    return [...this.entries.values()].filter((e) => e.rec !== null);
  }

  add(rec: ApiRecord): void {
    this.entries.set(rec.id, { id: rec.id, rec, pending: null });
    this.idle.push(rec.id);
  }

  take(rng: () => number): Entry | null {
    if (this.idle.length === 0) return null;
    const i = Math.floor(rng() * this.idle.length);
    const id = this.idle[i]!;
    this.idle[i] = this.idle[this.idle.length - 1]!;
    this.idle.pop();
    return this.entries.get(id)!;
  }

  outcome(name: string): void {
    this.stats.outcomes[name] = (this.stats.outcomes[name] ?? 0) + 1;
  }

  /**
   * Forget deleted records once a restart showed them gone: a long run stays bounded, and a
   * deleted record that came back later would still be caught by the full list check.
   */
  forgetDeleted(): void {
    for (const [id, e] of this.entries) if (e.rec === null && e.pending === null) this.entries.delete(id);
  }
}
