/** @module api/telemetry-routes — the route table of telemetry: execution summary and per-step stats of a workflow. */
import { ErrorCode } from '../shared/errors.ts';
import { dateTime, definitionName, object } from './schemas.ts';
import type { JsonSchema, RouteSpec } from './types.ts';

const windowQuery = object({
  from: { ...dateTime, description: 'Start of the window (inclusive), on execution creation time. @default `to` − 24 h' },
  to: { ...dateTime, description: 'End of the window (exclusive); must be after `from`. @default now' },
});

export const TELEMETRY_ROUTES = [
  {
    id: 'telemetrySummary',
    method: 'get',
    path: '/telemetry/summary',
    summary:
      "Workflow executions of the caller's tenant created in `[from, to)` (standalone tasks are not counted): counts (`failed` includes `timed_out`), " +
      'created→finished duration p50/p95, token and USD cost totals reported by agents on every step attempt (retried ones included), and the same per workflow.',
    tag: 'ops',
    query: windowQuery,
    status: 200,
  },
  {
    id: 'telemetryWorkflowStats',
    method: 'get',
    path: '/telemetry/workflows/{name}/stats',
    summary:
      "Per step of a workflow's executions created in `[from, to)`: `runs` (step runs with an outcome, not attempts), `successRate` (0..1), " +
      '`retries`, `recoveries` by `onError` strategy and run duration p50/p95/p99. Unknown workflow: 404 `definition_not_found`.',
    tag: 'ops',
    params: object({ name: definitionName }, ['name']),
    paramNotFound: { name: ErrorCode.definitionNotFound },
    query: windowQuery,
    status: 200,
  },
] as const satisfies readonly RouteSpec[];

const count: JsonSchema = { type: 'integer', minimum: 0 };
const ms: JsonSchema = { type: ['number', 'null'], minimum: 0, description: 'Milliseconds (nearest-rank percentile); null without samples.' };
const time: JsonSchema = { type: 'string', format: 'date-time' };
const usd: JsonSchema = { type: 'number', minimum: 0, description: 'USD, rounded to 1e-9.' };
const all = (properties: Readonly<Record<string, JsonSchema>>): JsonSchema => ({ type: 'object', required: Object.keys(properties), properties });

/**
 * Success answers of the telemetry routes (JSON Schema), for the OpenAPI document's response
 * schemas; tests/integration/telemetry.test.ts validates real answers against them.
 */
export const TELEMETRY_RESPONSE_SCHEMAS = {
  telemetrySummary: all({
    from: time,
    to: time,
    executions: all({ started: count, completed: count, failed: { ...count, description: '`failed` and `timed_out`.' }, cancelled: count }),
    durationMs: all({ p50: ms, p95: ms }),
    cost: all({ tokens: { type: 'number', minimum: 0 }, usd }),
    workflows: {
      type: 'array',
      items: all({ workflow: { type: 'string' }, started: count, completed: count, failed: count, p50Ms: ms, p95Ms: ms, tokens: { type: 'number', minimum: 0 }, usd }),
    },
  }),
  telemetryWorkflowStats: all({
    workflow: { type: 'string' },
    from: time,
    to: time,
    steps: {
      type: 'array',
      items: all({
        stepId: { type: 'string' },
        runs: { ...count, description: 'Step runs with an outcome (not attempts).' },
        successRate: { type: 'number', minimum: 0, maximum: 1 },
        retries: count,
        recoveries: all({ skip: count, fallback: count, compensate: count }),
        p50Ms: ms,
        p95Ms: ms,
        p99Ms: ms,
      }),
    },
  }),
} as const satisfies Readonly<Record<string, JsonSchema>>;
