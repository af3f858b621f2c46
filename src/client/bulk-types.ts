/** @module client/bulk-types — request and answer shapes of the `/bulk-operations` routes (docs/api/bulk-operations.md). */
import type { ExecutionStatus } from '../common/execution.ts';

export type BulkAction = 'cancel' | 'retry' | 'pause' | 'resume' | 'signal';
export type BulkOperationStatus = 'running' | 'completed' | 'cancelled';

/** The executions to act on, as `GET /executions` filters them; at least one criterion. */
export interface BulkFilter {
  readonly status?: readonly ExecutionStatus[];
  readonly workflow?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** RFC 3339, inclusive. */
  readonly createdAfter?: string;
  /** RFC 3339, exclusive. */
  readonly createdBefore?: string;
  /** At most 1,000 execution ids. */
  readonly ids?: readonly string[];
}

export interface CreateBulkOperationRequest {
  readonly action: BulkAction;
  readonly filter: BulkFilter;
  /** Required for `signal`. */
  readonly signal?: { readonly name: string; readonly payload?: unknown };
  /** `cancel`'s reason, `retry`'s note. */
  readonly reason?: string;
}

/** A created operation (202), or the one its idempotency key created (200). */
export interface BulkOperationAccepted {
  readonly id: string;
  readonly status: BulkOperationStatus;
  readonly matched: number;
}

/** What a dry run would act on. */
export interface BulkPreview {
  readonly matched: number;
  /** The first 20 ids, newest first. */
  readonly sample: readonly string[];
}

export interface BulkOperationView {
  readonly id: string;
  readonly action: BulkAction;
  readonly filter: BulkFilter;
  readonly status: BulkOperationStatus;
  readonly matched: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Executions whose state did not allow the action. */
  readonly skipped: number;
  /** The first 100 failures. */
  readonly errors: readonly { readonly executionId: string; readonly code: string }[];
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

/** A `bulk.progress` or `bulk.completed` event (WebSocket firehose subscriptions naming those types). */
export interface BulkEventView {
  readonly type: 'bulk.progress' | 'bulk.completed';
  readonly operationId: string;
  readonly tenant: string;
  readonly workflow: string | null;
  readonly timestamp: string;
  readonly data: Pick<BulkOperationView, 'action' | 'status' | 'matched' | 'succeeded' | 'failed' | 'skipped'>;
}
