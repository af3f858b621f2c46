/** @module bus/nats/stream — the JetStream work-queue stream of tasks; created by whichever side starts first. */
import { RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import type { Subjects } from './subjects.ts';

export async function ensureTaskStream(jsm: JetStreamManager, s: Subjects): Promise<void> {
  try {
    await jsm.streams.info(s.stream);
  } catch {
    try {
      // duplicate_window: a re-dispatch with the same task id inside 2 minutes is dropped by the server.
      await jsm.streams.add({ name: s.stream, subjects: [s.tasksAll], retention: RetentionPolicy.Workqueue, storage: StorageType.File, duplicate_window: 120_000_000_000 });
    } catch (err) {
      // Another process created it between our two calls.
      await jsm.streams.info(s.stream).catch(() => {
        throw err;
      });
    }
  }
}
