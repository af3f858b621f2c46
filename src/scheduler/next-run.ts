/** @module scheduler/next-run — when a schedule fires next (croner for cron), and validation of its trigger. */
import { Cron } from 'croner';
import type { Issue } from '../common/errors.ts';

/** The trigger of a schedule: exactly one of `cron`, `everyMs`, `at` is non-null. */
export interface Trigger {
  readonly cron: string | null;
  readonly timezone: string | null;
  readonly everyMs: number | null;
  readonly at: number | null;
  /** Interval schedules fire on the grid `anchor + k·everyMs`. */
  readonly anchor: number;
}

/** The first run strictly after `after` (epoch ms), or null when there is none (a past one-time run). */
export function nextRunAfter(t: Trigger, after: number): number | null {
  if (t.cron !== null) {
    const next = new Cron(t.cron, { timezone: t.timezone ?? 'UTC' }).nextRun(new Date(after));
    return next === null ? null : next.getTime();
  }
  if (t.everyMs !== null) {
    const k = Math.floor((after - t.anchor) / t.everyMs) + 1;
    return t.anchor + Math.max(1, k) * t.everyMs;
  }
  if (t.at !== null) return t.at > after ? t.at : null;
  return null;
}

/** True when `tz` is an IANA time zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Issues of a cron expression and time zone (paths `/cron`, `/timezone`); none when both are fine. */
export function cronIssues(cron: string | null, timezone: string | null): Issue[] {
  const issues: Issue[] = [];
  if (timezone !== null && !isTimeZone(timezone)) issues.push({ path: '/timezone', message: `is not a known IANA time zone: ${JSON.stringify(timezone)}` });
  if (cron !== null) {
    try {
      const job = new Cron(cron, { timezone: timezone === null || issues.length > 0 ? 'UTC' : timezone });
      if (job.nextRun() === null) issues.push({ path: '/cron', message: 'never fires' });
    } catch (err) {
      issues.push({ path: '/cron', message: `is not a valid cron expression: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  return issues;
}
