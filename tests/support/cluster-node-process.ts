/** @module tests/support/cluster-node-process — drives tests/support/cluster-node-main.ts in a child process: its events, commands, SIGSTOP/SIGCONT/SIGKILL. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(import.meta.dirname, '../..');

export interface ClusterNodeEvent {
  readonly type: 'ready' | 'gained' | 'lost' | 'append';
  readonly at: number;
  readonly partition?: number;
  readonly reason?: string;
  readonly n?: number;
  readonly ok?: boolean;
  readonly seq?: number;
  readonly code?: string;
}

export interface ClusterNodeOptions {
  readonly urls: string;
  readonly nodeId: string;
  readonly partitions: number;
  readonly ttlMs: number;
  readonly replicas: number;
}

export interface ClusterNodeProcess {
  /** Every event so far, in the order the node wrote them. */
  readonly events: readonly ClusterNodeEvent[];
  /** Partitions the node owns, from its gained/lost events. */
  owned(): Set<number>;
  /** Resolves with the first event (already seen or to come) matching `pred`. */
  waitFor(pred: (e: ClusterNodeEvent) => boolean, what: string, timeoutMs?: number): Promise<ClusterNodeEvent>;
  send(command: Record<string, unknown>): void;
  pause(): void;
  resume(): void;
  /** SIGKILL and wait for the exit. Idempotent. */
  kill(): Promise<void>;
}

export async function startClusterNodeProcess(o: ClusterNodeOptions): Promise<ClusterNodeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/cluster-node-main.ts', o.urls, o.nodeId, String(o.partitions), String(o.ttlMs), String(o.replicas)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const events: ClusterNodeEvent[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    events.push(JSON.parse(line) as ClusterNodeEvent);
    for (const w of waiters) w();
  });
  const exited = once(child, 'exit');
  const alive = () => child.exitCode === null && child.signalCode === null;
  const waitFor = (pred: (e: ClusterNodeEvent) => boolean, what: string, timeoutMs = 10_000) =>
    new Promise<ClusterNodeEvent>((res, rej) => {
      const check = () => {
        const hit = events.find(pred);
        if (hit) return done(null, hit);
        if (!alive()) done(new Error(`cluster node ${o.nodeId} exited before: ${what}\n${stderr}`));
      };
      const done = (err: Error | null, e?: ClusterNodeEvent) => {
        clearTimeout(timer);
        waiters.delete(check);
        if (err) rej(err);
        else res(e!);
      };
      const timer = setTimeout(() => done(new Error(`timed out: ${what}\n${stderr}`)), timeoutMs);
      waiters.add(check);
      check();
    });
  child.on('exit', () => {
    for (const w of waiters) w();
  });
  const proc: ClusterNodeProcess = {
    events,
    owned: () => {
      const s = new Set<number>();
      for (const e of events) {
        if (e.type === 'gained') s.add(e.partition!);
        if (e.type === 'lost') s.delete(e.partition!);
      }
      return s;
    },
    waitFor,
    send: (command) => child.stdin.write(`${JSON.stringify(command)}\n`),
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    kill: async () => {
      if (!alive()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  await waitFor((e) => e.type === 'ready', `cluster node ${o.nodeId} ready`, 15_000).catch(async (err: unknown) => {
    await proc.kill();
    throw err;
  });
  return proc;
}
