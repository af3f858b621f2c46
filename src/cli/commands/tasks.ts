/** @module cli/commands/tasks — `actorflow tasks list|get|create|attempts|cancel`: one step on an agent, without a flow. */
import type { TaskStatus } from '../../client/index.ts';
import { getCommand, listCommand } from './builders.ts';
import { UsageError } from './common.ts';
import { ATTEMPT_COLUMNS } from './executions.ts';
import type { Group } from './spec.ts';

const KEYS = ['id', 'agent', 'status', 'attempts', 'input', 'output', 'error', 'retry', 'timeoutMs', 'createdAt', 'updatedAt', 'completedAt'];
const STATUSES: readonly string[] = ['pending', 'running', 'completed', 'failed', 'cancelled'];


export const TASKS: Group = {
  name: 'tasks',
  summary: 'standalone tasks (one step on an agent, no flow)',
  default: 'list',
  commands: [
    listCommand({
      name: 'tasks list',
      summary: 'tasks, newest first',
      flags: { status: { type: 'string', arg: 'S,S', help: `only these statuses: ${STATUSES.join('|')}` }, agent: { type: 'string', arg: 'KIND', help: 'only tasks for this agent kind' } },
      columns: [['ID', 'id'], ['AGENT', 'agent'], ['STATUS', 'status'], ['ATTEMPTS', 'attempts'], ['CREATED', 'createdAt'], ['COMPLETED', 'completedAt']],
      list: (c, page) => {
        const status = c.str('status')?.split(',');
        const bad = status?.find((s) => !STATUSES.includes(s));
        if (bad !== undefined) throw new UsageError(`unknown status ${bad} (${STATUSES.join('|')})`);
        const agent = c.str('agent');
        return c.client.tasks.list({ ...page, ...(status ? { status: status as TaskStatus[] } : {}), ...(agent === undefined ? {} : { agent }) });
      },
    }),
    getCommand({ name: 'tasks get', summary: 'one task with its output or error', keys: KEYS, get: (c, id) => c.client.tasks.get(id) }),
    {
      name: 'tasks create',
      args: '<agent>',
      summary: 'run one step on an agent kind (durable before the reply)',
      flags: {
        input: { type: 'string', arg: 'JSON|@FILE', help: 'the step input (default {})' },
        'max-attempts': { type: 'string', arg: 'N', help: 'attempts in all (default 3)' },
        timeout: { type: 'string', arg: 'DURATION', help: 'timeout of each attempt: 500ms, 30s (retryable step_timeout)' },
        'idempotency-key': { type: 'string', arg: 'KEY', help: 'the same key and request within 24 h returns the first task' },
      },
      async run(c) {
        const maxAttempts = c.int('max-attempts', 1);
        const timeoutMs = c.duration('timeout');
        const key = c.str('idempotency-key');
        const t = await c.client.tasks.create(
          { agent: c.arg(0, 'agent'), input: c.jsonValue('input') ?? {}, ...(maxAttempts === undefined ? {} : { retry: { maxAttempts } }), ...(timeoutMs === undefined ? {} : { timeoutMs }) },
          key === undefined ? {} : { idempotencyKey: key },
        );
        if (c.json) c.out(JSON.stringify(t, null, 2));
        else c.out(`${t.id}  ${t.agent}  ${t.status}`);
        return 0;
      },
    },
    listCommand({ name: 'tasks attempts', args: '<id>', summary: 'attempts of a task', columns: ATTEMPT_COLUMNS, list: (c, page) => c.client.tasks.attempts(c.arg(0, 'id'), page) }),
    getCommand({ name: 'tasks cancel', summary: 'cancel a pending or running task (409 once it ended)', keys: KEYS, get: (c, id) => c.client.tasks.cancel(id) }),
  ],
};
