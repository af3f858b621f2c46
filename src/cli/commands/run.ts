/** @module cli/commands/run — `actorflow run <workflow>`: start, wait for the result, print the output. */
import { ActorflowExecutionError, type ExecutionResult } from '../../client/index.ts';
import { type Ctx, ExitCode } from './common.ts';
import { START_FLAGS, idempotency, startRequest } from './executions.ts';
import type { Command } from './spec.ts';

const DEFAULT_TIMEOUT = '30s';

const pretty = (v: unknown) => JSON.stringify(v ?? null, null, 2);

/** What a run that did not complete (yet) tells on stderr, with the command to go on. */
function unfinished(c: Ctx, r: Exclude<ExecutionResult, { state: 'completed' }>, timeout: string): number {
  const { id, status } = r.execution;
  if (r.state === 'waiting') {
    const signal = r.signals[0] ?? '<name>';
    c.err(`${id} is waiting for signal ${r.signals.join(', ') || '(unknown)'}; send it with: actorflow signal ${id} ${signal} --payload JSON`);
  } else c.err(`${id} has not finished after ${timeout} (status ${status}); follow it with: actorflow watch ${id}`);
  return ExitCode.unfinished;
}

export const runCommand: Command = {
  name: 'run',
  args: '<workflow>',
  summary: 'start an execution, wait for it and print its output',
  details: `Prints the output as JSON on stdout (--json: the whole execution). Exits 0 when it completed;
5 when it failed, was cancelled or timed out (the error on stderr); 6 when it still runs at --timeout
or waits for a signal (its id on stderr, to go on with \`actorflow watch\` or \`actorflow signal\`).`,
  flags: { ...START_FLAGS, timeout: { type: 'string', arg: 'DURATION', help: `how long to wait for the result: 500ms, 45s, 5m (default ${DEFAULT_TIMEOUT})` } },
  async run(c) {
    const timeout = c.duration('timeout') ?? DEFAULT_TIMEOUT;
    let r: ExecutionResult;
    try {
      r = await c.client.executions.run(startRequest(c), { timeout, ...idempotency(c) });
    } catch (err) {
      if (!(err instanceof ActorflowExecutionError)) throw err;
      if (c.json) c.out(pretty(err.execution));
      const step = err.error?.stepId;
      c.err(`actorflow: ${err.message}\n  see: actorflow ${step ? `attempts ${err.execution.id} ${step}` : `events ${err.execution.id}`}`);
      return ExitCode.executionFailed;
    }
    if (c.json) c.out(pretty(r.execution));
    else if (r.state === 'completed') c.out(pretty(r.output));
    return r.state === 'completed' ? ExitCode.ok : unfinished(c, r, c.str('timeout') ?? DEFAULT_TIMEOUT);
  },
};
