/** @module api/resources/executions/handlers — handlers of the /executions routes (POST /executions is the hot path). */
import type { Engine, ExecutionFilter, SignalRequest } from '../../../engine/types.ts';
import type { Templates } from '../../../templates/template-service.ts';
import type { Issue } from '../../../common/errors.ts';
import { TERMINAL_STATUSES, type LogView } from '../../../common/execution.ts';
import { isRecord } from '../../../common/json.ts';
import { MEDIA_MERMAID } from '../../http/media.ts';
import { json, text } from '../../http/reply.ts';
import type { HandlersOf } from '../../routing/route-spec.ts';
import { keyHeaderIssues, keyMismatchIssues, startRequestHash, startedOrReplayed } from '../idempotency.ts';
import { pageOf } from '../paging.ts';
import type { EXECUTION_ROUTES } from './routes.ts';

export interface ExecutionsDeps {
  readonly engine: Engine;
  /** Resolves the `template` of a start into its one-off document. */
  readonly templates: Templates;
}

/** Cross-field rules of POST /executions. */
function refineStart(body: unknown, headers: Readonly<Record<string, string>>): Issue[] {
  const issues = keyHeaderIssues(headers);
  if (!isRecord(body)) return issues;
  const hasWorkflow = body['workflow'] !== undefined;
  const hasDefinition = body['definition'] !== undefined;
  const hasTemplate = body['template'] !== undefined;
  if (!hasWorkflow && !hasDefinition && !hasTemplate) issues.push({ path: '/workflow', message: 'is required (or a one-off `definition`, or a `template`)' });
  if (hasWorkflow && hasDefinition) issues.push({ path: '/definition', message: 'is not allowed together with `workflow`' });
  if (hasTemplate && (hasWorkflow || hasDefinition)) issues.push({ path: '/template', message: `is not allowed together with \`${hasWorkflow ? 'workflow' : 'definition'}\`` });
  if (body['version'] !== undefined && !hasWorkflow) issues.push({ path: '/version', message: 'is only allowed with `workflow`' });
  for (const field of ['templateVersion', 'params']) if (body[field] !== undefined && !hasTemplate) issues.push({ path: `/${field}`, message: 'is only allowed with `template`' });
  issues.push(...keyMismatchIssues(body, headers));
  return issues;
}

function refineSignal(body: unknown): Issue[] {
  if (!isRecord(body)) return [];
  const issues: Issue[] = [];
  if (body['reject'] === true && body['payload'] !== undefined) issues.push({ path: '/payload', message: 'is not allowed with `reject: true`' });
  if (body['reject'] !== true && body['reason'] !== undefined) issues.push({ path: '/reason', message: 'is only allowed with `reject: true`' });
  return issues;
}

const epochMs = (value: string | undefined): number | undefined => (value === undefined ? undefined : Date.parse(value));

