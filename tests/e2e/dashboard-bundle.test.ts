/**
 * The dashboard's bundle budget: the JavaScript that index.html loads before any page is drawn (its module
 * scripts, modulepreloads and their static imports, followed through the built files) stays under 60 KB
 * gzipped; the chart library and Mermaid are separate chunks that only a dynamic import reaches.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureDashboardBuilt } from '../support/dashboard-build.ts';

const BUDGET_BYTES = 60 * 1024;

let dist = '';

/** `import … from "./x.js"`, `import "./x.js"` and `export … from "./x.js"`; never `import("./x.js")`. */
const STATIC_IMPORT = /(?:\bimport|\bexport)\s*(?:[\w$*{}\s,]+?\s*from\s*)?["'](\.{1,2}\/[^"']+\.js)["']/g;

/** The files index.html loads at once, followed through their static imports. */
function initialScripts(): string[] {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const roots = [...html.matchAll(/<script[^>]*type="module"[^>]*src="\/([^"]+)"|<link[^>]*rel="modulepreload"[^>]*href="\/([^"]+)"/g)].map((m) => m[1] ?? m[2] ?? '');
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(join(dist, file), 'utf8');
    for (const m of code.matchAll(STATIC_IMPORT)) visit(join(file, '..', m[1] ?? '').replace(/\\/g, '/'));
  };
  for (const r of roots) visit(r);
  return [...seen];
}

beforeAll(async () => {
  dist = await ensureDashboardBuilt();
}, 180_000);

describe('the dashboard bundle', () => {
  it('loads under 60 KB of gzipped JavaScript first', () => {
    const files = initialScripts();
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(existsSync(join(dist, f)), f).toBe(true);
    const gzipped = files.map((f) => ({ f, bytes: gzipSync(readFileSync(join(dist, f)), { level: 9 }).length }));
    const total = gzipped.reduce((n, x) => n + x.bytes, 0);
    expect(total, JSON.stringify(gzipped)).toBeLessThan(BUDGET_BYTES);
    // The measure is not empty: the app itself is more than a stub.
    expect(total).toBeGreaterThan(5 * 1024);
  });

  it('keeps uPlot and Mermaid out of the first load, in chunks of their own', () => {
    const initial = initialScripts();
    const code = initial.map((f) => readFileSync(join(dist, f), 'utf8')).join('\n');
    const assets = readdirSync(join(dist, 'assets'));
    // Each library is a chunk of its own, reached only by a dynamic import from the first load.
    const charts = assets.find((a) => /^charts-.*\.js$/.test(a));
    const mermaid = assets.find((a) => /^mermaid\.core-.*\.js$/.test(a));
    expect(charts, assets.join(' ')).toBeDefined();
    expect(mermaid, assets.join(' ')).toBeDefined();
    for (const lazy of [charts, mermaid] as string[]) {
      expect(initial).not.toContain(`assets/${lazy}`);
      expect(code).toContain(lazy);
    }
    expect(readFileSync(join(dist, 'assets', charts as string), 'utf8')).toContain('u-legend');
    // Their code is not in the first load: uPlot's legend class and Mermaid's diagram parser.
    expect(code).not.toContain('u-legend');
    expect(code).not.toContain('stateDiagram-v2');
  });
});
