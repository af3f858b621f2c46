/** @module api/routes — every REST route, in the order of the OpenAPI document: one data object per route (validation and OpenAPI share it). */
// Named for the declaration emit (dist/*.d.ts): the inferred route types carry TypeBox's symbol keys.
import type { Hint, Kind, OptionalKind, ReadonlyKind } from '@sinclair/typebox';
import { DASHBOARD_ROUTES } from './static/dashboard-routes.ts';
import { REFERENCE_ROUTES } from './static/reference-routes.ts';
import { ADMIN_ROUTES } from './resources/admin/routes.ts';
import { AGENT_TASK_ROUTES } from './resources/agent-tasks/routes.ts';
import { AGENT_ROUTES } from './resources/agents/routes.ts';
import { BULK_OPERATION_ROUTES } from './resources/bulk-operations/routes.ts';
import { DEFINITION_ROUTES } from './resources/definitions/routes.ts';
import { DOCUMENT_ROUTES } from './resources/documents/routes.ts';
import { EXECUTION_ROUTES } from './resources/executions/routes.ts';
import { GRAPHQL_ROUTES } from './resources/graphql/routes.ts';
import { METRICS_ROUTES, OPS_ROUTES } from './resources/ops/routes.ts';
import { SCHEDULE_ROUTES } from './resources/schedules/routes.ts';
import { TASK_DEFINITION_ROUTES } from './resources/task-definitions/routes.ts';
import { TASK_ROUTES } from './resources/tasks/routes.ts';
import { TEMPLATE_ROUTES } from './resources/templates/routes.ts';
import { TELEMETRY_ROUTES } from './resources/telemetry/routes.ts';
import { TENANT_ROUTES } from './resources/tenants/routes.ts';
import { WEBHOOK_ROUTES } from './resources/webhooks/routes.ts';
import type { RouteSpec } from './routing/route-spec.ts';

/** Every REST route (WebSocket routes are in api/streams/ws/upgrade.ts). */
export const ROUTES = [
  ...DEFINITION_ROUTES,
  ...TEMPLATE_ROUTES,
  ...EXECUTION_ROUTES,
  ...AGENT_ROUTES,
  ...AGENT_TASK_ROUTES,
  ...TASK_DEFINITION_ROUTES,
  ...OPS_ROUTES,
  ...SCHEDULE_ROUTES,
  ...TASK_ROUTES,
  ...WEBHOOK_ROUTES,
  ...DOCUMENT_ROUTES,
  ...BULK_OPERATION_ROUTES,
  ...ADMIN_ROUTES,
  ...TENANT_ROUTES,
  ...REFERENCE_ROUTES,
  ...METRICS_ROUTES,
  ...DASHBOARD_ROUTES,
  ...TELEMETRY_ROUTES,
  ...GRAPHQL_ROUTES,
] as const satisfies readonly RouteSpec[];

export type RouteId = (typeof ROUTES)[number]['id'];
