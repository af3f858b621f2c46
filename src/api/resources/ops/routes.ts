/** @module api/resources/ops/routes — the route table of operations: liveness, readiness, status and the Prometheus metrics. */
import type { RouteSpec } from '../../routing/route-spec.ts';

export const OPS_ROUTES = [
  { id: 'health', method: 'get', path: '/health', auth: 'none', summary: 'Liveness: `{ status, version, uptimeS }`.', tag: 'ops', status: 200 },
  { id: 'ready', method: 'get', path: '/ready', auth: 'none', summary: 'Readiness: 200 `{ ready: true }` or 503 `not_ready`.', tag: 'ops', status: 200 },
  { id: 'status', method: 'get', path: '/status', summary: "Counts of the caller's tenant (executions and tasks by status, every status present, 0 when none; stalled steps), agents, bus, store. Admins of tenant `default` also get the whole server's figures under `system`.", tag: 'ops', status: 200 },
  {
    id: 'cluster',
    method: 'get',
    path: '/cluster',
    summary: 'Cluster mode: the live nodes, every partition with its owner and the age of its lease, and this node (partitions it serves, journal lag of its read model, forwarded commands). 404 `not_found` on a single node.',
    tag: 'ops',
    status: 200,
  },
  { id: 'rootHealth', method: 'get', path: '/health', root: true, auth: 'none', summary: 'Liveness (outside the base path).', tag: 'ops', status: 200 },
  { id: 'rootReady', method: 'get', path: '/ready', root: true, auth: 'none', summary: 'Readiness (outside the base path).', tag: 'ops', status: 200 },
] as const satisfies readonly RouteSpec[];

export const METRICS_ROUTES = [
  {
    id: 'metrics',
    method: 'get',
    path: '/metrics',
    summary:
      'Prometheus text of the whole server: executions, steps, durations, HTTP latency, streams, journal commits, WAL size, event-loop lag. ' +
      'Needs a credential of tenant `default` (`read` is enough; other tenants get 403), or none with `ACTORFLOW_METRICS_PUBLIC=1`.',
    tag: 'ops',
    status: 200,
    produces: 'prometheus',
  },
  {
    id: 'rootMetrics',
    method: 'get',
    path: '/metrics',
    root: true,
    summary: 'Prometheus metrics (outside the base path, where scrapers look by default); the same access rule as `/api/v1/metrics`.',
    tag: 'ops',
    status: 200,
    produces: 'prometheus',
  },
] as const satisfies readonly RouteSpec[];

/** Ids of the metrics routes: `auth: 'none'` when metrics are public. */
export const METRICS_ROUTE_IDS: ReadonlySet<string> = new Set(['metrics', 'rootMetrics']);
