/**
 * @module cluster/shared-state/shared-stream — the replicated JetStream stream `actorflow-shared`: the
 * source of truth of the resources every node shares (definitions, templates, API keys, tenants,
 * schedules, webhooks), as one ordered log of small writes on subject `actorflow.shared`. Each node's
 * SQLite holds its copy, built by applying the log in order (shared-log.ts).
 */
import { RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { ensureStream } from '../streams.ts';

export const SHARED_STREAM = 'actorflow-shared';
export const SHARED_SUBJECT = 'actorflow.shared';

/** One write as it travels: which resource, its op, who wrote it and the id its writer waits on. */
export interface SharedEntry {
  /** The resource (`SharedResource`). */
  readonly r: string;
  /** The resource's op, as its applier takes it. */
  readonly o: unknown;
  /** The writer's node id. */
  readonly n: string;
  /** The write's id (also the publish's message id: a retried publish is deduped). */
  readonly i: string;
}

/** Creates the stream if absent (with the journal's replica count); refuses one that exists with another. */
export async function ensureSharedStream(jsm: JetStreamManager, replicas: number): Promise<void> {
  await ensureStream(jsm, {
    name: SHARED_STREAM,
    subjects: [SHARED_SUBJECT],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    // The whole history is the state: a node that joins later (or lost its disk) rebuilds from seq 1.
    deny_delete: true,
    deny_purge: true,
    // Dedupes a retried publish (same msg id) for this long.
    duplicate_window: 120_000_000_000,
  });
}