/** Handlers of the execution routes, keyed by route id. */
export function executionsHandlers({ engine, templates }: ExecutionsDeps) {
  return {
    startExecution: {
      refine: (body, { headers }) => refineStart(body, headers),
      handle: async ({ ctx, body, headers, query }) => {
        const key = body.idempotencyKey ?? headers['idempotency-key'];
        // A one-off `definition` is validated by the engine (paths under /definition), once; a template's by the template service (paths under /params).
        const fromTemplate = body.template === undefined ? undefined : templates.forStart(ctx.tenant, { template: body.template, templateVersion: body.templateVersion, params: body.params });
        const result = await engine.start({
          tenant: ctx.tenant,
          workflow: body.workflow,
          version: body.version,
          definition: fromTemplate?.definition ?? body.definition,
          template: fromTemplate?.template,
          input: body.input,
          labels: body.labels,
          durability: body.durability,
          scope: body.scope,
          priority: body.priority,
          idempotencyKey: key,
          requestHash: key === undefined ? undefined : startRequestHash(body),
          // W3C trace context; the engine ignores an invalid one (never a 4xx).
          traceparent: headers['traceparent'],
          tracestate: headers['tracestate'],
        });
        // The start is durable before any waiting; waiting never changes what runs.
        const wait = query.wait ?? 0;
        // A start that finished within its own commit is settled already: no read, no wait.
        const execution = wait > 0 && !TERMINAL_STATUSES.has(result.execution.status) ? await engine.settled(ctx.tenant, result.execution.id, wait) : result.execution;
        return startedOrReplayed(result.replayed, execution);
      },
    },
    listExecutions: {
      handle: async ({ ctx, query }) => {
        const filter: ExecutionFilter = {
          status: query.status,
          workflow: query.workflow,
          labels: query.labels,
          parentId: query.parentId,
          createdAfter: epochMs(query.createdAfter),
          createdBefore: epochMs(query.createdBefore),
        };
        return json(200, await engine.list(ctx.tenant, filter, pageOf(query)));
      },
    },
    getExecution: {
      handle: async ({ ctx, params, query }) => {
        const wait = query.wait ?? 0;
        return json(200, wait > 0 ? await engine.settled(ctx.tenant, params.id, wait) : await engine.get(ctx.tenant, params.id));
      },
    },
    updateExecution: {
      handle: async ({ ctx, params, body }) => {
        const patch: { labels?: Record<string, string>; context?: Record<string, unknown> } = {};
        if (body.labels !== undefined) patch.labels = body.labels;
        if (body.context !== undefined) patch.context = body.context;
        return json(200, await engine.update(ctx.tenant, params.id, patch));
      },
    },
    cancelExecution: {
      handle: async ({ ctx, params, body }) => json(202, await engine.cancel(ctx.tenant, params.id, body.reason)),
    },
    pauseExecution: {
      handle: async ({ ctx, params }) => json(202, await engine.pause(ctx.tenant, params.id)),
    },
    resumeExecution: {
      handle: async ({ ctx, params }) => json(202, await engine.resume(ctx.tenant, params.id)),
    },
    retryExecution: {
      handle: async ({ ctx, params, body }) => json(202, await engine.retry(ctx.tenant, params.id, body.note)),
    },
    retryStep: {
      handle: async ({ ctx, params }) => json(202, await engine.retryStep(ctx.tenant, params.id, params.stepId)),
    },
    signalExecution: {
      refine: (body) => refineSignal(body),
      handle: async ({ ctx, params, body }) => {
        const signal: SignalRequest = body.reject === true ? { reject: true, reason: body.reason } : { payload: body.payload };
        return json(202, await engine.signal(ctx.tenant, params.id, params.name, signal));
      },
    },
    listSteps: {
      handle: async ({ ctx, params, query }) => json(200, await engine.steps(ctx.tenant, params.id, pageOf(query))),
    },
    listAttempts: {
      handle: async ({ ctx, params, query }) =>
        json(200, await engine.attempts(ctx.tenant, params.id, params.stepId, pageOf(query))),
    },
    listEvents: {
      handle: async ({ ctx, params, query }) =>
        json(200, await engine.events(ctx.tenant, params.id, query.since ?? 0, pageOf(query))),
    },
    listLogs: {
      handle: async ({ ctx, params, query }) => {
        const filter: { level?: LogView['level']; stepId?: string } = {};
        if (query.level !== undefined) filter.level = query.level;
        if (query.stepId !== undefined) filter.stepId = query.stepId;
        return json(200, await engine.logs(ctx.tenant, params.id, filter, pageOf(query)));
      },
    },
    listChildren: {
      handle: async ({ ctx, params, query }) => json(200, await engine.children(ctx.tenant, params.id, pageOf(query))),
    },
    executionDiagram: {
      handle: async ({ ctx, params, query }) => {
        const mermaid = await engine.executionDiagram(ctx.tenant, params.id);
        return query.format === 'json' ? json(200, { mermaid }) : text(200, mermaid, MEDIA_MERMAID);
      },
    },
    executionCosts: {
      handle: async ({ ctx, params }) => json(200, await engine.costs(ctx.tenant, params.id)),
    },
  } satisfies HandlersOf<typeof EXECUTION_ROUTES>;
}
