/** Sorts after every id (and every other string a cursor could be): "no upper end". */
export const TOP = "\uffff";

export interface Range {
  /** exclusive: the page's cursor, "" for a first page */
  lo: string;
  /** inclusive: the page's last id, or TOP for a last page (anything after lo lands in it) */
  hi: string;
}

/**
 * Ranges (lo, hi] of strings, answering "which ranges hold this id" without visiting all of
 * them: a write asks it once per record, and a scan of every cached page per write would cost
 * more than the page cache saves. Kept sorted by lo, with `reach[j]` the largest hi among the
 * first j+1: walking down from the last lo below the id, no earlier range can reach the id
 * once reach falls below it. Exact for any set of ranges (overlapping, nested, out of order).
 * Adding and removing are O(n) (array splices); they happen on page-cache misses only.
 */
export class RangeIndex<T extends Range> {
  private items: T[] = [];
  private reach: string[] = [];

  get size(): number {
    return this.items.length;
  }

  add(item: T): void {
    const at = this.firstAtOrAbove(item.lo);
    this.items.splice(at, 0, item);
    this.reach.splice(at, 0, "");
    this.refresh(at);
  }

  remove(item: T): void {
    for (let j = this.firstAtOrAbove(item.lo); j < this.items.length && this.items[j]!.lo === item.lo; j++) {
      if (this.items[j] !== item) continue;
      this.items.splice(j, 1);
      this.reach.splice(j, 1);
      this.refresh(j);
      return;
    }
  }

  /** The ranges with lo < id ≤ hi. */
  holding(id: string): T[] {
    const out: T[] = [];
    for (let j = this.firstAtOrAbove(id) - 1; j >= 0 && this.reach[j]! >= id; j--) {
      const item = this.items[j]!;
      if (item.hi >= id) out.push(item);
    }
    return out;
  }

  clear(): void {
    this.items = [];
    this.reach = [];
  }

  /** the first index whose lo is ≥ s (binary search) */
  private firstAtOrAbove(s: string): number {
    let a = 0;
    let b = this.items.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (this.items[m]!.lo < s) a = m + 1;
      else b = m;
    }
    return a;
  }

  private refresh(from: number): void {
    let r = from > 0 ? this.reach[from - 1]! : "";
    for (let j = from; j < this.items.length; j++) {
      const hi = this.items[j]!.hi;
      if (hi > r) r = hi;
      this.reach[j] = r;
    }
  }
}
