/** @module tests/support/manual-clock — a Clock whose time moves only when a test advances it. */
import type { Clock } from '../../src/common/clock.ts';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** Manual time: `advance(ms)` fires due timers in time order, awaiting `settle` after each. */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(start: number | string) {
    this.time = typeof start === 'string' ? Date.parse(start) : start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const t = { id: ++this.seq, at: this.time + Math.max(0, ms), fn };
    this.timers.push(t);
    return t.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Timers not fired yet. */
  get pending(): number {
    return this.timers.length;
  }

  /**
   * Moves time forward by `ms`. Each due timer fires at its own time (earliest first, then in
   * arming order); `settle` is awaited after each so work it started (and timers it re-arms) lands first.
   */
  async advance(ms: number, settle: () => Promise<void> = async () => undefined): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.fn();
      await settle();
    }
    this.time = target;
  }

  /** Moves time to an instant (never backwards). */
  advanceTo(at: string | number, settle?: () => Promise<void>): Promise<void> {
    const ms = (typeof at === 'string' ? Date.parse(at) : at) - this.time;
    return this.advance(Math.max(0, ms), settle);
  }
}
