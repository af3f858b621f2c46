/** @module cluster/errors — the failures of cluster mode, each with a stable snake_case code. */
import { ActorflowError, type ActorflowErrorOptions } from '../common/errors.ts';

export const ClusterErrorCode = {
  /** A partition's journal moved on without this writer (another owner appended): the append was refused; stop serving the partition. */
  partitionFenced: 'partition_fenced',
  /** An operation on a partition this node does not own (no lease, or the lease was lost). */
  partitionNotOwned: 'partition_not_owned',
  /** The cluster's JetStream journal did not acknowledge in time (no quorum, no connection): nothing is known to be kept; retryable. */
  journalUnavailable: 'journal_unavailable',
  /** A bucket or stream exists with settings that differ from this node's (e.g. another lease TTL or replica count). */
  clusterConfigMismatch: 'cluster_config_mismatch',
  /** A stored cluster record (config, snapshot) that this build cannot read. */
  clusterRecordInvalid: 'cluster_record_invalid',
} as const;
export type ClusterErrorCode = (typeof ClusterErrorCode)[keyof typeof ClusterErrorCode];

/** Carries the partition it concerns, when there is one. */
export class ClusterError extends ActorflowError {
  declare readonly code: ClusterErrorCode;
  readonly partition: number | undefined;
  constructor(code: ClusterErrorCode, message: string, options: ActorflowErrorOptions & { readonly partition?: number } = {}) {
    super(code, message, options);
    this.name = 'ClusterError';
    this.partition = options.partition;
  }
}
