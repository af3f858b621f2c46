import { afterAll, describe, expect, it } from 'vitest';
import { nextRunAfter } from '../../src/scheduler/next-run.ts';

// Node re-reads TZ when it is assigned: the process's own zone must not move a schedule without `timezone`.
const savedTz = process.env['TZ'];
process.env['TZ'] = 'Asia/Tokyo';
afterAll(() => {
  if (savedTz === undefined) delete process.env['TZ'];
  else process.env['TZ'] = savedTz;
});

describe('nextRunAfter (cron)', () => {
  const after = Date.parse('2026-12-06T00:30:00Z');
  it('reads a cron without a time zone in UTC, whatever the server process runs in', () => {
    expect(new Date(after).getTimezoneOffset()).toBe(-540); // the process really is on Tokyo time
    const next = nextRunAfter({ cron: '0 9 * * *', timezone: null, everyMs: null, at: null, anchor: 0 }, after);
    expect(new Date(next as number).toISOString()).toBe('2026-12-06T09:00:00.000Z');
  });
  it('reads it in the given time zone when there is one', () => {
    const next = nextRunAfter({ cron: '0 9 * * *', timezone: 'America/New_York', everyMs: null, at: null, anchor: 0 }, after);
    expect(new Date(next as number).toISOString()).toBe('2026-12-06T14:00:00.000Z');
  });
});
