/** The CLI server's interrupt budget (cli/jit-tuning.ts): a default, an override, a refusal, and V8 taking it at run time. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, readServeConfig } from '../../src/cli/config.ts';

describe('ACTORFLOW_V8_INTERRUPT_BUDGET', () => {
  it('is 8192 by default, takes 0..10,000,000, and refuses anything else', () => {
    expect(readServeConfig([], {}).interruptBudget).toBe(8192);
    expect(readServeConfig([], { ACTORFLOW_V8_INTERRUPT_BUDGET: '0' }).interruptBudget).toBe(0);
    expect(readServeConfig([], { ACTORFLOW_V8_INTERRUPT_BUDGET: '20000' }).interruptBudget).toBe(20000);
    expect(() => readServeConfig([], { ACTORFLOW_V8_INTERRUPT_BUDGET: '-1' })).toThrow(ConfigError);
    expect(() => readServeConfig([], { ACTORFLOW_V8_INTERRUPT_BUDGET: 'soon' })).toThrow(/ACTORFLOW_V8_INTERRUPT_BUDGET must be an integer/);
  });

  it('has a small function optimized after far fewer calls than V8 waits for by default (Node 20), and is a no-op on a V8 without the flag', () => {
    // Calls until V8 has asked for the function to be optimized: marked for a concurrent compile (bit 9 of
    // %GetOptimizationStatus on V8 11), compiling (bit 10) or optimized (bit 4). Asking happens on the calling thread
    // when the budget runs out, so a loaded machine (a slow compiler thread) does not move the count.
    const script = (budget: number) => `
      import { applyInterruptBudget } from ${JSON.stringify(resolve(import.meta.dirname, '../../src/cli/jit-tuning.ts'))};
      const applied = applyInterruptBudget(${budget});
      function add(a, b) { const s = a + b; return s > 1e9 ? 0 : s; }
      let calls = 0, acc = 0;
      while (calls < 20000 && (%GetOptimizationStatus(add) & (16 | 512 | 1024)) === 0) acc = add(acc, calls++);
      console.log(JSON.stringify({ applied, calls }));`;
    const run = (budget: number) => {
      const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script(budget)], { encoding: 'utf8' });
      return { ...(JSON.parse(r.stdout.trim()) as { applied: boolean; calls: number }), stderr: r.stderr };
    };
    const tuned = run(8192);
    const v8Default = run(0);
    expect(v8Default.applied).toBe(false);
    // V8 prints unknown flags on stderr: nothing may be printed either way.
    expect(tuned.stderr).toBe('');
    if (Number(process.versions.v8.split('.')[0]) < 12) {
      expect(tuned.applied).toBe(true);
      expect(tuned.calls).toBeLessThan(v8Default.calls / 2);
    } else {
      expect(tuned.applied).toBe(false);
    }
  }, 60_000);
});

describe('ACTORFLOW_WAL_PREALLOCATE', () => {
  it('is on by default and off with 0', () => {
    expect(readServeConfig([], {}).walPreallocate).toBe(true);
    expect(readServeConfig([], { ACTORFLOW_WAL_PREALLOCATE: '0' }).walPreallocate).toBe(false);
    expect(readServeConfig([], { ACTORFLOW_WAL_PREALLOCATE: '1' }).walPreallocate).toBe(true);
  });
});
