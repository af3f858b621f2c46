/** @module api/resources/tasks/handlers — handlers of the /tasks routes (standalone tasks, tenant-scoped). */
import type { Tasks } from '../../../tasks/task-service.ts';
import { json } from '../../http/reply.ts';
import type { HandlersOf } from '../../routing/route-spec.ts';
import { keyHeaderIssues, keyMismatchIssues, startRequestHash, startedOrReplayed } from '../idempotency.ts';
import { pageOf } from '../paging.ts';
import type { TASK_ROUTES } from './routes.ts';

/** Handlers of the task routes, keyed by route id. */
export function tasksHandlers(tasks: Tasks) {
  return {
    createTask: {
      // The idempotency key of the header and of the body must agree (as on POST /executions).
      refine: (body, { headers }) => [...keyHeaderIssues(headers), ...keyMismatchIssues(body, headers)],
      handle: async ({ ctx, body, headers }) => {
        const key = body.idempotencyKey ?? headers['idempotency-key'];
        const { task, replayed } = await tasks.create({
          tenant: ctx.tenant,
          agent: body.agent,
          input: body.input,
          retry: body.retry,
          timeoutMs: body.timeoutMs,
          idempotencyKey: key,
          requestHash: key === undefined ? undefined : startRequestHash(body),
        });
        return startedOrReplayed(replayed, task);
      },
    },
    listTasks: {
      handle: async ({ ctx, query }) =>
        json(200, await tasks.list(ctx.tenant, { status: query.status, agent: query.agent }, pageOf(query))),
    },
    getTask: {
      handle: async ({ ctx, params }) => json(200, await tasks.get(ctx.tenant, params.id)),
    },
    listTaskAttempts: {
      handle: async ({ ctx, params, query }) => json(200, await tasks.attempts(ctx.tenant, params.id, pageOf(query))),
    },
    cancelTask: {
      handle: async ({ ctx, params }) => json(202, await tasks.cancel(ctx.tenant, params.id)),
    },
  } satisfies HandlersOf<typeof TASK_ROUTES>;
}
