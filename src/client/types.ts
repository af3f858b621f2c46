/** @module client/types — request and response shapes of the API beyond the shared views. */
import type { ExecutionStatus } from '../shared/execution.ts';

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface ListOptions {
  readonly limit?: number;
  readonly cursor?: string;
}

export interface StartExecutionRequest {
  readonly workflow?: string;
  readonly version?: number;
  readonly input?: unknown;
  readonly labels?: Readonly<Record<string, string>>;
  readonly idempotencyKey?: string;
  /** A one-off flow document instead of `workflow`. */
  readonly definition?: Readonly<Record<string, unknown>>;
}

export interface ListExecutionsOptions extends ListOptions {
  /** One status or several. */
  readonly status?: ExecutionStatus | readonly ExecutionStatus[];
  readonly workflow?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly parentId?: string;
  readonly createdAfter?: string;
  readonly createdBefore?: string;
}

export interface UpdateExecutionRequest {
  readonly labels?: Readonly<Record<string, string>>;
  readonly context?: Readonly<Record<string, unknown>>;
}

export interface SignalRequest {
  readonly payload?: unknown;
  readonly reject?: boolean;
  readonly reason?: string;
}

/** The answer of an action on an execution (202). */
export type Accepted = Record<string, unknown>;

export interface ChildView {
  id: string;
  workflow: string;
  status: ExecutionStatus;
  createdAt: string;
}

export interface CostsView {
  total: { tokens: number; usd: number };
  steps: { stepId: string; attempt: number; model: string | null; tokens: number; usd: number }[];
}

export interface ValidationResult {
  valid: boolean;
}

export interface AgentView {
  id: string;
  name: string;
  kinds: string[];
  status: 'online' | 'busy' | 'offline';
  capacity: number;
  inFlight: number;
  lastHeartbeatAt: string | null;
  version: string | null;
  stats?: { completed: number; failed: number; failureRate: number; p50Ms: number | null };
}

export type Scope = 'read' | 'write' | 'admin';

export interface CreateApiKeyRequest {
  readonly name: string;
  readonly tenant?: string;
  readonly scopes: readonly Scope[];
  readonly rateLimit?: { readonly rps: number; readonly burst: number };
}

export interface ApiKeyView {
  id: string;
  name: string;
  tenant: string;
  scopes: Scope[];
  createdAt?: string;
  [k: string]: unknown;
}

export interface CreatedApiKey extends ApiKeyView {
  key: string;
}

export interface AuditEntry {
  at: string;
  keyId: string | null;
  tenant: string;
  method: string;
  route: string;
  targetId: string | null;
  status: number;
  requestId: string;
}

export interface HealthView {
  status: 'ok';
  version: string;
  uptimeS: number;
}

export interface StatusView {
  executions: Record<string, number>;
  stalled: number;
  agents: Record<string, number>;
  bus: unknown;
  store: unknown;
  [k: string]: unknown;
}
