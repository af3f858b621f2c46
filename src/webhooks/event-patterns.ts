/** @module webhooks/event-patterns — the event types a webhook may subscribe to, wildcards, and the matcher built once per webhook. */
import { EVENT_TYPES } from '../common/execution.ts';

/** Every event type a webhook can receive (the engine's committed events). */
export const WEBHOOK_EVENT_TYPES = EVENT_TYPES;

/** `*` (everything) and `<prefix>.*` for every dotted prefix of a type (`workflow.*`, `workflow.step.*`…). */
export const WEBHOOK_WILDCARDS: readonly string[] = (() => {
  const out = new Set<string>(['*']);
  for (const t of WEBHOOK_EVENT_TYPES) {
    const parts = t.split('.');
    for (let i = 1; i < parts.length; i++) out.add(`${parts.slice(0, i).join('.')}.*`);
  }
  return [...out].sort();
})();

/** Every value allowed in a webhook's `events`. */
export const WEBHOOK_EVENT_PATTERNS: readonly string[] = [...WEBHOOK_EVENT_TYPES, ...WEBHOOK_WILDCARDS];

/** A predicate over event types for a webhook's patterns: a set lookup plus a short prefix list. */
export function eventMatcher(patterns: readonly string[]): (type: string) => boolean {
  if (patterns.includes('*')) return () => true;
  const exact = new Set(patterns.filter((p) => !p.endsWith('.*')));
  const prefixes = patterns.filter((p) => p.endsWith('.*')).map((p) => p.slice(0, -1));
  if (prefixes.length === 0) return (type) => exact.has(type);
  return (type) => exact.has(type) || prefixes.some((p) => type.startsWith(p));
}
