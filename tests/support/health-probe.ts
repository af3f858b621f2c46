/**
 * @module tests/support/health-probe — another client, in a process of its own, polling GET
 * /api/v1/health back to back: its latencies are what a concurrent client of the server sees
 * (a probe in the test's own process would share the server's event loop and add its own work).
 */
import { spawn } from 'node:child_process';

export interface HealthStats {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const PROBE = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const lat = [];
let stop = false;
process.stdin.on('data', () => { stop = true; });
const one = () => new Promise((resolve) => {
  const t0 = performance.now();
  http.get(process.argv[1] + '/api/v1/health', { agent }, (res) => { res.resume(); res.on('end', () => { lat.push(performance.now() - t0); resolve(); }); }).on('error', () => resolve());
});
(async () => {
  while (!stop) await one();
  lat.sort((a, b) => a - b);
  const at = (q) => lat[Math.min(lat.length - 1, Math.floor(lat.length * q))] ?? 0;
  process.stdout.write(JSON.stringify({ count: lat.length, p50: at(0.5), p99: at(0.99), max: lat[lat.length - 1] ?? 0 }));
  process.exit(0);
})();
`;

/** Starts polling `origin`; `stop()` ends it and resolves with the latency figures (ms). */
export function startHealthProbe(origin: string): { stop(): Promise<HealthStats> } {
  const child = spawn(process.execPath, ['-e', PROBE, origin], { stdio: ['pipe', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped: Promise<HealthStats> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        child.stdin.end('stop\n');
        await exited;
        return JSON.parse(out) as HealthStats;
      })();
      return stopped;
    },
  };
}
