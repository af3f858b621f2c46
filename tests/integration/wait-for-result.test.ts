/** `?wait=` on POST /executions and GET /executions/{id}: the reply waits for the result (docs/api/executions.md). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('?wait=', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    const define = (doc: unknown) => api(server.url).post('/workflow-definitions', doc);
    await define({ name: 'nap', steps: [{ id: 'z', type: 'sleep', ms: 150 }, { id: 'b', type: 'task', agent: 'echo', input: 'woke' }] });
    await define({ name: 'echo3', steps: ['a', 'b', 'c'].map((id) => ({ id, type: 'task', agent: 'echo', input: '$.input' })) });
    await define({ name: 'approval', steps: [{ id: 'a', type: 'task', agent: 'echo' }, { id: 'w', type: 'wait', signal: 'go' }, { id: 'b', type: 'task', agent: 'echo', input: '$.steps.w.output' }] });
  });
  afterAll(async () => server.close());

  it('answers a start with the completed execution and its output', async () => {
    const res = await api(server.url).post('/executions', { workflow: 'nap', input: {} }, { query: { wait: 5000 } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'completed', output: 'woke' });
  });

  it('answers when the execution starts waiting for a signal; a GET long poll answers at once then, and at completion of a sleeping one', async () => {
    const t0 = performance.now();
    const res = await api(server.url).post('/executions', { workflow: 'approval', input: {} }, { query: { wait: 5000 } });
    expect(res.body).toMatchObject({ status: 'waiting', currentSteps: ['w'] });
    expect(performance.now() - t0).toBeLessThan(2000);
    // A long poll on an execution already waiting for a signal answers at once.
    expect((await api(server.url).get(`/executions/${res.body.id}`, { query: { wait: 5000 } })).body.status).toBe('waiting');
    expect((await api(server.url).post(`/executions/${res.body.id}/signals/go`, { payload: 'ok' })).status).toBe(202);
    expect((await api(server.url).get(`/executions/${res.body.id}`, { query: { wait: 5000 } })).body).toMatchObject({ status: 'completed', output: 'ok' });
    // On a sleeping one it waits for the end.
    const nap = (await api(server.url).post('/executions', { workflow: 'nap', input: {} })).body.id as string;
    expect((await api(server.url).get(`/executions/${nap}`, { query: { wait: 5000 } })).body).toMatchObject({ status: 'completed', output: 'woke' });
  });

  it('answers a start without ?wait with what is durable by its commit: a flow of in-process echo steps finished inside it', async () => {
    // Effect-free in-process steps run before the start's commit, which then holds the whole flow: the 201 says completed.
    const res = await api(server.url).post('/executions', { workflow: 'echo3', input: { v: 7 } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'completed', output: { v: 7 } });
    // What the answer shows is in the journal: the event log ends with the completion, and a GET agrees.
    const events = (await api(server.url).get(`/executions/${res.body.id}/events`, { query: { limit: 100 } })).body.items as { seq: number; type: string }[];
    expect(events.at(-1)).toMatchObject({ type: 'workflow.completed', seq: res.body.lastSeq });
    expect((await api(server.url).get(`/executions/${res.body.id}`)).body).toEqual(res.body);
    // A flow that goes on after its commit answers as its start left it (running), never ahead of the journal.
    const napping = await api(server.url).post('/executions', { workflow: 'nap', input: {} });
    expect(napping.body.status).not.toBe('completed');
  });

  it('answers at the timeout with the execution as it is then', async () => {
    const t0 = performance.now();
    const res = await api(server.url).post('/executions', { workflow: 'nap', input: {} }, { query: { wait: 30 } });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('waiting');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it('refuses a wait outside 0..30000 (422)', async () => {
    expect((await api(server.url).post('/executions', { workflow: 'nap', input: {} }, { query: { wait: 30001 } })).status).toBe(422);
    expect((await api(server.url).get('/executions/ex_01ARZ3NDEKTSV4RRFFQ69G5FAV', { query: { wait: 'soon' } })).status).toBe(422);
  });
});
