/** SIGKILL under a start load, restart on the same data dir: nothing acknowledged is lost, everything finishes. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.ts';
import { loadUntilKill } from '../support/load-until-kill.ts';
import { pollUntil } from '../support/wait.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';

const FLOW = `
name: crashy
steps:
  - { id: first, type: task, agent: echo, input: "$.input" }
  - { id: nap, type: sleep, ms: 400 }
  - { id: last, type: task, agent: echo, input: { done: "$.input.n" } }
`;

let dir = '';
let proc: ServerProcess | undefined;

afterAll(async () => {
  await proc?.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const until = <T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000) => pollUntil(probe, what, timeoutMs);

describe('crash recovery', () => {
  it('keeps every acknowledged start and completes every execution after SIGKILL', async () => {
    dir = await mkdtemp(join(tmpdir(), 'actorflow-crash-'));
    const machines = join(dir, 'machines');
    const data = join(dir, 'data');
    await import('node:fs/promises').then((fs) => fs.mkdir(machines));
    await writeFile(join(machines, 'crashy.yaml'), FLOW);
    proc = await startServerProcess({ dataDir: data, machinesDir: machines, sync: 'full', walPreallocate: true });
    const http = api(proc.url);

    // 16 clients start executions until 300 are acknowledged, then the server is killed mid-load.
    const acked = await loadUntilKill(http, { workflow: 'crashy', clients: 16, killWhen: (ids) => ids.length >= 300, kill: async () => proc?.kill() });
    const killedAt = Date.now();
    expect(acked.length).toBeGreaterThanOrEqual(300);

    proc = await startServerProcess({ dataDir: data, machinesDir: machines, sync: 'full', walPreallocate: true });
    const again = api(proc.url);
    await until(async () => ((await again.get('/ready')).status === 200 ? true : undefined), 'ready');

    for (const id of acked) expect((await again.get(`/executions/${id}`)).status).toBe(200);
    await until(async () => {
      const open = await again.get('/executions', { query: { status: 'running,waiting,paused,pending', limit: 1 } });
      return open.body.items.length === 0 ? true : undefined;
    }, 'all executions finished');

    for (const id of acked) {
      const x = await again.get(`/executions/${id}`);
      expect(x.body.status).toBe('completed');
      const events = await again.get(`/executions/${id}/events`, { query: { limit: 1000 } });
      const seqs = (events.body.items as { seq: number }[]).map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      expect(x.body.lastSeq).toBe(seqs.length);
    }
    // The sleeps of the last starts were due while the server was down: they fired after the restart.
    const lastId = acked[acked.length - 1] as string;
    const steps = await again.get(`/executions/${lastId}/steps`);
    const nap = (steps.body.items as { stepId: string; finishedAt: string }[]).find((s) => s.stepId === 'nap');
    expect(Date.parse(nap?.finishedAt ?? '')).toBeGreaterThan(killedAt);
    expect(await proc.stop()).toBe(0);
  }, 60_000);
});

const PASSIVE = `
name: passive
steps:
  - { id: first, type: task, agent: echo, input: "$.input" }
  - { id: w, type: wait, signal: go }
  - { id: last, type: task, agent: echo, input: "$.steps.w.output" }
`;
const NAPPER = `
name: napper
steps:
  - { id: first, type: task, agent: echo, input: "$.input" }
  - { id: nap, type: sleep, ms: 1500 }
  - { id: last, type: task, agent: echo, input: woke }
`;

describe('crash recovery of passivated executions', () => {
  it('keeps every acknowledged signal exactly once and fires timers due during the downtime, after SIGKILL under load', async () => {
    const root = await mkdtemp(join(tmpdir(), 'actorflow-crash-passive-'));
    const machines = join(root, 'machines');
    const data = join(root, 'data');
    await import('node:fs/promises').then((fs) => fs.mkdir(machines));
    await writeFile(join(machines, 'passive.yaml'), PASSIVE);
    await writeFile(join(machines, 'napper.yaml'), NAPPER);
    const env = { ACTORFLOW_PASSIVATE_MS: '50' };
    let p = await startServerProcess({ dataDir: data, machinesDir: machines, sync: 'full', env, walPreallocate: true });
    try {
      const http = api(p.url);
      const waiting: string[] = [];
      for (let i = 0; i < 60; i++) waiting.push((await http.post('/executions', { workflow: 'passive', input: { i } }, { query: { wait: 5000 } })).body.id);
      const nappers: string[] = [];
      for (let i = 0; i < 20; i++) nappers.push((await http.post('/executions', { workflow: 'napper', input: { i } })).body.id);
      // All passivated (status `system.passivated` counts evictions).
      await until(async () => (((await http.get('/status')).body.system?.passivated ?? 0) >= 60 ? true : undefined), 'passivation');

      // Signals from 8 clients while starts go on; SIGKILL after 30 acknowledged signals.
      const signalled = new Set<string>();
      const queue = [...waiting];
      let killed = false;
      const signaller = async () => {
        for (let id = queue.shift(); id && !killed; id = queue.shift()) {
          try {
            const res = await http.post(`/executions/${id}/signals/go`, { payload: { for: id } });
            if (res.status === 202) signalled.add(id);
          } catch {
            if (!killed) throw new Error('signal failed before the kill');
          }
          if (signalled.size >= 30 && !killed) {
            killed = true;
            await p.kill();
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, signaller));
      expect(signalled.size).toBeGreaterThanOrEqual(30);

      p = await startServerProcess({ dataDir: data, machinesDir: machines, sync: 'full', env, walPreallocate: true });
      const again = api(p.url);
      await until(async () => ((await again.get('/ready')).status === 200 ? true : undefined), 'ready');
      // Acknowledged signals were applied; the others are signalled now (an unacknowledged one may have landed too).
      for (const id of waiting) {
        const x = (await again.get(`/executions/${id}`)).body;
        if (signalled.has(id)) expect(x.status === 'completed' || x.status === 'running' || (x.status === 'waiting' && !x.currentSteps.includes('w'))).toBe(true);
        else if (x.status === 'waiting' && x.currentSteps.includes('w')) expect((await again.post(`/executions/${id}/signals/go`, { payload: { for: id } })).status).toBe(202);
      }
      for (const id of [...waiting, ...nappers]) {
        const end = (await again.get(`/executions/${id}`, { query: { wait: 10_000 } })).body;
        expect(end.status, id).toBe('completed');
        const events = (await again.get(`/executions/${id}/events`, { query: { limit: 1000 } })).body.items as { seq: number; type: string }[];
        expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
        if (waiting.includes(id)) {
          expect(events.filter((e) => e.type === 'workflow.signal.received')).toHaveLength(1);
          expect(end.output).toEqual({ for: id });
        } else expect(end.output).toBe('woke');
      }
      expect(await p.stop()).toBe(0);
    } finally {
      await p.kill().catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    }
  }, 90_000);
});
