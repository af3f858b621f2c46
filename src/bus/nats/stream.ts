/** @module bus/nats/stream — the JetStream work-queue stream of tasks; created by whichever side starts first. */
import { RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import type { Subjects } from './subjects.ts';

/**
 * Creates the stream with `replicas` (agents ask for 1), or raises an existing one's replicas to it: a
 * cluster's engines want the queue on 3 servers (it then outlives one), even if an agent created it first.
 */
export async function ensureTaskStream(jsm: JetStreamManager, s: Subjects, replicas = 1): Promise<void> {
  const info = await jsm.streams.info(s.stream).catch(() => null);
  if (info !== null) {
    if (info.config.num_replicas < replicas) await jsm.streams.update(s.stream, { num_replicas: replicas });
    return;
  }
  try {
    // duplicate_window: a re-dispatch with the same task id inside 2 minutes is dropped by the server.
    await jsm.streams.add({ name: s.stream, subjects: [s.tasksAll], retention: RetentionPolicy.Workqueue, storage: StorageType.File, duplicate_window: 120_000_000_000, num_replicas: replicas });
  } catch (err) {
    // Another process created it between our two calls.
    await jsm.streams.info(s.stream).catch(() => {
      throw err;
    });
  }
}
