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
    proc = await startServerProcess({ dataDir: data, machinesDir: machines, sync: 'full' });
    const http = api(proc.url);

    // 16 clients start executions until 300 are acknowledged, then the server is killed mid-load.
    const acked = await loadUntilKill(http, { workflow: 'crashy', clients: 16, killWhen: (ids) => ids.length >= 300, kill: async () => proc?.kill() });
    const killedAt = Date.now();
    expect(acked.length).toBeGreaterThanOrEqual(300);

    proc = await startServerProcess({ dataDir: data, machinesDir: machines, sync: 'full' });
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
