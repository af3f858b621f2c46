/** @module api/resources/telemetry/routes — the route table of telemetry: execution summary and per-step stats of a workflow. */
// Named for the declaration emit (dist/*.d.ts): the inferred route types carry TypeBox's symbol keys.
import type { Hint, Kind, OptionalKind, ReadonlyKind } from '@sinclair/typebox';
import { ErrorCode } from '../../../common/errors.ts';
import { Type } from '@sinclair/typebox';
import { DEFAULT_BUCKETS, MAX_BUCKETS } from '../../../telemetry/series.ts';
import { dateTime, definitionName, inOrder, shape } from '../../routing/schemas.ts';
import type { RouteSpec } from '../../routing/route-spec.ts';

const windowQuery = shape({
  from: Type.Optional({ ...dateTime, description: 'Start of the window (inclusive), on execution creation time. @default `to` − 24 h' }),
  to: Type.Optional({ ...dateTime, description: 'End of the window (exclusive); must be after `from`. @default now' }),
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
    id: 'telemetrySeries',
    method: 'get',
    path: '/telemetry/series',
    summary:
      "The caller's workflow executions created in `[from, to)` over time, in `buckets` equal buckets of `bucketMs`: `started` counts those created in a bucket, " +
      '`completed`, `failed` (with `timed_out`) and `cancelled` those of them that ended in it (an end at or after `to` is in no bucket).',
    tag: 'ops',
    query: shape({
      ...windowQuery.properties,
      buckets: Type.Optional(inOrder(Type.Integer({ minimum: 1, maximum: MAX_BUCKETS, default: DEFAULT_BUCKETS, description: 'How many buckets the window is split into.' }))),
    }),
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
    params: shape({ name: definitionName }),
    paramNotFound: { name: ErrorCode.definitionNotFound },
    query: windowQuery,
    status: 200,
  },
] as const satisfies readonly RouteSpec[];
