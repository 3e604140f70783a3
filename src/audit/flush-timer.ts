/**
 * When the audit log hands its events on next: at the end of the window (a timer), or on the
 * next turn of the event loop when a window is full (`soon`). At most one run is ever pending.
 * `soon` used to schedule a new setImmediate for every event appended after the window filled
 * and before the first of them ran (one per request answered in that turn, each a closure and
 * a flush() call finding nothing to hand on).
 */
export class FlushTimer {
  private timer: Timer | null = null;
  private immediate: Timer | null = null;

  constructor(private readonly run: () => void) {}

  /** A run in `ms`, unless one is pending already (the earlier one hands on these events too). */
  after(ms: number): void {
    if (ms <= 0) return this.soon();
    if (this.timer !== null || this.immediate !== null) return;
    // unref: a pending window never keeps a stopping process alive (the log's close() writes it)
    this.timer = setTimeout(this.fire, ms).unref();
  }

  /** A run on the next turn, in place of a pending timer; nothing more if one is due then already. */
  soon(): void {
    if (this.immediate !== null) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.immediate = setImmediate(this.fire) as unknown as Timer;
  }

  /** Whether a run is pending (tests). */
  get pending(): boolean {
    return this.timer !== null || this.immediate !== null;
  }

  private readonly fire = (): void => {
    this.timer = this.immediate = null;
    this.run();
  };
}
