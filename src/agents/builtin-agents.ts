/** @module agents/builtin-agents — echo, log, sleep, http, fail (docs/agents.md, "Built-in agents"). */
import { systemClock, timeoutSignal } from '../common/clock.ts';
import { ActorflowError } from '../common/errors.ts';
import { isRecord } from '../common/json.ts';
import type { AgentHandle, Bus, KindDefinitions, LogLevel, TaskContext, TaskHandler } from '../bus/types.ts';

const LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'warn', 'error']);

function obj(input: unknown): Record<string, unknown> {
  return isRecord(input) ? input : {};
}

/** Reports the input's `cost` ({ model?, tokens?, usd? } or a list of them) as the attempt's cost (telemetry demos and tests). */
function reportInputCost(ctx: TaskContext): void {
  const cost = obj(ctx.input).cost;
  for (const c of Array.isArray(cost) ? cost : cost === undefined ? [] : [cost]) {
    if (c === null || typeof c !== 'object' || Array.isArray(c)) continue;
    const o = obj(c);
    ctx.reportCost({
      ...(typeof o.model === 'string' ? { model: o.model } : {}),
      ...(typeof o.tokens === 'number' && Number.isFinite(o.tokens) ? { tokens: o.tokens } : {}),
      ...(typeof o.usd === 'number' && Number.isFinite(o.usd) ? { usd: o.usd } : {}),
    });
  }
}

/** Returns its input; reports the input's `cost` (see reportInputCost). */
const echo: TaskHandler = async (ctx) => {
  reportInputCost(ctx);
  return ctx.input;
};

const log: TaskHandler = async (ctx) => {
  const i = obj(ctx.input);
  const level = typeof i.level === 'string' && LEVELS.has(i.level) ? (i.level as LogLevel) : 'info';
  ctx.log(level, typeof i.message === 'string' ? i.message : '', i.data);
  return ctx.input;
};

function abortable(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ActorflowError('aborted', 'aborted'));
    // `ms` is the step's input: beyond Node's timer range it must not fire after 1 ms.
    const t = systemClock.setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (systemClock.clearTimeout(t), reject(new ActorflowError('aborted', 'aborted'))), { once: true });
  });
}

const sleep: TaskHandler = async (ctx) => {
  const ms = Number(obj(ctx.input).ms ?? 0);
  await abortable(Number.isFinite(ms) && ms > 0 ? ms : 0, ctx.signal);
  return ctx.input;
};

const http: TaskHandler = async (ctx: TaskContext) => {
  const i = obj(ctx.input);
  if (typeof i.url !== 'string') throw new ActorflowError('invalid_input', 'http agent needs a url', { retryable: false });
  // AbortSignal.timeout fires after 1 ms beyond Node's timer range: timeoutSignal chains instead.
  const timeout = timeoutSignal(typeof i.timeoutMs === 'number' ? i.timeoutMs : 10_000);
  try {
    return await request(i.url, i, ctx, timeout.signal);
  } finally {
    timeout.clear();
  }
};

async function request(url: string, i: Record<string, unknown>, ctx: TaskContext, timeout: AbortSignal): Promise<unknown> {
  const headers: Record<string, string> = { ...(obj(i.headers) as Record<string, string>) };
  // The called service joins the execution's trace (a traceparent in the input's headers wins).
  if (ctx.traceparent !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'traceparent')) {
    headers['traceparent'] = ctx.traceparent;
    if (ctx.tracestate !== undefined) headers['tracestate'] = ctx.tracestate;
  }
  let body: string | undefined;
  if (i.body !== undefined) {
    body = typeof i.body === 'string' ? i.body : JSON.stringify(i.body);
    if (typeof i.body !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const res = await fetch(url, {
    method: typeof i.method === 'string' ? i.method : 'GET',
    headers,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.any([timeout, ctx.signal]),
  });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (res.status >= 500 || res.status === 429) throw new ActorflowError('http_status', `HTTP ${res.status}`, { retryable: true });
  if (res.status >= 300) throw new ActorflowError('http_status', `HTTP ${res.status}`, { retryable: false });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: parsed };
}

/** Fails its first `times` attempts (every one by default); each attempt, failed or not, reports the input's `cost`. */
const fail: TaskHandler = async (ctx) => {
  const i = obj(ctx.input);
  reportInputCost(ctx);
  const times = typeof i.times === 'number' ? i.times : Infinity;
  if (ctx.attempt <= times) {
    throw new ActorflowError(typeof i.code === 'string' ? i.code : 'failed', typeof i.message === 'string' ? i.message : 'failed on purpose', {
      retryable: i.retryable !== false,
    });
  }
  return ctx.input;
};

export const BUILTIN_AGENTS: Readonly<Record<string, TaskHandler>> = { echo, log, sleep, http, fail };

/**
 * What `GET /task-definitions` says of the built-in kinds. Descriptions only: an `inputSchema` would be
 * checked on every dispatch, and these handlers read their input leniently (docs/agents.md).
 */
export const BUILTIN_DEFINITIONS: KindDefinitions = {
  echo: { description: 'Outputs its input; reports the input\'s `cost` as the attempt\'s cost.' },
  log: { description: 'Writes a step log line `{ level?, message, data? }` (level debug, info (default), warn or error); outputs its input.' },
  sleep: { description: 'Waits `{ ms }`, then outputs its input (not durable: a `sleep` step is).' },
  http: { description: 'Sends `{ url, method = GET, headers?, body?, timeoutMs = 10000 }`; outputs `{ status, headers, body }`. 5xx and 429 fail retryable, other answers from 300 up fail not retryable.' },
  fail: { description: 'Fails attempts 1 … `times` (every attempt without it) with `{ code = failed, message?, retryable = true }`, then outputs its input.' },
};

/** Serves every built-in kind on the bus, in this process. */
export function serveBuiltinAgents(bus: Bus, concurrency = 10_000): AgentHandle[] {
  return Object.entries(BUILTIN_AGENTS).map(([kind, handler]) => {
    const def = BUILTIN_DEFINITIONS[kind];
    return bus.serve({ name: `builtin-${kind}`, kinds: [kind], concurrency, version: '0.1.0', effectFree: kind !== 'http', ...(def === undefined ? {} : { definitions: { [kind]: def } }) }, handler);
  });
}
