/**
 * @module bench/start-rate — in-process `engine.start` of a parked flow at a fixed rate (2,000/s for
 * 8 s, open loop), with the journal's group-commit latencies, event-loop delay and GC pauses:
 *   node --import tsx bench/start-rate.ts [full|normal]
 * Used to measure where start latency goes without HTTP (bench/RESULTS.md, WAL checkpointer).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startActorflow } from '../src/cli/serve.ts';
const dir = await mkdtemp(join(tmpdir(), 'actorflow-start-rate-'));
const app = await startActorflow({ host: '127.0.0.1', port: 0, dataDir: dir, sync: process.argv[2] === 'normal' ? 'normal' : 'full', quiet: true, noAuth: true, logLevel: 'error' });
const e = app.engine;
await e.registerDefinition('default', { name: 'park', steps: [{ id: 'w', type: 'wait', signal: 'go' }] });
const commits: { ms: number; events: number }[] = [];
e.onCommit!((c) => commits.push(c));
const lat: number[] = [];

const h = monitorEventLoopDelay({ resolution: 1 }); h.enable();
const gcs: number[] = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) gcs.push(e.duration); }).observe({ entryTypes: ['gc'] });
const rate = 2000; const durMs = 8000; const t0 = performance.now();
let sent = 0; const pend: Promise<void>[] = [];
await new Promise<void>((resolve) => {
  const tick = () => {
    const now = performance.now() - t0;
    const due = Math.floor((now * rate) / 1000);
    while (sent < due) { sent++; const s = performance.now(); pend.push(e.start({ tenant: 'default', workflow: 'park', input: { n: sent } }).then(() => void lat.push(performance.now() - s))); }
    if (now < durMs) setImmediate(tick); else resolve();
  };
  tick();
});
await Promise.all(pend);
const q = (a: number[], p: number) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor((s.length - 1) * p)]!.toFixed(3); };
const skip = commits.slice(Math.floor(commits.length / 4));
console.log('starts', lat.length, 'start p50', q(lat, 0.5), 'p99', q(lat, 0.99));
console.log('commits', skip.length, 'ms p50', q(skip.map((c) => c.ms), 0.5), 'p90', q(skip.map((c) => c.ms), 0.9), 'p99', q(skip.map((c) => c.ms), 0.99), 'events/commit p50', q(skip.map((c) => c.events), 0.5));
console.log('loop delay p50', (h.percentile(50)/1e6).toFixed(2), 'p99', (h.percentile(99)/1e6).toFixed(2), 'max', (h.max/1e6).toFixed(1), 'gc count', gcs.length, 'gc total ms', gcs.reduce((a,b)=>a+b,0).toFixed(0), 'gc max', Math.max(...gcs).toFixed(1), 'rss MiB', (process.memoryUsage().rss/2**20).toFixed(0));
await app.close();
await rm(dir, { recursive: true, force: true });
