/**
 * @module dashboard/widgets/scope — what a page keeps while it is shown: whether it still is, its timers and
 * subscriptions (cleared at once when it goes), and the way its API calls report errors.
 */
import type { App } from '../app.ts';
import { errorBox } from '../dom.ts';

export class PageScope {
  private gone = false;
  private readonly cleanups: (() => void)[] = [];

  constructor(private readonly app: App) {}

  /** False once the page was left: late answers draw nothing. */
  get alive(): boolean {
    return !this.gone;
  }

  /** Runs `cleanup` when the page goes. */
  add(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  /** Calls `fn` every `ms` while the page is shown (after the first `ms`). */
  every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    this.add(() => clearInterval(timer));
  }

  /**
   * Runs an API call: its result, or undefined after an error, which is shown in `message` (a 401 signs out).
   * A success clears `message`. Nothing is shown once the page is gone.
   */
  async run<T>(message: HTMLElement, call: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await call();
      if (this.alive) message.replaceChildren();
      return this.alive ? result : undefined;
    } catch (err) {
      this.app.failed(err);
      if (this.alive) message.replaceChildren(errorBox(err));
      return undefined;
    }
  }

  dispose = (): void => {
    this.gone = true;
    for (const c of this.cleanups.splice(0)) c();
  };
}
