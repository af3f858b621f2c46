/**
 * @module bench/common — shared pieces of the bench: flow documents, machine details, histograms,
 * /proc readings of a child's RSS and CPU, and the child-process server harness (IPC request/reply).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { RecordableHistogram } from 'node:perf_hooks';

export type SyncMode = 'full' | 'normal';
export const SYNC_MODES: readonly SyncMode[] = ['full', 'normal'];

/** One row of the final figures table (bench/RESULTS.md has the same columns). */
export interface Figure {
  readonly part: string;
  readonly what: string;
  readonly sync: SyncMode | '-';
  readonly value: string;
  readonly target: string;
  /** true = meets, false = misses, null = no target (informative). */
  readonly pass: boolean | null;
  readonly note?: string;
}

export interface BenchOpts {
  readonly quick: boolean;
  readonly syncs: readonly SyncMode[];
  /** Directory for `--cpu-prof` output of the server children, when profiling. */
  readonly cpuProfDir: string | null;
}

// ---- flow documents (docs/flows.md) ----

export const PARK_FLOW = { name: 'park', steps: [{ id: 'w', type: 'wait', signal: 'go' }] };
/**
 * The waiting flow of issue 12's targets: one `echo` step, then a `wait` for signal `go`, then an
 * `echo` step (what a signal dispatches: bench/parked.ts times signal → its `workflow.step.started`).
 */
export const PARKECHO_FLOW = {
  name: 'parkecho',
  steps: [
    { id: 'a', type: 'task', agent: 'echo', input: '$.input' },
    { id: 'w', type: 'wait', signal: 'go' },
    { id: 'b', type: 'task', agent: 'echo', input: { signalled: '$.steps.w.output' } },
  ],
};
export const BENCH3_FLOW = {
  name: 'bench3',
  steps: ['a', 'b', 'c'].map((id) => ({ id, type: 'task', agent: 'echo', input: '$.input' })),
};
/** 10 steps of mixed types (task, choice, sleep, parallel, wait): what the compile micro-bench compiles. */
export const FLOW10 = {
  name: 'flow10',
  timeoutMs: 3_600_000,
  steps: [
    { id: 's1', type: 'task', agent: 'echo', input: { order: '$.input.orderId' }, retry: { maxAttempts: 5, backoff: 'exponential', initialMs: 100 } },
    { id: 's2', type: 'task', agent: 'log', input: { level: 'info', message: 'validated' } },
    { id: 's3', type: 'choice', when: [{ if: { path: '$.steps.s1.output.order', exists: true }, next: 's5' }], default: 's4' },
    { id: 's4', type: 'task', agent: 'echo', input: { rejected: true }, end: true },
    { id: 's5', type: 'sleep', ms: 10 },
    { id: 's6', type: 'parallel', branches: [[{ id: 's7', type: 'task', agent: 'echo', input: '$.input' }], [{ id: 's8', type: 'task', agent: 'echo', input: '$.input' }]] },
    { id: 's9', type: 'wait', signal: 'approve', timeoutMs: 86_400_000 },
    { id: 's10', type: 'task', agent: 'echo', input: { done: '$.steps.s9.output' }, onError: 'skip' },
  ],
};

// ---- machine and formatting ----

export function machineInfo(): string {
  const c = cpus();
  const gib = (totalmem() / 2 ** 30).toFixed(1);
  return `${c[0]?.model.trim() ?? 'unknown CPU'} × ${c.length} cores, ${gib} GiB RAM, Node ${process.version}, ${process.platform}/${process.arch}`;
}

