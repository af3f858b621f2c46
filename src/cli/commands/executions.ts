/** @module cli/commands/executions — start, list, get, cancel, pause, resume, retry, signal, steps, attempts, events, logs, children. */
import type { ExecutionStatus, ExecutionView } from '../../shared/execution.ts';
import { type Ctx, UsageError, context, details, intFlag, jsonFlag, need, printPage } from './common.ts';

const PAGE = { limit: { type: 'string' }, cursor: { type: 'string' } } as const;

function pageOpts(c: Ctx): { limit?: number; cursor?: string } {
  const limit = intFlag(c.values['limit'], 'limit', 1);
  const cursor = c.str('cursor');
  return { ...(limit === undefined ? {} : { limit }), ...(cursor === undefined ? {} : { cursor }) };
}

const EXECUTION_KEYS = ['id', 'workflow', 'version', 'status', 'currentSteps', 'labels', 'input', 'output', 'error', 'parentId', 'createdAt', 'startedAt', 'finishedAt', 'retryAttempt', 'lastSeq'];

function showExecution(c: Ctx, e: ExecutionView): void {
  c.out(c.json ? JSON.stringify(e, null, 2) : details(e as unknown as Record<string, unknown>, EXECUTION_KEYS));
}

function labelsOf(values: unknown): Record<string, string> | undefined {
  if (!Array.isArray(values) || values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const kv of values as string[]) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`--label must be key=value, not ${kv}`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

async function start(argv: string[]): Promise<number> {
  const c = context(argv, { input: { type: 'string' }, version: { type: 'string' }, label: { type: 'string', multiple: true }, 'idempotency-key': { type: 'string' } });
  const workflow = need(c.positionals, 0, 'workflow');
  const input = jsonFlag(c.values['input'], 'input');
  const version = intFlag(c.values['version'], 'version', 1);
  const labels = labelsOf(c.values['label']);
  const key = c.str('idempotency-key');
  const e = await c.client.executions.start(
    { workflow, ...(input === undefined ? {} : { input }), ...(version === undefined ? {} : { version }), ...(labels ? { labels } : {}) },
    key === undefined ? {} : { idempotencyKey: key },
  );
  if (c.json) c.out(JSON.stringify(e, null, 2));
  else c.out(`${e.id}  ${e.workflow} v${e.version}  ${e.status}`);
  return 0;
}

async function list(argv: string[]): Promise<number> {
  const c = context(argv, { ...PAGE, status: { type: 'string' }, workflow: { type: 'string' }, label: { type: 'string', multiple: true }, parent: { type: 'string' } });
  const status = c.str('status');
  const workflow = c.str('workflow');
  const parentId = c.str('parent');
  const labels = labelsOf(c.values['label']);
  const page = await c.client.executions.list({
    ...pageOpts(c),
    ...(status === undefined ? {} : { status: status.split(',') as ExecutionStatus[] }),
    ...(workflow === undefined ? {} : { workflow }),
    ...(parentId === undefined ? {} : { parentId }),
    ...(labels ? { labels } : {}),
  });
  printPage(c, page, [['ID', 'id'], ['WORKFLOW', 'workflow'], ['VERSION', 'version'], ['STATUS', 'status'], ['CREATED', 'createdAt'], ['FINISHED', 'finishedAt']]);
  return 0;
}

async function get(argv: string[]): Promise<number> {
  const c = context(argv);
  showExecution(c, await c.client.executions.get(need(c.positionals, 0, 'id')));
  return 0;
}

function accepted(c: Ctx, id: string, what: string, r: unknown): number {
  c.out(c.json ? JSON.stringify(r ?? { id }, null, 2) : `${id}: ${what}`);
  return 0;
}

async function cancel(argv: string[]): Promise<number> {
  const c = context(argv, { reason: { type: 'string' } });
  const id = need(c.positionals, 0, 'id');
  return accepted(c, id, 'cancel requested', await c.client.executions.cancel(id, c.str('reason')));
}

async function pause(argv: string[]): Promise<number> {
  const c = context(argv);
  const id = need(c.positionals, 0, 'id');
  return accepted(c, id, 'pause requested', await c.client.executions.pause(id));
}

async function resume(argv: string[]): Promise<number> {
  const c = context(argv);
  const id = need(c.positionals, 0, 'id');
  return accepted(c, id, 'resume requested', await c.client.executions.resume(id));
}

async function retry(argv: string[]): Promise<number> {
  const c = context(argv, { step: { type: 'string' }, note: { type: 'string' } });
  const id = need(c.positionals, 0, 'id');
  const step = c.str('step');
  if (step !== undefined) return accepted(c, id, `step ${step} retry requested`, await c.client.executions.retryStep(id, step));
  return accepted(c, id, 'retry requested', await c.client.executions.retry(id, c.str('note')));
}

async function signal(argv: string[]): Promise<number> {
  const c = context(argv, { payload: { type: 'string' }, reject: { type: 'boolean' }, reason: { type: 'string' } });
  const id = need(c.positionals, 0, 'id');
  const name = need(c.positionals, 1, 'signal');
  const payload = jsonFlag(c.values['payload'], 'payload');
  const reason = c.str('reason');
  const req = c.values['reject'] === true ? { reject: true, ...(reason === undefined ? {} : { reason }) } : { payload: payload ?? {} };
  return accepted(c, id, `signal ${name} sent`, await c.client.executions.signal(id, name, req));
}

async function steps(argv: string[]): Promise<number> {
  const c = context(argv, PAGE);
  const page = await c.client.executions.steps(need(c.positionals, 0, 'id'), pageOpts(c));
  printPage(c, page, [['STEP', 'stepId'], ['TYPE', 'type'], ['STATUS', 'status'], ['ATTEMPTS', 'attempts'], ['AGENT', 'agentId'], ['STARTED', 'startedAt'], ['FINISHED', 'finishedAt'], ['WAITING', 'waitingFor']]);
  return 0;
}

async function attempts(argv: string[]): Promise<number> {
  const c = context(argv, PAGE);
  const page = await c.client.executions.attempts(need(c.positionals, 0, 'id'), need(c.positionals, 1, 'stepId'), pageOpts(c));
  printPage(c, page, [['ATTEMPT', 'attempt'], ['STATUS', 'status'], ['MS', 'durationMs'], ['AGENT', 'agentId'], ['STARTED', 'startedAt'], ['ERROR', 'error']]);
  return 0;
}

async function events(argv: string[]): Promise<number> {
  const c = context(argv, { ...PAGE, since: { type: 'string' } });
  const since = intFlag(c.values['since'], 'since', 0);
  const page = await c.client.executions.events(need(c.positionals, 0, 'id'), { ...pageOpts(c), ...(since === undefined ? {} : { since }) });
  printPage(c, page, [['SEQ', 'seq'], ['TIME', 'timestamp'], ['TYPE', 'type'], ['STEP', 'stepId'], ['DATA', 'data']]);
  return 0;
}

async function logs(argv: string[]): Promise<number> {
  const c = context(argv, { ...PAGE, level: { type: 'string' }, step: { type: 'string' } });
  const level = c.str('level');
  if (level !== undefined && !['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError('--level must be debug|info|warn|error');
  const step = c.str('step');
  const page = await c.client.executions.logs(need(c.positionals, 0, 'id'), {
    ...pageOpts(c),
    ...(level === undefined ? {} : { level: level as 'debug' }),
    ...(step === undefined ? {} : { stepId: step }),
  });
  printPage(c, page, [['TIME', 'timestamp'], ['LEVEL', 'level'], ['STEP', 'stepId'], ['MESSAGE', 'message']]);
  return 0;
}

async function children(argv: string[]): Promise<number> {
  const c = context(argv, PAGE);
  const page = await c.client.executions.children(need(c.positionals, 0, 'id'), pageOpts(c));
  printPage(c, page, [['ID', 'id'], ['WORKFLOW', 'workflow'], ['STATUS', 'status'], ['CREATED', 'createdAt']]);
  return 0;
}

/** The execution commands by name. */
export const executionCommands: Readonly<Record<string, (argv: string[]) => Promise<number>>> = {
  start,
  list,
  get,
  cancel,
  pause,
  resume,
  retry,
  signal,
  steps,
  attempts,
  events,
  logs,
  children,
};
