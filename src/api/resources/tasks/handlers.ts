/** @module api/resources/tasks/handlers — handlers of the /tasks routes (standalone tasks, tenant-scoped). */
import type { RetryPolicy } from '../../../shared/flow.ts';
import type { Issue } from '../../../shared/errors.ts';
import { isRecord } from '../../../shared/json.ts';
import type { TaskStatus } from '../../../tasks/task-view.ts';
import type { Tasks } from '../../../tasks/task-service.ts';
import { startRequestHash } from '../executions/handlers.ts';
import type { RouteId } from '../../routes.ts';
import { type RouteHandler, pageOf } from '../../routing/route-spec.ts';
import { json } from '../../http/reply.ts';

interface CreateBody {
  readonly agent: string;
  readonly input: unknown;
  readonly retry?: RetryPolicy;
  readonly timeoutMs?: number;
  readonly idempotencyKey?: string;
}

const REPLAY_HEADERS = { 'idempotent-replay': 'true' } as const;

/** The idempotency key of the header and of the body must agree (as on POST /executions). */
function refineCreate(body: unknown, headers: Readonly<Record<string, string>>): Issue[] {
  const issues: Issue[] = [];
  const header = headers['idempotency-key'];
  if (header !== undefined && header.length > 255) issues.push({ path: '/headers/idempotency-key', message: 'must NOT have more than 255 characters' });
  if (isRecord(body) && header !== undefined && body['idempotencyKey'] !== undefined && body['idempotencyKey'] !== header) {
    issues.push({ path: '/idempotencyKey', message: 'differs from the idempotency-key header' });
  }
  return issues;
}

/** Handlers of the task routes, keyed by route id. */
export function tasksHandlers(tasks: Tasks) {
  return {
    createTask: {
      refine: (body, { headers }) => refineCreate(body, headers),
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
        return replayed ? json(200, task, REPLAY_HEADERS) : json(201, task);
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
  } satisfies Partial<Record<RouteId, RouteHandler>>;
}
