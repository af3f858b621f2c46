/** @module telemetry/window — `?from&to` of the telemetry routes → a half-open window `[from, to)` in epoch ms. */
import { ValidationError, type Issue } from '../common/errors.ts';
import type { TimeWindow } from '../store/types.ts';

/** Window length when `from` is not given. @default 24 h */
export const DEFAULT_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * Resolves the window: `to` defaults to `now`, `from` to `to` − 24 h. Both are RFC 3339 strings
 * already checked by the route's query schema.
 * @throws ValidationError (422) at `/query/from` unless from < to.
 * @example windowOf({ from: '2026-11-24T00:00:00Z' }, Date.now())
 */
export function windowOf(query: { readonly from?: unknown; readonly to?: unknown }, now: number): TimeWindow {
  const to = typeof query.to === 'string' ? Date.parse(query.to) : now;
  const from = typeof query.from === 'string' ? Date.parse(query.from) : to - DEFAULT_WINDOW_MS;
  const issues: Issue[] = [];
  if (!Number.isFinite(from)) issues.push({ path: '/query/from', message: 'must be an RFC 3339 date-time' });
  if (!Number.isFinite(to)) issues.push({ path: '/query/to', message: 'must be an RFC 3339 date-time' });
  if (issues.length === 0 && from >= to) {
    issues.push({ path: '/query/from', message: `must be earlier than to (${new Date(to).toISOString()})` });
  }
  if (issues.length > 0) throw new ValidationError('The request is invalid; see `errors`.', issues);
  return { from, to };
}
