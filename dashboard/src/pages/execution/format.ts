/** @module dashboard/pages/execution/format — times and spans of the execution page: wall clock with milliseconds, short durations. */

/** "10:42:03.120" in local time (the date is in the title of what shows it). */
export function clock(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** "0 ms", "340 ms", "1.2 s", "2m 5s", "3h 4m". */
export function span(ms: number): string {
  const m = Math.max(0, Math.round(ms));
  if (m < 1000) return `${m} ms`;
  if (m < 60_000) return `${(m / 1000).toFixed(m < 10_000 ? 2 : 1)} s`;
  if (m < 3_600_000) return `${Math.floor(m / 60_000)}m ${Math.round((m % 60_000) / 1000)}s`;
  return `${Math.floor(m / 3_600_000)}h ${Math.round((m % 3_600_000) / 60_000)}m`;
}

/** The full local date and time, for titles. */
export function fullTime(ms: number): string {
  return `${new Date(ms).toLocaleString('en-GB', { hour12: false })}.${String(new Date(ms).getMilliseconds()).padStart(3, '0')} (${new Date(ms).toISOString()})`;
}
