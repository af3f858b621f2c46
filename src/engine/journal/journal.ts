/**
 * @module engine/journal/journal — where executions' histories become durable. The engine writes and reads
 * its journal only through this interface: single-node mode puts it in SQLite (the Store), cluster
 * mode can put it on a replicated JetStream stream per partition without touching the engine.
 */
import type { EventRecord } from '../../common/execution.ts';
import type { CommitBatch, RecoverableRow, StepEventData, Store } from '../../store/types.ts';

export interface Journal {
  /** Appends one group commit (events, execution rows, snapshots) atomically; resolves once durable, rejects and keeps nothing when it fails. */
  append(batch: CommitBatch): Promise<void>;
  /** Events of an execution with seq greater than `afterSeq`, in seq order, at most `limit`. */
  readSince(executionId: string, afterSeq: number, limit: number): Promise<EventRecord[]>;
  /** What an execution is rebuilt from: its row and its latest snapshot (one read). */
  loadRestorable(executionId: string): Promise<RecoverableRow | undefined>;
  /** Each step's latest `workflow.step.completed` and `workflow.step.started` event data up to `uptoSeq`: the values a snapshot left to the journal. */
  loadStepEvents(executionId: string, uptoSeq: number): Promise<StepEventData>;
  /**
   * It keeps a batch's `inputs` and gives them back with `loadRestorable`: executions of flow documents then write a
   * snapshot only every few dozen inputs and are restored by replay. Without it, a snapshot goes with every commit.
   */
  readonly keepsInputs?: boolean;
}

/** The journal of single-node mode: the SQLite store's transaction, events table and snapshots table. */
export function storeJournal(store: Store): Journal {
  return {
    append: (batch) => store.commit(batch),
    readSince: (executionId, afterSeq, limit) => store.listEvents(executionId, afterSeq, limit),
    loadRestorable: (executionId) => store.getRecoverable(executionId),
    loadStepEvents: (executionId, uptoSeq) => store.stepEventData(executionId, uptoSeq),
    keepsInputs: true,
  };
}

/** What a new execution's id should share a partition with (cluster mode; single-node mode ignores it). */
export interface IdHint {
  readonly tenant: string;
  /** A child execution: its parent's id (the child runs where the parent does). */
  readonly parentId: string | null;
  /** The start's idempotency key as stored (a task's carries its prefix): one key, one partition. */
  readonly idempotencyKey: string | null;
  /**
   * The concurrency group of a limited workflow's start (`concurrencyPlacement`): every execution of one
   * group lives in one partition, so the one gate of that partition's owner counts them all.
   */
  readonly group: string | null;
}

/** The placement key of a limited workflow's concurrency group (tenant aside: partitions hash it with the tenant). */
export function concurrencyPlacement(workflow: string, key: string): string {
  return `\u0000concurrency\u0000${workflow}\u0000${key}`;
}

/**
 * Cluster mode: which executions this node runs (the partitions it owns and has caught up) and where
 * new ones go. Without it (single-node mode) every execution is this node's. The engine knows nothing
 * of partitions or NATS: it asks these two questions and is told to adopt or drop (PartitionControl).
 */
export interface Ownership {
  /** True while this node runs the execution: restores (recovery, rebuilds, inputs) of any other are refused. */
  owns(executionId: string): boolean;
  /** An id made by `make` (called as often as needed) that this node runs. Throws a retryable error when there is none. */
  newId(make: () => string, hint: IdHint): string;
}

/** Cluster mode: how the node hands executions to and from its engine when ownership moves. */
export interface PartitionControl {
  /** Restores the unfinished executions matched (and now owned), as the boot recovery does; the store must hold their journal first. */
  adopt(match: (executionId: string) => boolean): Promise<number>;
  /** Stops every live execution matched without writing anything (another node runs them now); returns how many. */
  drop(match: (executionId: string) => boolean): number;
  /** Events another node committed, now in this node's store: told to this engine's listeners (streams, `?wait=`). */
  announce(batch: CommitBatch): void;
}
