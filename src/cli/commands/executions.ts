/** @module cli/commands/executions — start, list, get, cancel, pause, resume, retry, signal, steps, attempts, events, logs, children of executions. */
import type { ExecutionStatus, ExecutionView, StartExecutionRequest } from '../../client/index.ts';
import { listCommand } from './builders.ts';
import { type Ctx, UsageError } from './common.ts';
import { type Columns, done, show } from './output.ts';
import type { Command, Flags } from './spec.ts';

const EXECUTION_KEYS = ['id', 'workflow', 'version', 'status', 'priority', 'currentSteps', 'labels', 'input', 'output', 'error', 'parentId', 'createdAt', 'startedAt', 'finishedAt', 'retryAttempt', 'lastSeq'];

export const showExecution = (c: Ctx, e: ExecutionView): void => show(c, e, EXECUTION_KEYS);


/** `--label k=v` flags as a map. */
export function labelsOf(values: readonly string[]): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const kv of values) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`--label must be key=value, not ${kv}`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** Flags of `start` and `run`. */
export const START_FLAGS: Flags = {
  input: { type: 'string', arg: 'JSON|@FILE', help: 'workflow input: JSON text, @file (a JSON file) or @- (stdin)' },
  version: { type: 'string', arg: 'N', help: 'definition version (default: latest)' },
  label: { type: 'string', multiple: true, arg: 'K=V', help: 'label of the execution' },
  'idempotency-key': { type: 'string', arg: 'KEY', help: 'the same key and request within 24 h returns the first execution' },
  direct: { type: 'boolean', help: 'durability none: no file I/O while it runs, lost if the server stops before it ends' },
  priority: { type: 'string', arg: 'N', help: 'priority -10..10 (default 0): its order when a concurrency limit queues it, higher first' },
};

/** The start request from START_FLAGS and `<workflow>`. */
export function startRequest(c: Ctx): StartExecutionRequest {
  const input = c.jsonValue('input');
  const version = c.int('version', 1);
  const labels = labelsOf(c.strs('label'));
  // Negative values are allowed (the server checks the range), so not c.int.
  const priority = c.str('priority');
  if (priority !== undefined && !/^-?\d+$/.test(priority)) throw new UsageError(`--priority must be an integer, not ${priority}`);
  return {
    workflow: c.arg(0, 'workflow'),
    ...(input === undefined ? {} : { input }),
    ...(version === undefined ? {} : { version }),
    ...(labels ? { labels } : {}),
    ...(c.bool('direct') ? { durability: 'none' as const } : {}),
    ...(priority === undefined ? {} : { priority: Number(priority) }),
  };
}

/** `--idempotency-key` as a client option. */
export function idempotency(c: Ctx): { idempotencyKey?: string } {
  const key = c.str('idempotency-key');
  return key === undefined ? {} : { idempotencyKey: key };
}

const start: Command = {
  name: 'start',
  args: '<workflow>',
  summary: 'start an execution (prints its id; --wait to answer with its state once it settles)',
  details: 'The start is durable before the reply. With --wait the reply comes when the execution finished or waits for a signal, or after the wait.',
  flags: { ...START_FLAGS, wait: { type: 'string', arg: 'DURATION', help: 'wait up to this long for it to finish or wait for a signal: 500ms, 5s, 2m (default: no wait)' } },
  async run(c) {
    const wait = c.duration('wait');
    const e = await c.client.executions.start(startRequest(c), { ...idempotency(c), ...(wait === undefined ? {} : { wait }) });
    if (c.json) c.out(JSON.stringify(e, null, 2));
    else c.out(`${e.id}  ${e.workflow} v${e.version}  ${e.status}`);
    return 0;
  },
};

const list = listCommand({
  name: 'list',
  summary: 'executions, newest first',
  flags: {
    status: { type: 'string', arg: 'S,S', help: 'only these statuses (comma list)' },
    workflow: { type: 'string', arg: 'W', help: 'only this workflow' },
    label: { type: 'string', multiple: true, arg: 'K=V', help: 'only executions with this label' },
    parent: { type: 'string', arg: 'ID', help: 'only children of this execution' },
  },
  columns: [['ID', 'id'], ['WORKFLOW', 'workflow'], ['VERSION', 'version'], ['STATUS', 'status'], ['CREATED', 'createdAt'], ['FINISHED', 'finishedAt']],
  list: (c, page) => {
    const status = c.str('status');
    const workflow = c.str('workflow');
    const parentId = c.str('parent');
    const labels = labelsOf(c.strs('label'));
    return c.client.executions.list({
      ...page,
      ...(status === undefined ? {} : { status: status.split(',') as ExecutionStatus[] }),
      ...(workflow === undefined ? {} : { workflow }),
      ...(parentId === undefined ? {} : { parentId }),
      ...(labels ? { labels } : {}),
    });
  },
});

const get: Command = {
  name: 'get',
  args: '<id>',
  summary: 'one execution',
  flags: { wait: { type: 'string', arg: 'DURATION', help: 'long poll: answer once it finished or waits for a signal, or after this long (at most 30s)' } },
  async run(c) {
    const wait = c.duration('wait');
    showExecution(c, await c.client.executions.get(c.arg(0, 'id'), wait === undefined ? {} : { wait }));
    return 0;
  },
};

