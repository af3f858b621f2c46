/** @module api/handlers — the handler of every route of api/routes.ts, each resource's built from the injected services and the server's own parts. */
// Named for the declaration emit (dist/*.d.ts): the inferred route types carry TypeBox's symbol keys.
import type { Hint, Kind, OptionalKind, ReadonlyKind } from '@sinclair/typebox';
import type { Gate } from './auth/gate.ts';
import type { ApiMetrics } from './observability/metrics.ts';
import { adminHandlers } from './resources/admin/handlers.ts';
import { agentTasksHandlers } from './resources/agent-tasks/handlers.ts';
import { agentsHandlers } from './resources/agents/handlers.ts';
import { bulkOperationsHandlers } from './resources/bulk-operations/handlers.ts';
import { definitionsHandlers } from './resources/definitions/handlers.ts';
import { documentsHandlers } from './resources/documents/handlers.ts';
import { executionsHandlers } from './resources/executions/handlers.ts';
import { graphqlHandlers } from './resources/graphql/handlers.ts';
import { metricsHandlers, opsHandlers } from './resources/ops/handlers.ts';
import { schedulesHandlers } from './resources/schedules/handlers.ts';
import { taskDefinitionsHandlers } from './resources/task-definitions/handlers.ts';
import { tasksHandlers } from './resources/tasks/handlers.ts';
import { telemetryHandlers } from './resources/telemetry/handlers.ts';
import { templatesHandlers } from './resources/templates/handlers.ts';
import { tenantsHandlers } from './resources/tenants/handlers.ts';
import { webhooksHandlers } from './resources/webhooks/handlers.ts';
import type { RouteId } from './routes.ts';
import type { OpenApiDocument } from './routing/openapi.ts';
import type { RouteHandler } from './routing/route-spec.ts';
import type { ApiServices } from './services.ts';
import { dashboardHandlers } from './static/dashboard-handlers.ts';
import { referenceHandlers } from './static/reference-handlers.ts';
import type { Streams } from './streams/create-streams.ts';

export interface HandlerParts {
  readonly services: ApiServices;
  /** Its key ring and audit log serve the admin routes. */
  readonly gate: Gate;
  readonly version: string;
  readonly startedAt: number;
  readonly openapi: OpenApiDocument;
  readonly metrics: ApiMetrics;
  readonly streams: Streams;
}

/** Every route's handler; `satisfies` proves none is missing. */
export function routeHandlers(p: HandlerParts) {
  const { engine, scheduler, webhooks, httpAgents, tasks, telemetry, graphql, tenants, templates } = p.services;
  return {
    ...adminHandlers({ keys: p.gate.keys, audit: p.gate.audit, tenants }),
    ...tenantsHandlers({ tenants, engine }),
    ...referenceHandlers(p.openapi),
    ...dashboardHandlers(),
    ...metricsHandlers(p.metrics),
    ...definitionsHandlers({ engine }),
    ...templatesHandlers({ templates }),
    ...executionsHandlers({ engine, templates }),
    ...opsHandlers({ engine, cluster: p.services.cluster, version: p.version, startedAt: p.startedAt }),
    ...agentsHandlers({ engine, httpAgents }),
    ...agentTasksHandlers(httpAgents),
    ...taskDefinitionsHandlers({ engine }),
    ...graphqlHandlers({ graphql }),
    ...schedulesHandlers({ engine, scheduler }),
    ...tasksHandlers(tasks),
    ...webhooksHandlers({ engine, webhooks }),
    ...documentsHandlers(p.services.documents),
    ...bulkOperationsHandlers(p.services.bulk),
    ...telemetryHandlers({ engine, telemetry, clock: { now: () => Date.now() } }),
    ...p.streams.handlers,
  } satisfies Record<RouteId, RouteHandler>;
}
