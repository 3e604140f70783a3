// What the soak sends next: the seed's mix (bench/mix.ts SHARE: 40% read by id, 30% list page
// of 50, 20% create, 10% update), drawn from a seeded PRNG so a run is reproducible.
import { OPS, SHARE, type Op } from "../../bench/mix.ts";
import { createBody, rng, updateBody } from "../../bench/seed.ts";

export type { Op };

export interface NextRequest {
  op: Op;
  url: string;
  init: RequestInit;
}

const JSON_CT = { "Content-Type": "application/json" };

/** Draws requests; reads, updates and list cursors use every id seeded or created so far. */
export class Workload {
  private readonly r: () => number;
  private readonly ids: string[];
  private creates = 0;

  constructor(
    private readonly base: string,
    seededIds: readonly string[],
    seed = 0x50a4,
  ) {
    if (seededIds.length === 0) throw new Error("the soak needs seeded records to read and update");
    this.ids = [...seededIds];
    this.r = rng(seed);
  }

  get idCount(): number {
    return this.ids.length;
  }

  /** A 201's id joins the pool, so later reads and updates also reach records made under load. */
  created(id: string): void {
    this.ids.push(id);
  }

  pickOp(): Op {
    let x = this.r();
    for (const op of OPS) {
      x -= SHARE[op];
      if (x < 0) return op;
    }
    return OPS[OPS.length - 1]!;
  }

  private anyId(): string {
    return this.ids[Math.floor(this.r() * this.ids.length)]!;
  }

  next(): NextRequest {
    const op = this.pickOp();
    const users = `${this.base}/api/users`;
    switch (op) {
      case "read":
        return { op, url: `${users}/${this.anyId()}`, init: { method: "GET" } };
      case "list":
        // like the bench: about 1 in 20 is a first page, the rest start after a random id
        return { op, url: this.r() < 0.05 ? `${users}?limit=50` : `${users}?limit=50&cursor=${this.anyId()}`, init: { method: "GET" } };
      case "create":
        return { op, url: users, init: { method: "POST", headers: JSON_CT, body: JSON.stringify(createBody(this.creates++, this.r, "soak")) } };
      case "update":
        return { op, url: `${users}/${this.anyId()}`, init: { method: "PUT", headers: JSON_CT, body: JSON.stringify(updateBody(this.r)) } };
    }
  }
}
