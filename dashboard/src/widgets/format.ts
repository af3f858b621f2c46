/** @module dashboard/widgets/format — how numbers, durations, money and instants read on the pages. */
import { h, time } from '../dom.ts';

/** "2026-11-23 10:30:00" in the browser's time zone. */
export function absolute(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A relative time ("in 3m", kept fresh by the app) over the absolute one; a dash for null. */
export function stamp(iso: string | null | undefined): HTMLElement {
  if (iso === null || iso === undefined) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'stamp' }, time(iso), h('span', { class: 'abs' }, absolute(iso)));
}

/** "340 ms", "1.2 s", "3.5 min"; a dash for null. */
export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(1)} s`;
  return `${(value / 60_000).toFixed(1)} min`;
}

/** "$12.30"; under a dollar three significant digits at most ("$0.07", "$0.00125"). */
export const usd = (value: number): string => `$${value < 1 && value > 0 ? String(Number(value.toPrecision(3))) : value.toFixed(2)}`;

/** An interval: "every 30 s", "every 5 min", "every 2 h". */
export function every(msValue: number): string {
  const s = msValue / 1000;
  if (s < 60) return `every ${s} s`;
  if (s < 3600) return `every ${Number((s / 60).toFixed(1))} min`;
  return `every ${Number((s / 3600).toFixed(1))} h`;
}

export const count = (value: number): string => value.toLocaleString('en-US');

/** A badge with its own tone class (the status badges' colours: online, waiting, failed, pending…). */
export function tone(text: string, toneClass: string, extra: Readonly<Record<string, string>> = {}): HTMLSpanElement {
  return h('span', { class: `badge ${toneClass}`, ...extra }, text);
}

/** Kinds (or events, scopes) as a row of code tags. */
export function tags(values: readonly string[]): HTMLElement {
  return h('span', { class: 'tags' }, ...values.map((v) => h('code', { class: 'tag' }, v)));
}
