/** @module bulk/types — bulk operations (docs/api/bulk-operations.md): actions, requests, what they show, their live events and ids. */
import { ulid } from '../common/ids.ts';
import type { BulkAction, BulkError, BulkFilter } from '../store/types.ts';

export type { BulkAction, BulkError, BulkFilter };

export const BULK_ACTIONS = ['cancel', 'retry', 'pause', 'resume', 'signal'] as const satisfies readonly BulkAction[];

/** What a bulk operation shows: `running` until every matched execution has its outcome (or it is cancelled). */
export type BulkOperationStatus = 'running' | 'completed' | 'cancelled';

/** A new bulk operation. */
export interface BulkRequest {
  readonly action: BulkAction;
  readonly filter: BulkFilter;
  /** Required for `signal`, refused otherwise (the API checks). */
  readonly signal?: { readonly name: string; readonly payload?: unknown } | undefined;
  /** `cancel`'s reason and `retry`'s note, as their single routes take them. */
  readonly reason?: string | undefined;
}

/** A bulk operation (times as epoch ms). */
export interface BulkOperation {
  readonly id: string;
  readonly tenant: string;
  readonly action: BulkAction;
  readonly filter: BulkFilter;
  readonly status: BulkOperationStatus;
  readonly matched: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
  /** The first 100 failures. */
  readonly errors: readonly BulkError[];
  readonly createdAt: number;
  readonly finishedAt: number | null;
}

/** What a dry run would act on: the count and the first 20 ids (newest first). */
export interface BulkPreview {
  readonly matched: number;
  readonly sample: readonly string[];
}

/** Types of the live events of bulk operations (WebSocket firehose subscriptions that name them in `types`). */
export const BULK_EVENT_TYPES = ['bulk.progress', 'bulk.completed'] as const;
export type BulkEventType = (typeof BULK_EVENT_TYPES)[number];

/**
 * A bulk operation's progress (after a batch of outcomes is durable, at most every `PROGRESS_EVERY_MS`) and its
 * end (`bulk.completed`, `data.status` `completed` or `cancelled`). Not in any execution's log: no `seq`.
 */
export interface BulkEvent {
  readonly type: BulkEventType;
  readonly operationId: string;
  readonly tenant: string;
  /** The workflow its filter names, else null (workflow-filtered firehose subscriptions get it when it names theirs). */
  readonly workflow: string | null;
  /** RFC 3339. */
  readonly timestamp: string;
  readonly data: {
    readonly action: BulkAction;
    readonly status: BulkOperationStatus;
    readonly matched: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly skipped: number;
  };
}

const BULK_ID = /^bk_[0-9A-HJKMNP-TV-Z]{26}$/;

export const newBulkOperationId = (now: number): string => `bk_${ulid(now)}`;

/** True for `bk_` + ULID; anything else names no operation. */
export const isBulkOperationId = (raw: string): boolean => BULK_ID.test(raw);
