/** docs/api/executions.md: while an execution is paused, a step that became due is neither dispatched nor reported as started until the resume. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { pollUntil } from '../support/wait.ts';

describe('a step due while paused', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await api(server.url).post('/workflow-definitions', { name: 'nap-then-work', steps: [{ id: 'nap', type: 'sleep', ms: 1000 }, { id: 'work', type: 'task', agent: 'echo', input: 'done', timeoutMs: 60_000 }] });
  });
  afterAll(async () => server.close());

  it('is not started, dispatched or listed until the resume, then runs', async () => {
    const http = api(server.url);
    const { body } = await http.post('/executions', { workflow: 'nap-then-work', input: {} });
    // The pause must land before the 1 s nap ends (a shorter nap lost that race on a loaded machine).
    expect((await http.post(`/executions/${body.id}/pause`)).status).toBe(202);
    const types = async () => ((await http.get(`/executions/${body.id}/events`)).body.items as { type: string; stepId?: string }[]).map((e) => `${e.type}${e.stepId ? `:${e.stepId}` : ''}`);
    // The sleep ends while paused: `work` is due now.
    await pollUntil(async () => ((await types()).includes('workflow.step.completed:nap') ? true : undefined), 'the sleep to end', 5000);
    expect(await types()).not.toContain('workflow.step.started:work');
    const steps = (await http.get(`/executions/${body.id}/steps`)).body.items as { stepId: string }[];
    expect(steps.map((s) => s.stepId)).toEqual(['nap']);
    expect((await http.get(`/executions/${body.id}`)).body.status).toBe('paused');

    expect((await http.post(`/executions/${body.id}/resume`)).status).toBe(202);
    const end = (await http.get(`/executions/${body.id}`, { query: { wait: 5000 } })).body;
    expect(end).toMatchObject({ status: 'completed', output: 'done' });
    const after = await types();
    expect(after.indexOf('workflow.step.started:work')).toBeGreaterThan(after.indexOf('workflow.resumed'));
  });
});
