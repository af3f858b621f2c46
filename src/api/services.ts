/** @module api/services — what the API serves: built once by the composition root (src/cli/serve.ts) and handed to the server. */
import type { BulkOperations } from '../bulk/bulk-service.ts';
import type { Documents } from '../documents/document-service.ts';
import type { Engine } from '../engine/types.ts';
import type { GraphqlApi } from '../graphql/create-graphql.ts';
import type { HttpAgents } from '../http-agents/types.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import type { Tasks } from '../tasks/task-service.ts';
import type { TelemetryService } from '../telemetry/telemetry-service.ts';
import type { Templates } from '../templates/template-service.ts';
import type { TenantRegistry } from '../tenants/tenant-registry.ts';
import type { WebhookDispatcher } from '../webhooks/types.ts';
import type { ClusterNode } from '../cluster/cluster-node.ts';

/** What the API reads of a cluster node. */
export type ClusterInfo = Pick<ClusterNode, 'status' | 'view'>;

export interface ApiServices {
  readonly engine: Engine;
  /** Schedules (`/schedules` routes). */
  readonly scheduler: Scheduler;
  /** Versioned documents (`/documents` routes); flows save theirs through the engine. */
  readonly documents: Documents;
  /** Bulk operations (`/bulk-operations` routes); their progress goes out on the WebSocket firehose. */
  readonly bulk: BulkOperations;
  /** Outbound webhooks (`/webhooks` routes) and inbound hooks. */
  readonly webhooks: WebhookDispatcher;
  /** HTTP push agents (`/agents/http`, `/agent-tasks` routes). */
  readonly httpAgents: HttpAgents;
  /** Standalone tasks (`/tasks` routes). */
  readonly tasks: Tasks;
  /** Read-only aggregates of the journal (`/telemetry/*` routes). */
  readonly telemetry: TelemetryService;
  /** The read-only GraphQL executor (`/graphql` routes). */
  readonly graphql: GraphqlApi;
  /** Workflow templates (`/workflow-templates` routes; starts with `{ template, params }`). */
  readonly templates: Templates;
  /** Tenants and their quotas (`/tenants` routes; keys may only name one of them). */
  readonly tenants: TenantRegistry;
  /** Cluster mode only: this node and the cluster (`GET /cluster`, the `cluster` figures of `/status`). */
  readonly cluster?: ClusterInfo;
}
