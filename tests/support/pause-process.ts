/**
 * @module tests/support/pause-process — SIGSTOP that has taken effect. `kill(pid, SIGSTOP)` returns
 * before the process stops: the group stop runs when one of its threads is next scheduled, and on a
 * loaded 2-core machine its other threads may go on serving for milliseconds (a paused nats-server
 * once acknowledged a publish sent after the signal). Tests that rely on "nothing answers now" wait
 * until every thread is in state T.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { pollUntil } from './wait.ts';

function allThreadsStopped(pid: number): boolean {
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name (which may itself hold spaces or parentheses).
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state !== 'T' && state !== 't') return false;
  }
  return true;
}

/** Sends SIGSTOP to each process and resolves once all their threads are stopped. */
export async function pauseProcesses(children: readonly ChildProcess[], timeoutMs = 5000): Promise<void> {
  for (const c of children) {
    if (c.pid === undefined || !c.kill('SIGSTOP')) throw new Error('cannot pause a process that is not running');
  }
  await pollUntil(async () => (children.every((c) => allThreadsStopped(c.pid!)) ? true : undefined), 'processes stopped (SIGSTOP)', timeoutMs, 1);
}
