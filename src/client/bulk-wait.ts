/** @module client/bulk-wait — following a bulk operation until it ends, by polling its counts. */
import type { BulkOperationView } from './bulk-types.ts';

export interface BulkWaitOptions {
  /** Time between two reads. @default 250 */
  readonly intervalMs?: number;
  /** Told every read, the last one included. */
  readonly onProgress?: (op: BulkOperationView) => void;
  /** Stops waiting (the operation goes on): rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

const DEFAULT_INTERVAL_MS = 250;

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Reads the operation until it is `completed` or `cancelled`; resolves with that last read. */
export async function waitForBulk(read: (id: string) => Promise<BulkOperationView>, id: string, o: BulkWaitOptions = {}): Promise<BulkOperationView> {
  for (;;) {
    const op = await read(id);
    o.onProgress?.(op);
    if (op.status !== 'running') return op;
    await pause(o.intervalMs ?? DEFAULT_INTERVAL_MS, o.signal);
  }
}
