/** @module api/resources/tasks/handlers — handlers of the /tasks routes (standalone tasks, tenant-scoped). */
import type { RetryPolicy } from '../../../shared/flow.ts';
import type { TaskStatus } from '../../../tasks/task-view.ts';
import type { Tasks } from '../../../tasks/task-service.ts';
import { json } from '../../http/reply.ts';
import type { HandlersOf } from '../../routing/route-spec.ts';
import { keyHeaderIssues, keyMismatchIssues, startRequestHash, startedOrReplayed } from '../idempotency.ts';
import { pageOf } from '../paging.ts';
import type { TASK_ROUTES } from './routes.ts';

interface CreateBody {
  readonly agent: string;
  readonly input: unknown;
  readonly retry?: RetryPolicy;
  readonly timeoutMs?: number;
  readonly idempotencyKey?: string;
}

/** Handlers of the task routes, keyed by route id. */
export function tasksHandlers(tasks: Tasks) {
  return {
    createTask: {
      // The idempotency key of the header and of the body must agree (as on POST /executions).
      refine: (body, { headers }) => [...keyHeaderIssues(headers), ...keyMismatchIssues(body, headers)],
      handle: async ({ ctx, body, headers }) => {
        const b = body as CreateBody;
        const key = b.idempotencyKey ?? headers['idempotency-key'];
        const { task, replayed } = await tasks.create({
          tenant: ctx.tenant,
          agent: b.agent,
          input: b.input,
          retry: b.retry,
          timeoutMs: b.timeoutMs,
          idempotencyKey: key,
          requestHash: key === undefined ? undefined : startRequestHash(b as unknown as Record<string, unknown>),
        });
        return startedOrReplayed(replayed, task);
      },
    },
    listTasks: {
      handle: async ({ ctx, query }) =>
        json(200, await tasks.list(ctx.tenant, { status: query['status'] as TaskStatus[] | undefined, agent: query['agent'] as string | undefined }, pageOf(query))),
    },
    getTask: {
      handle: async ({ ctx, params }) => json(200, await tasks.get(ctx.tenant, params['id'] ?? '')),
    },
    listTaskAttempts: {
      handle: async ({ ctx, params, query }) => json(200, await tasks.attempts(ctx.tenant, params['id'] ?? '', pageOf(query))),
    },
    cancelTask: {
      handle: async ({ ctx, params }) => json(202, await tasks.cancel(ctx.tenant, params['id'] ?? '')),
    },
  } satisfies HandlersOf<typeof TASK_ROUTES>;
}
