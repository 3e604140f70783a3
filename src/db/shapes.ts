import type { Database, Statement } from "bun:sqlite";

/** Every subset of the keys, each sorted: the possible filter shapes of a list query. */
export function subsets(keys: readonly string[]): string[][] {
  const sorted = [...keys].sort();
  const out: string[][] = [[]];
  for (const k of sorted) for (const s of [...out]) out.push([...s, k]);
  return out.map((s) => s.sort());
}

/**
 * One prepared statement per filter shape, all prepared at startup (2^indexed fields of a
 * model, a handful), so no request ever compiles SQL.
 */
export class ShapedStatements<R> {
  private readonly byShape = new Map<string, Statement<R>>();

  constructor(db: Database, keys: readonly string[], variants: readonly string[], sql: (shape: string[], variant: string) => string) {
    for (const shape of subsets(keys)) {
      for (const v of variants) this.byShape.set(`${shape.join(",")}|${v}`, db.prepare<R, []>(sql(shape, v)) as Statement<R>);
    }
  }

  get(filterKeys: readonly string[], variant = ""): Statement<R> {
    const stmt = this.byShape.get(`${[...filterKeys].sort().join(",")}|${variant}`);
    if (!stmt) throw new Error(`no statement for filter shape ${filterKeys.join(",")}`);
    return stmt;
  }
}

/** `"a" = $a AND "b" = $b` for a filter shape. */
export function whereEquals(shape: readonly string[]): string[] {
  return shape.map((k) => `"${k}" = $${k}`);
}
