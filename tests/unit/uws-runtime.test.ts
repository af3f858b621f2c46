import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { uwsRuntime } from '../../src/api/http/uws-runtime.ts';

describe('uwsRuntime', () => {
  it("sees the native binary this Node loaded (also under vitest's module runner, where import.meta.url may not resolve)", () => {
    const rt = uwsRuntime();
    expect(rt.fallback).toBe(false);
    expect(rt.binary).toBe(`uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
    expect(rt.abis).toContain(process.versions.modules);
  });

  it('sees the pure-JS fallback when uWebSockets.js loaded it', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', "import('./src/api/http/uws-runtime.ts').then((m) => console.log(JSON.stringify(m.uwsRuntime())))"], {
      env: { ...process.env, UWS_USE_FALLBACK: '1' },
      encoding: 'utf8',
    });
    const rt = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { fallback: boolean };
    expect(rt.fallback).toBe(true);
  });
});
