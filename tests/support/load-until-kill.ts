/** @module tests/support/load-until-kill — clients start executions in a loop until a condition kills the server (crash tests). */
import type { Api } from './http.ts';

export interface LoadUntilKillOptions {
  readonly workflow: string;
  /** Concurrent clients, each one start at a time. */
  readonly clients: number;
  /** Checked after every acknowledged start; true kills the server (once). */
  readonly killWhen: (acked: readonly string[]) => boolean | Promise<boolean>;
  /** Kills the server process (SIGKILL). */
  readonly kill: () => Promise<void>;
}

/**
 * Starts executions (`input: { n }`) from `clients` concurrent loops until `killWhen` says so,
 * then kills the server; requests in flight at that moment may fail. Resolves with the ids the
 * server acknowledged (201) before it died: the ones that must survive.
 */
export async function loadUntilKill(http: Api, o: LoadUntilKillOptions): Promise<string[]> {
  const acked: string[] = [];
  let n = 0;
  let killed = false;
  const client = async () => {
    while (!killed) {
      try {
        const res = await http.post('/executions', { workflow: o.workflow, input: { n: n++ } });
        if (res.status === 201) acked.push(res.body.id as string);
        else throw new Error(`unexpected ${res.status}: ${res.text}`);
      } catch (err) {
        if (!killed) throw err;
      }
      if (!killed && (await o.killWhen(acked)) && !killed) {
        killed = true;
        await o.kill();
      }
    }
  };
  await Promise.all(Array.from({ length: o.clients }, client));
  return acked;
}
