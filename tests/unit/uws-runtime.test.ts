import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { uwsRuntime } from '../../src/api/http/uws-runtime.ts';

describe('uwsRuntime', () => {
  it("tells the native binary from the fallback by what this Node loaded (also under vitest's module runner, where import.meta.url may not resolve)", () => {
    const rt = uwsRuntime();
    expect(rt.binary).toBe(`uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
    expect(rt.abis).toContain('115'); // Node 20's ABI: the fork ships its binary
    // Native exactly where the fork has a binary for this Node (20 here; CI also runs this file on 22, which falls back).
    expect(rt.fallback).toBe(!rt.abis.includes(process.versions.modules));
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
