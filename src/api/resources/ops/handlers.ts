/** @module api/resources/ops/handlers — /health, /ready, /status and the Prometheus /metrics. */
import type { Engine, EngineStatus } from '../../../engine/types.ts';
import { ActorflowError, ErrorCode } from '../../../common/errors.ts';
import { ExecutionStatus } from '../../../common/execution.ts';
import { DEFAULT_TENANT, Scope } from '../../auth/types.ts';
import { type Reply, json, text } from '../../http/reply.ts';
import type { ApiMetrics } from '../../observability/metrics.ts';
import type { HandlersOf, RouteHandler } from '../../routing/route-spec.ts';
import type { ClusterInfo } from '../../services.ts';
import type { METRICS_ROUTES, OPS_ROUTES } from './routes.ts';

export interface OpsDeps {
  readonly engine: Engine;
  /** Cluster mode only: this node and the cluster. */
  readonly cluster?: ClusterInfo | undefined;
  /** The package version `/health` answers. */
  readonly version: string;
  /** Epoch ms the server started at (`uptimeS`). */
  readonly startedAt: number;
}

/** The counts `/status` always answers (0 when none): the open statuses first, then every other one (docs/api/operations.md, "Status"). */
export const STATUS_COUNT_KEYS: readonly string[] = [...new Set(['pending', 'queued', 'running', 'waiting', 'paused', ...Object.values(ExecutionStatus)])];

/** Every key of STATUS_COUNT_KEYS (0 when absent), then any other status the store counted. */
function allCounts(counts: Readonly<Record<string, number>> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of STATUS_COUNT_KEYS) out[k] = counts?.[k] ?? 0;
  for (const [k, n] of Object.entries(counts ?? {})) out[k] ??= n;
  return out;
}

/** Handlers of the operations routes, keyed by route id. */
export function opsHandlers({ engine, cluster, version, startedAt }: OpsDeps) {
  const health = (): Reply => json(200, { status: 'ok', version, uptimeS: Math.floor((Date.now() - startedAt) / 1000) });
  const ready = (): Reply => {
    // 503 `not_ready` through the error table, like every other problem.
    if (!engine.ready) throw new ActorflowError(ErrorCode.notReady, 'The engine is not ready: recovery has not finished or the bus is reconnecting.');
    return json(200, { ready: true });
  };
  return {
    health: { handle: health },
    rootHealth: { handle: health },
    ready: { handle: ready },
    rootReady: { handle: ready },
    status: {
      // The caller's tenant only; admins of `default` (the operators) also get every tenant's figures.
      handle: async ({ ctx }) => {
        const operator = ctx.tenant === DEFAULT_TENANT && ctx.principal.scope === Scope.admin;
        const [own, all] = await Promise.all([engine.status(ctx.tenant), operator ? engine.status() : undefined]);
        return json(200, { ...tenantFigures(own), ...(all === undefined ? {} : { system: systemFigures(all) }), ...(cluster === undefined ? {} : { cluster: cluster.status() }) });
      },
    },
    cluster: {
      handle: () => {
        if (cluster === undefined) throw new ActorflowError(ErrorCode.notFound, 'this server is a single node: cluster mode is off (actorflow serve --cluster)');
        return json(200, cluster.view());
      },
    },
  } satisfies HandlersOf<typeof OPS_ROUTES>;
}

/** What a tenant may see: its counts, and the state of what every tenant shares (agents, bus, store). */
const tenantFigures = (s: EngineStatus) => ({
  executions: allCounts(s.executions),
  tasks: allCounts(s.tasks),
  stalled: s.stalled,
  queuedByWorkflow: s.queuedByWorkflow ?? {},
  agents: { online: s.agents.online, busy: s.agents.busy, offline: s.agents.offline },
  bus: s.bus,
  store: s.store,
});

/** Every tenant's counts, and every system-wide figure of the engine (executions in memory, journal commits…). */
function systemFigures(s: EngineStatus) {
  const { agents: _agents, bus: _bus, store: _store, ...figures } = s;
  return {
    ...figures,
    executions: allCounts(s.executions),
    tasks: allCounts(s.tasks),
    live: s.live ?? 0,
    queuedByWorkflow: s.queuedByWorkflow ?? {},
    journal: s.journal ?? { commits: 0, rows: 0, lastMs: 0 },
  };
}

/**
 * Handlers of `/metrics` and `/api/v1/metrics`: the figures of every tenant, so only for credentials of
 * tenant `default` (403 for others). Public metrics run as tenant `default` with no credential read.
 */
export function metricsHandlers(metrics: ApiMetrics) {
  const handle: RouteHandler['handle'] = async ({ ctx }): Promise<Reply> => {
    if (ctx.tenant !== DEFAULT_TENANT) throw new ActorflowError(ErrorCode.forbidden, `Metrics cover every tenant: they need a credential of tenant "${DEFAULT_TENANT}".`);
    return text(200, await metrics.render(), metrics.contentType);
  };
  return { metrics: { handle }, rootMetrics: { handle } } satisfies HandlersOf<typeof METRICS_ROUTES>;
}
