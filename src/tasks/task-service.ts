/**
 * @module tasks/task-service — standalone tasks over the engine: each task is an execution of a
 * generated one-step flow (engine/runtime/tasks.ts), so retries, attempts, timeouts, cancellation,
 * recovery after a crash and dispatch over NATS are the executions' own.
 */
import { TASK_NAME_PREFIX, TASK_STEP_ID, taskDocument } from '../engine/runtime/tasks.ts';
import type { Engine, PageRequest } from '../engine/types.ts';
import { ErrorCode, NotFoundError } from '../common/errors.ts';
import type { AttemptView, ExecutionStatus, ExecutionView, Page } from '../common/execution.ts';
import type { RetryPolicy } from '../common/flow.ts';
import { EXECUTION_STATUSES_OF, NO_ATTEMPTS, type TaskInput, type TaskStatus, type TaskView, summarizeAttempts, toTaskView } from './task-view.ts';

export interface CreateTaskRequest {
  readonly tenant: string;
  readonly agent: string;
  readonly input: unknown;
  readonly retry?: RetryPolicy | undefined;
  readonly timeoutMs?: number | undefined;
  readonly idempotencyKey?: string | undefined;
  /** Hash of the request body, compared when the idempotency key was seen before. */
  readonly requestHash?: string | undefined;
}

export interface TaskFilter {
  readonly status?: readonly TaskStatus[] | undefined;
  readonly agent?: string | undefined;
}

/** Tenant-scoped like the engine: another tenant's task is `task_not_found`; changes resolve once durable. */
export interface Tasks {
  create(req: CreateTaskRequest): Promise<{ task: TaskView; replayed: boolean }>;
  get(tenant: string, id: string): Promise<TaskView>;
  /** Newest first. */
  list(tenant: string, filter: TaskFilter, page: PageRequest): Promise<Page<TaskView>>;
  /** Aborts the running attempt; `task_finished` (409) once it ended. */
  cancel(tenant: string, id: string): Promise<TaskView>;
  attempts(tenant: string, id: string, page: PageRequest): Promise<Page<AttemptView>>;
}

/** Every attempt a task can have fits in one read (maxAttempts ≤ 100). */
const ALL_ATTEMPTS: PageRequest = { limit: 1000 };

export function createTasks(engine: Engine): Tasks {
  const attemptsOf = async (tenant: string, id: string): Promise<AttemptView[]> => {
    try {
      return (await engine.attempts(tenant, id, TASK_STEP_ID, ALL_ATTEMPTS, 'task')).items;
    } catch (err) {
      // The step has not started yet: no attempt.
      if (err instanceof NotFoundError && err.code === ErrorCode.stepNotFound) return [];
      throw err;
    }
  };
  /** One task: its view from its full attempt history (the same one GET /tasks/{id}/attempts pages). */
  const view = async (tenant: string, x: ExecutionView): Promise<TaskView> => toTaskView(x, summarizeAttempts(await attemptsOf(tenant, x.id)));

  return {
    async create(req) {
      const spec = { agent: req.agent, retry: req.retry, timeoutMs: req.timeoutMs };
      const input: TaskInput = { input: req.input ?? null, retry: req.retry ?? null, timeoutMs: req.timeoutMs ?? null };
      const result = await engine.start({
        tenant: req.tenant,
        kind: 'task',
        definition: taskDocument(spec),
        input,
        idempotencyKey: req.idempotencyKey,
        requestHash: req.requestHash,
      });
      return { task: await view(req.tenant, result.execution), replayed: result.replayed };
    },

    async get(tenant, id) {
      return view(tenant, await engine.get(tenant, id, 'task'));
    },

    async list(tenant, filter, page) {
      const wanted = filter.status === undefined ? undefined : new Set(filter.status);
      const status = wanted === undefined ? undefined : [...new Set([...wanted].flatMap((s) => EXECUTION_STATUSES_OF[s]))];
      const base = { kind: 'task' as const, status: status as ExecutionStatus[] | undefined, workflow: filter.agent === undefined ? undefined : TASK_NAME_PREFIX + filter.agent };
      const items: TaskView[] = [];
      let cursor = page.cursor;
      // pending and running share execution statuses: rows are read until the page is full of matches.
      for (;;) {
        const rows = await engine.list(tenant, base, { limit: page.limit, cursor });
        // The attempt counts of the whole page in one store read, never one history per task.
        const attempts = await engine.stepAttempts(tenant, rows.items.map((x) => x.id), TASK_STEP_ID);
        for (const [i, x] of rows.items.entries()) {
          const t = toTaskView(x, attempts.get(x.id) ?? NO_ATTEMPTS);
          if (wanted !== undefined && !wanted.has(t.status)) continue;
          items.push(t);
          if (items.length === page.limit) {
            const more = i < rows.items.length - 1 || rows.nextCursor !== null;
            return { items, nextCursor: more ? t.id : null };
          }
        }
        if (rows.nextCursor === null) return { items, nextCursor: null };
        cursor = rows.nextCursor;
      }
    },

    async cancel(tenant, id) {
      return view(tenant, await engine.cancel(tenant, id, undefined, 'task'));
    },

    async attempts(tenant, id, page) {
      await engine.get(tenant, id, 'task');
      try {
        return await engine.attempts(tenant, id, TASK_STEP_ID, page, 'task');
      } catch (err) {
        if (err instanceof NotFoundError && err.code === ErrorCode.stepNotFound) return { items: [], nextCursor: null };
        throw err;
      }
    },
  };
}
