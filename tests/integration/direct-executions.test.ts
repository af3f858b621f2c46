/** Direct executions (`durability: "none"`, issue 12): no file I/O while they run, visible while live, written once at the end. */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitForEnd, waitForStatus } from '../support/wait.ts';

describe('direct executions', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await api(server.url).post('/workflow-definitions', { name: 'three', steps: [1, 2, 3].map((i) => ({ id: `s${i}`, type: 'task', agent: 'echo', input: { i } })) });
    // The sleep outlasts the checks made while it runs, also on a loaded machine.
    await api(server.url).post('/workflow-definitions', { name: 'slow', durability: 'none', steps: [{ id: 'nap', type: 'sleep', ms: 2000 }, { id: 'b', type: 'task', agent: 'echo', input: 'done' }] });
    await api(server.url).post('/workflow-definitions', { name: 'approval', steps: [{ id: 'w', type: 'wait', signal: 'go' }] });
  });
  afterAll(async () => server.close());

  it('runs to the end and is written once, with the same events a journaled run has', async () => {
    const res = await api(server.url).post('/executions', { workflow: 'three', input: {}, durability: 'none' });
    expect(res.status).toBe(201);
    const end = await waitForEnd(server.engine, res.body.id);
    expect(end).toMatchObject({ status: 'completed', output: { i: 3 } });
    const journaled = await api(server.url).post('/executions', { workflow: 'three', input: {} });
    await waitForEnd(server.engine, journaled.body.id);
    const types = async (id: string) => ((await api(server.url).get(`/executions/${id}/events`)).body.items as { seq: number; type: string }[]).map((e) => `${e.seq}:${e.type}`);
    // Written by a later batch: wait until the store has it (GET serves memory first).
    for (let i = 0; i < 100 && (await types(res.body.id)).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await types(res.body.id)).toEqual(await types(journaled.body.id));
  });

  it('does no file I/O while it runs, is visible in GET, lists, events and steps while live, and takes control calls', async () => {
    const wal = join(server.dataDir, 'actorflow.db-wal');
    const size = async () => (await stat(wal).catch(() => ({ size: 0 }))).size;
    const { body } = await api(server.url).post('/executions', { workflow: 'slow', input: {} });
    await waitForStatus(server.engine, body.id, 'waiting');
    await server.flushAudit(); // the start's own audit entry is written now, not inside the window
    const before = await size();
    expect((await api(server.url).get(`/executions/${body.id}`)).body).toMatchObject({ status: 'waiting', currentSteps: ['nap'] });
    expect(((await api(server.url).get('/executions', { query: { workflow: 'slow' } })).body.items as { id: string }[]).map((x) => x.id)).toContain(body.id);
    expect(((await api(server.url).get(`/executions/${body.id}/events`)).body.items as { type: string }[]).map((e) => e.type)).toEqual(['workflow.started', 'workflow.step.started']);
    expect((await api(server.url).get(`/executions/${body.id}/steps`)).body.items[0]).toMatchObject({ stepId: 'nap', status: 'waiting' });
    expect(await size()).toBeLessThanOrEqual(before); // nothing written while it ran (a checkpoint may only shrink the WAL)
    // Control calls work (their audit entries are written, so they come after the size check).
    expect((await api(server.url).post(`/executions/${body.id}/pause`)).status).toBe(202);
    expect((await api(server.url).post(`/executions/${body.id}/resume`)).status).toBe(202);
    const end = await waitForEnd(server.engine, body.id);
    expect(end).toMatchObject({ status: 'completed', output: 'done' });
  });

  it('refuses flows that wait (422 direct_not_allowed with the step path)', async () => {
    const res = await api(server.url).post('/executions', { workflow: 'approval', input: {}, durability: 'none' });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('direct_not_allowed');
    expect(res.body.errors).toEqual([{ path: '/steps/0/type', message: 'a direct execution cannot wait for a signal' }]);
    const inline = await api(server.url).post('/executions', { definition: { name: 'long', steps: [{ id: 'p', type: 'parallel', branches: [[{ id: 'z', type: 'sleep', ms: 120_000 }]] }] }, durability: 'none' });
    expect(inline.status).toBe(422);
    expect(inline.body.errors[0].path).toBe('/definition/steps/0/branches/0/0');
  });
});