/** The disk's floor for `sync=full`: 4 KiB write + fsync, `n` times, in the temp dir the bench uses. */
export function fsyncProbe(n = 1000): LatencySummary {
  const dir = mkdtempSync(join(tmpdir(), 'actorflow-fsync-'));
  const fd = openSync(join(dir, 'probe'), 'w');
  const buf = Buffer.alloc(4096, 1);
  const h = createHistogram();
  try {
    for (let i = 0; i < n; i++) {
      writeSync(fd, buf, 0, buf.length, (i % 64) * 4096);
      const t0 = process.hrtime.bigint();
      fsyncSync(fd);
      recordNs(h, t0, process.hrtime.bigint());
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  return summarize(h);
}

export const ms = (x: number, digits = 3): string => `${x.toFixed(digits)} ms`;
export const int = (x: number): string => Math.round(x).toLocaleString('en-US');
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Summary in ms of a histogram recorded in ns (perf_hooks.createHistogram). */
export function summarize(h: RecordableHistogram): LatencySummary {
  return { count: h.count, p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6, mean: h.mean / 1e6 };
}

export const fmtLat = (s: LatencySummary): string => `p50 ${ms(s.p50)} · p99 ${ms(s.p99)} · max ${ms(s.max, 2)} (n=${int(s.count)})`;

/** Records a duration in ns given two hrtime.bigint() readings (histograms take integers ≥ 1). */
export function recordNs(h: RecordableHistogram, from: bigint, to: bigint): void {
  const ns = Number(to - from);
  h.record(ns > 0 ? ns : 1);
}

export const sleep = (msec: number): Promise<void> => new Promise((r) => setTimeout(r, msec));

// ---- /proc readings of another process ----

export interface ProcMem {
  readonly rss: number;
  readonly hwm: number;
}

/** VmRSS and VmHWM (peak) of a process, in bytes. */
export function procMem(pid: number): ProcMem {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** User + system CPU seconds consumed so far by a process (clock ticks assumed 100 Hz, Linux default). */
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Busy CPU seconds of the whole machine so far (all cores, /proc/stat, 100 Hz ticks). */
export function machineCpuSeconds(): number {
  const f = (/^cpu\s+(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? '').trim().split(/\s+/).map(Number);
  return (f.reduce((a, b) => a + b, 0) - (f[3] ?? 0) - (f[4] ?? 0)) / 100;
}

/** Own CPU seconds of this process (user + system). */
export const selfCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Whole-machine CPU busy fraction (0..1) over `msec`, from /proc/stat (includes every other process). */
export async function machineBusy(msec = 1000): Promise<number> {
  const read = () => {
    const f = (/^cpu\s+(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? '').trim().split(/\s+/).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await sleep(msec);
  const b = read();
  return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : 0;
}

/**
 * Waits (at most `maxMs`) until the machine is quiet (busy < 15% over 1 s): the bench shares its
 * 2 cores with whatever else runs (editors, test runs). Returns the last busy reading.
 */
export async function waitQuiet(maxMs: number): Promise<number> {
  const end = Date.now() + maxMs;
  let busy = await machineBusy();
  while (busy >= 0.15 && Date.now() < end) busy = await machineBusy();
  return busy;
}

// ---- the server child process ----

export interface ServerChild {
  readonly pid: number;
  readonly url: string;
  call<T>(cmd: string, args?: unknown): Promise<T>;
  /** Closes the server (engine flush, store close), removes its data dir, waits for exit. */
  close(): Promise<void>;
  /** Sends `signal` (a crash with SIGKILL) and waits for the exit; the data dir stays. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

interface Reply {
  readonly id?: number;
  readonly type?: string;
  readonly url?: string;
  readonly ok?: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

const SERVER_PROC = fileURLToPath(new URL('./server-proc.ts', import.meta.url));

export interface ServerOpts {
  readonly gc?: boolean;
  readonly cpuProfDir?: string | null;
  /** More arguments for bench/server-proc.ts (e.g. `--nats <url> --no-builtin-agents`). */
  readonly args?: readonly string[];
  /** Use this data dir (and keep it after close) instead of a fresh temp one: bench/restart.ts restarts on it. */
  readonly dataDir?: string;
}

/** Forks `node --import tsx bench/server-proc.ts --sync <mode>` (its own fresh temp data dir) and waits for its url. */
export async function spawnServer(sync: SyncMode, opts: ServerOpts = {}): Promise<ServerChild> {
  const execArgv = ['--import', 'tsx'];
  if (opts.gc) execArgv.push('--expose-gc');
  if (opts.cpuProfDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`);
  // Node flags NODE_OPTIONS refuses (e.g. --trace-gc-nvp) for the server child only: `BENCH_SERVER_NODE_ARGS="--trace-gc-nvp"`.
  execArgv.push(...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''));
  const dirArgs = opts.dataDir ? ['--data-dir', opts.dataDir] : [];
  const child: ChildProcess = fork(SERVER_PROC, ['--sync', sync, ...dirArgs, ...(opts.args ?? [])], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let alive = true;
  let killedOnPurpose = false;
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  // Never let a dead child take the load generator down: errors surface as rejected calls.
  child.on('error', (err) => console.error(`server child error: ${err.message}`));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server child exited early (code ${code})`)));
    child.on('message', (m: Reply) => {
      if (m.type === 'ready' && m.url) return resolve(m.url);
      const p = m.id === undefined ? undefined : pending.get(m.id);
      if (!p || m.id === undefined) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error ?? 'child command failed'));
    });
  });
  child.on('exit', (code, signal) => {
    alive = false;
    if (code !== 0 && !killedOnPurpose) console.error(`server child ${child.pid} exited: code ${code}, signal ${signal}`);
    for (const p of pending.values()) p.reject(new Error('server child exited'));
    pending.clear();
  });
  const call = <T>(cmd: string, args?: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (!alive || !child.connected) return reject(new Error(`server child is gone (${cmd})`));
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, cmd, args }, (err) => {
        if (!err) return;
        pending.delete(id);
        reject(err);
      });
    });
  return {
    pid: child.pid ?? -1,
    url,
    call,
    close: async () => {
      if (!alive) return;
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await call('close').catch(() => undefined);
      await exited;
      clearTimeout(killer);
    },
    kill: async (signal) => {
      if (!alive) return;
      killedOnPurpose = true;
      child.kill(signal);
      await exited;
    },
  };
}

/** Parent side: a server child for the duration of `fn`, always closed after. */
export async function withServer<T>(sync: SyncMode, opts: ServerOpts, fn: (s: ServerChild) => Promise<T>): Promise<T> {
  const s = await spawnServer(sync, opts);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
