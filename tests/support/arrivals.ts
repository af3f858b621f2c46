/** @module tests/support/arrivals — what the local HTTP receivers of the tests (webhooks, HTTP push agents) share. */
import type { Server, ServerResponse } from 'node:http';

/**
 * Waits on what a receiver has received: `arrived()` after every request wakes the waiters; `waitFor`
 * resolves once `items()` holds at least `n`, or rejects naming what came after `timeoutMs`.
 */
export function arrivals() {
  const waiters = new Set<() => void>();
  return {
    arrived: (): void => {
      for (const w of [...waiters]) w();
    },
    waitFor: <T>(items: () => T[], n: number, what: string, timeoutMs: number): Promise<T[]> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (items().length < n) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(items());
        };
        const timer = setTimeout(() => (waiters.delete(check), reject(new Error(`receiver: ${items().length}/${n} ${what}`))), timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

/** Ends held answers and open connections, then closes the server. */
export async function closeReceiver(server: Server, held: Iterable<ServerResponse>): Promise<void> {
  for (const res of held) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
