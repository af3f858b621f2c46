/** W3C trace context parsing and the derived span ids of src/tracing/trace-context.ts. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executionSpanId, executionTrace, parseTraceparent, parseTracestate, stepSpanId, stepTraceparent } from '../../src/tracing/trace-context.ts';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

describe('parseTraceparent', () => {
  it('accepts a valid version-00 value and later versions with extra fields', () => {
    expect(parseTraceparent(`00-${T}-${S}-01`)).toEqual({ traceId: T, spanId: S, flags: '01' });
    expect(parseTraceparent(` 00-${T}-${S}-00 `)).toEqual({ traceId: T, spanId: S, flags: '00' });
    expect(parseTraceparent(`01-${T}-${S}-01-future`)).toEqual({ traceId: T, spanId: S, flags: '01' });
  });

  it.each([
    undefined,
    '',
    'garbage',
    `00-${T.toUpperCase()}-${S}-01`,
    `00-${'0'.repeat(32)}-${S}-01`,
    `00-${T}-${'0'.repeat(16)}-01`,
    `ff-${T}-${S}-01`,
    `00-${T}-${S}-01-extra`,
    `01-${T}-${S}-01x`,
    `00-${T}-${S}-zz`,
    `00_${T}-${S}-01`,
    `00-${T.slice(1)}-${S}0-01`,
  ])('rejects %s', (v) => {
    expect(parseTraceparent(v)).toBeNull();
  });
});

describe('parseTracestate', () => {
  it('keeps printable values and drops the rest', () => {
    expect(parseTracestate('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7')).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    expect(parseTracestate('')).toBeNull();
    expect(parseTracestate('a=\u0001')).toBeNull();
    expect(parseTracestate('x'.repeat(513))).toBeNull();
  });
});

describe('derived ids', () => {
  it('are stable, distinct per attempt and 16/32 lowercase hex', () => {
    const id = 'ex_01JABCDEFGHJKMNPQRSTVWXYZ0';
    expect(executionSpanId(id)).toMatch(/^[0-9a-f]{16}$/);
    expect(executionSpanId(id)).toBe(executionSpanId(id));
    expect(stepSpanId(id, 'a', 1)).not.toBe(stepSpanId(id, 'a', 2));
    expect(stepSpanId(id, 'a', 1)).not.toBe(stepSpanId(id, 'b', 1));
    expect(stepSpanId(id, 'a', 1)).not.toBe(executionSpanId(id));
    const fresh = executionTrace(id, undefined);
    expect(fresh.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh).toMatchObject({ parentSpanId: null, flags: '01' });
    expect(executionTrace('ex_other', undefined).traceId).not.toBe(fresh.traceId);
    expect(executionTrace(id, `00-${T}-${S}-01`, 'k=v')).toEqual({ traceId: T, parentSpanId: S, flags: '01', tracestate: 'k=v' });
    expect(stepTraceparent(id, `00-${T}-${S}-00`, 'a', 3)).toBe(`00-${T}-${stepSpanId(id, 'a', 3)}-00`);
    expect(stepTraceparent(id, 'bogus', 'a', 1)).toBe(`00-${fresh.traceId}-${stepSpanId(id, 'a', 1)}-01`);
  });
});

describe('OpenTelemetry stays out of the hot path', () => {
  it('no engine, bus, API or composition-root module imports @opentelemetry statically', () => {
    const root = resolve(import.meta.dirname, '../../src');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) {
          if (p !== join(root, 'tracing')) walk(p);
        } else if (p.endsWith('.ts') && /^\s*import\s[^(]*from\s+['"]@opentelemetry\//m.test(readFileSync(p, 'utf8'))) offenders.push(p);
      }
    };
    for (const d of ['engine', 'bus', 'api', 'cli', 'common', 'agents']) walk(join(root, d));
    expect(offenders).toEqual([]);
    // The exporter is reached only through a dynamic import.
    expect(readFileSync(join(root, 'cli/serve.ts'), 'utf8')).toMatch(/await import\('\.\.\/tracing\/otlp-tracing\.ts'\)/);
  });
});