/** An action on one execution: `<id>` plus its own flags. */
function action(name: string, summary: string, flags: Flags, act: (c: Ctx, id: string) => Promise<[what: string, answer: unknown]>, args = '<id>'): Command {
  return {
    name,
    args,
    summary,
    flags,
    async run(c) {
      const id = c.arg(0, 'id');
      const [what, answer] = await act(c, id);
      return done(c, id, what, answer);
    },
  };
}

const cancel = action('cancel', 'cancel a running execution (in-flight steps are aborted)', { reason: { type: 'string', arg: 'TEXT', help: 'why, kept in the event' } }, async (c, id) => [
  'cancel requested',
  await c.client.executions.cancel(id, c.str('reason')),
]);
const pause = action('pause', 'dispatch no new step until resume', {}, async (c, id) => ['pause requested', await c.client.executions.pause(id)]);
const resume = action('resume', 'resume a paused execution', {}, async (c, id) => ['resume requested', await c.client.executions.resume(id)]);
const retry = action(
  'retry',
  'retry a failed or timed-out execution from its failed step (or one failed step with --step)',
  { step: { type: 'string', arg: 'STEP', help: 'retry only this failed step' }, note: { type: 'string', arg: 'TEXT', help: 'note kept in the event' } },
  async (c, id) => {
    const step = c.str('step');
    if (step !== undefined) return [`step ${step} retry requested`, await c.client.executions.retryStep(id, step)];
    return ['retry requested', await c.client.executions.retry(id, c.str('note'))];
  },
);
const signal = action(
  'signal',
  'deliver a signal to the wait step for <name> (buffered until it is reached)',
  {
    payload: { type: 'string', arg: 'JSON|@FILE', help: 'the signal payload (default {})' },
    reject: { type: 'boolean', help: 'fail the wait step with signal_rejected instead' },
    reason: { type: 'string', arg: 'TEXT', help: 'why it was rejected' },
  },
  async (c, id) => {
    const name = c.arg(1, 'name');
    const reason = c.str('reason');
    const req = c.bool('reject') ? { reject: true, ...(reason === undefined ? {} : { reason }) } : { payload: c.jsonValue('payload') ?? {} };
    return [`signal ${name} sent`, await c.client.executions.signal(id, name, req)];
  },
  '<id> <name>',
);

/** Columns of step and task attempts. */
export const ATTEMPT_COLUMNS: Columns = [['ATTEMPT', 'attempt'], ['STATUS', 'status'], ['MS', 'durationMs'], ['AGENT', 'agentId'], ['STARTED', 'startedAt'], ['ERROR', 'error']];

const steps = listCommand({
  name: 'steps',
  args: '<id>',
  summary: 'steps of an execution',
  columns: [['STEP', 'stepId'], ['TYPE', 'type'], ['STATUS', 'status'], ['ATTEMPTS', 'attempts'], ['AGENT', 'agentId'], ['STARTED', 'startedAt'], ['FINISHED', 'finishedAt'], ['WAITING', 'waitingFor']],
  list: (c, page) => c.client.executions.steps(c.arg(0, 'id'), page),
});

const attempts = listCommand({
  name: 'attempts',
  args: '<id> <step>',
  summary: 'attempts of one step',
  columns: ATTEMPT_COLUMNS,
  list: (c, page) => c.client.executions.attempts(c.arg(0, 'id'), c.arg(1, 'step'), page),
});

const events = listCommand({
  name: 'events',
  args: '<id>',
  summary: 'journaled events of an execution, in order',
  flags: { since: { type: 'string', arg: 'SEQ', help: 'only events after this seq' } },
  columns: [['SEQ', 'seq'], ['TIME', 'timestamp'], ['TYPE', 'type'], ['STEP', 'stepId'], ['DATA', 'data']],
  list: (c, page) => {
    const since = c.int('since', 0);
    return c.client.executions.events(c.arg(0, 'id'), { ...page, ...(since === undefined ? {} : { since }) });
  },
});

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

const logs = listCommand({
  name: 'logs',
  args: '<id>',
  summary: 'log lines of an execution',
  flags: { level: { type: 'string', arg: 'L', help: 'this level and above: debug|info|warn|error' }, step: { type: 'string', arg: 'STEP', help: 'only this step' } },
  columns: [['TIME', 'timestamp'], ['LEVEL', 'level'], ['STEP', 'stepId'], ['MESSAGE', 'message']],
  list: (c, page) => {
    const level = c.str('level');
    if (level !== undefined && !(LEVELS as readonly string[]).includes(level)) throw new UsageError('--level must be debug|info|warn|error');
    const step = c.str('step');
    return c.client.executions.logs(c.arg(0, 'id'), {
      ...page,
      ...(level === undefined ? {} : { level: level as (typeof LEVELS)[number] }),
      ...(step === undefined ? {} : { stepId: step }),
    });
  },
});

const children = listCommand({
  name: 'children',
  args: '<id>',
  summary: 'child executions (workflow steps)',
  columns: [['ID', 'id'], ['WORKFLOW', 'workflow'], ['STATUS', 'status'], ['CREATED', 'createdAt']],
  list: (c, page) => c.client.executions.children(c.arg(0, 'id'), page),
});

/** The execution commands (top level: `actorflow start`, `actorflow list` …). */
export const EXECUTION_COMMANDS: readonly Command[] = [start, list, get, cancel, pause, resume, retry, signal, steps, attempts, events, logs, children];
